package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/telemetry"
	"github.com/lakerelay/lakerelay/partition"
)

// tempPrefix starts the names of the temporary files a [DirStore] writes
// before renaming them into place. Keys whose last segment starts with it are
// rejected, and List never reports such files.
const tempPrefix = ".lakerelay-tmp-"

// DirStore is a [Store] in a local directory: key "a/b/c.json.gz" is the file
// root/a/b/c.json.gz. Writes are atomic: Put writes a temporary file in the
// target directory, syncs it, and renames it into place, so a reader sees
// either no object or the whole object.
//
// A DirStore is safe for concurrent use, also by several processes sharing
// the directory.
type DirStore struct {
	root string
	tel  telemetry.T
}

// DirOptions configure a [DirStore]. The zero value means defaults.
type DirOptions struct {
	// Logger receives the store's structured log (nil: none): Info when
	// it is opened, Debug for each object stored (location, bytes when
	// the body tells its length, else -1, duration), Warn for each Put
	// that failed (location, error; the caller decides whether to retry).
	// Never credentials or object contents.
	Logger *slog.Logger
	// Observer receives [lakerelay.MetricErrors] for each failed Put,
	// with the problem class of its error, under Source Name (nil: none).
	// Records and bytes out are counted by the sinks, which know the log
	// type.
	Observer lakerelay.Observer
	// Name is the Source label and the "component" log attribute;
	// default "dir".
	Name string
}

var _ Store = (*DirStore)(nil)

// NewDir returns a store rooted at root, creating the directory if needed.
func NewDir(root string, opts ...func(*DirOptions)) (*DirStore, error) {
	var o DirOptions
	for _, f := range opts {
		f(&o)
	}
	if root == "" {
		return nil, errors.New("sink: dir store: empty root")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("sink: dir store: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("sink: dir store: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("sink: dir store: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("sink: dir store: %s is not a directory", abs)
	}
	d := &DirStore{root: abs, tel: telemetry.New(o.Logger, o.Observer, o.Name, "dir")}
	d.tel.Log.Info("dir store opened", "root", abs)
	return d, nil
}

// Root returns the absolute path of the store's directory.
func (d *DirStore) Root() string { return d.root }

// Location returns the file path of key.
func (d *DirStore) Location(key string) string {
	return filepath.Join(d.root, filepath.FromSlash(key))
}

func (d *DirStore) err(op, key string, err error) error {
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, partition.ErrInvalidKey) {
		err = lakerelay.Permanent(err)
	}
	return &StoreError{Op: op, Location: d.Location(key), Key: key, Err: err}
}

func checkObjectKey(key string) error {
	if err := partition.ValidateKey(key); err != nil {
		return err
	}
	if strings.HasSuffix(key, "/") {
		return &partition.KeyError{Field: "key", Value: key, Reason: `ends with "/" (a prefix, not an object key)`}
	}
	return nil
}

func (d *DirStore) checkKey(key string) error {
	if err := checkObjectKey(key); err != nil {
		return err
	}
	if strings.HasPrefix(key[strings.LastIndexByte(key, '/')+1:], tempPrefix) {
		return &partition.KeyError{Field: "key", Value: key, Reason: "name reserved for temporary files"}
	}
	return nil
}

// Put writes body to a temporary file next to the target, syncs it and
// renames it into place. PutOptions are ignored.
func (d *DirStore) Put(ctx context.Context, key string, body io.Reader, _ PutOptions) error {
	return reportPut(d.tel, d.Location(key), body, func() error { return d.put(ctx, key, body) })
}

func (d *DirStore) put(ctx context.Context, key string, body io.Reader) error {
	if err := d.checkKey(key); err != nil {
		return d.err("put", key, err)
	}
	if err := ctx.Err(); err != nil {
		return d.err("put", key, err)
	}
	path := d.Location(key)
	dir := filepath.Dir(path)
	var f *os.File
	var err error
	// A concurrent Delete may remove an emptied directory between MkdirAll
	// and CreateTemp; try again a few times.
	for range 5 {
		if err = os.MkdirAll(dir, 0o755); err != nil {
			continue
		}
		if f, err = os.CreateTemp(dir, tempPrefix+"*"); err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if err != nil {
		return d.err("put", key, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return d.err("put", key, err)
	}
	if _, err := io.Copy(f, ctxReader{ctx, body}); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return d.err("put", key, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return d.err("put", key, err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable. Errors are ignored: some file
// systems do not support syncing directories.
func syncDir(dir string) {
	if df, err := os.Open(dir); err == nil {
		_ = df.Sync()
		df.Close()
	}
}

// ctxReader stops a copy once ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Get opens the file of key.
func (d *DirStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := d.checkKey(key); err != nil {
		return nil, d.err("get", key, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, d.err("get", key, err)
	}
	f, err := os.Open(d.Location(key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return nil, d.err("get", key, err)
	}
	fi, err := f.Stat()
	if err == nil && fi.IsDir() {
		f.Close()
		return nil, d.err("get", key, fmt.Errorf("%w: is a directory", ErrNotFound))
	}
	if err != nil {
		f.Close()
		return nil, d.err("get", key, err)
	}
	return f, nil
}

// Delete removes the file of key and then any directories it leaves empty
// (up to, not including, the root).
func (d *DirStore) Delete(ctx context.Context, key string) error {
	if err := d.checkKey(key); err != nil {
		return d.err("delete", key, err)
	}
	if err := ctx.Err(); err != nil {
		return d.err("delete", key, err)
	}
	path := d.Location(key)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return d.err("delete", key, err)
	}
	for dir := filepath.Dir(path); dir != d.root && strings.HasPrefix(dir, d.root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil { // not empty, or gone
			break
		}
	}
	return nil
}

// List walks the directory tree in S3 key order (a directory "a" sorts as
// "a/"), reading one directory at a time.
func (d *DirStore) List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error {
	if prefix != "" {
		if err := checkChars(prefix); err != nil {
			return d.err("list", prefix, err)
		}
	}
	// Start at the deepest directory the prefix names fully.
	start := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = prefix[:i+1]
	}
	err := d.walk(ctx, start, prefix, fn)
	if sw, ok := err.(stopWalk); ok {
		return sw.err // fn's own error, as is
	}
	if err != nil {
		return d.err("list", prefix, err)
	}
	return nil
}

// stopWalk carries fn's error out of the walk.
type stopWalk struct{ err error }

func (s stopWalk) Error() string { return s.err.Error() }

// walk lists the directory of key prefix rel (""/"a/b/") and recurses.
func (d *DirStore) walk(ctx context.Context, rel, prefix string, fn func(ObjectInfo) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(filepath.Join(d.root, filepath.FromSlash(rel)))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && rel != "" {
			return nil
		}
		return err
	}
	type item struct {
		name string // sort name: directories end in "/"
		e    fs.DirEntry
	}
	items := make([]item, 0, len(entries))
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			name += "/"
		} else if strings.HasPrefix(name, tempPrefix) || !e.Type().IsRegular() {
			continue
		}
		items = append(items, item{name, e})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].name < items[j].name })
	for _, it := range items {
		key := rel + it.name
		if it.e.IsDir() {
			// Descend only where keys can still match the prefix.
			if strings.HasPrefix(key, prefix) || strings.HasPrefix(prefix, key) {
				if err := d.walk(ctx, key, prefix, fn); err != nil {
					return err
				}
			}
			continue
		}
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		fi, err := it.e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted while listing
		}
		if err != nil {
			return err
		}
		if err := fn(ObjectInfo{Key: key, Size: fi.Size(), LastModified: fi.ModTime()}); err != nil {
			return stopWalk{err}
		}
	}
	return nil
}

func checkChars(prefix string) error {
	if strings.HasPrefix(prefix, "/") {
		return &partition.KeyError{Field: "prefix", Value: prefix, Reason: `starts with "/"`}
	}
	for _, seg := range strings.Split(prefix, "/") {
		if seg == "." || seg == ".." {
			return &partition.KeyError{Field: "prefix", Value: prefix, Reason: `segment is "." or ".."`}
		}
	}
	return nil
}

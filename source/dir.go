package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/lakerelay/lakerelay"
)

// DirOptions configure a [Dir].
type DirOptions struct {
	// Decode says how files are decoded.
	Decode DecodeOptions
	// LogTypes maps prefixes of a file's slash-separated path relative to
	// the root (for a single file: its base name) to a log type; the
	// longest matching prefix wins.
	LogTypes map[string]string
	// Tags label every record's origin, as for [SQSOptions].
	Tags Tags
	// IncludePrefixes and ExcludePrefixes select files by the same relative
	// path: a file is read when it matches an include prefix (or there are
	// none) and no exclude prefix. Others are counted as skipped.
	IncludePrefixes, ExcludePrefixes []string
	// Quarantine receives invalid records. When nil, Read returns them as
	// errors.
	Quarantine lakerelay.Quarantine
	// Name names the source in metrics (Labels.Source) and logs (the
	// "source" attribute); "" means DefaultDirName ("dir"). Give each source of a
	// program its own name.
	Name string
	// Logger receives the source's log lines (see the package
	// documentation, # Logs); nil means none. Record contents are never
	// logged.
	Logger *slog.Logger
	// Observer receives the source's metrics (see the package
	// documentation, # Metrics); nil means none.
	Observer lakerelay.Observer
	// ReadAhead is how many of the files after the one Read is in may be
	// decoded ahead of Read, by min(GOMAXPROCS, 4) goroutines, so that many
	// small files use more than one core. Each holds at most two chunks of
	// records (256 records or 256 KiB each) that Read did not take yet.
	// Records still come in file order, and a file's errors where its
	// records would have been; but a file's invalid records reach the
	// Quarantine as it is decoded, which may be before Read hands out the
	// records of the files before it. 0 means 16; a negative value none.
	// The first file, and files of more than 256 KiB, are decoded by the
	// goroutine calling Read (and the decompressing goroutine of a
	// compressed one) when Read gets to them: a large file costs no
	// hand-over of its records, and the small files after it are decoded
	// ahead meanwhile.
	ReadAhead int
}

// Dir is a [lakerelay.Source] over local files: one file, or every regular
// file under a directory (recursively, in lexical order), each decoded like
// an S3 object. The origin of a record has an empty Bucket and the file's
// path as Key; records have a nil Ack (unless DecodeOptions.ReuseData).
//
// Read returns io.EOF after the last file. A file that cannot be opened or
// decoded makes Read return an *[ObjectError] naming it (wrapping
// [ErrNotFound] for a missing file), and the next Read goes on with the next
// file; an invalid record without a quarantine is returned the same way and
// reading goes on after it.
//
// Small files are decoded ahead of Read on other goroutines (see
// [DirOptions.ReadAhead]); Close stops them. A Dir is safe for concurrent
// use.
type Dir struct {
	mu     sync.Mutex
	opts   DirOptions
	files  []dirFile
	next   int // the next file to queue
	closed bool
	types  prefixMap
	c      counters
	tel    *telemetry
	ended  bool // the end was logged

	ahead *ahead // files decoded ahead of Read (ReadAhead)
}

type dirFile struct {
	path, rel string
	size      int64 // when walked; -1 if unknown
}

// NewDir returns a Dir over path, a file or a directory. The directory is
// walked once, here; following symbolic links to files but not to
// directories.
func NewDir(path string, opts ...func(*DirOptions)) (*Dir, error) {
	var o DirOptions
	for _, f := range opts {
		f(&o)
	}
	if err := o.Decode.Validate(); err != nil {
		return nil, err
	}
	d := &Dir{opts: o, types: newPrefixMap(o.LogTypes), tel: newTelemetry(o.Name, DefaultDirName, o.Observer, o.Logger)}
	d.ahead = newAhead(aheadCount(o.ReadAhead), aheadWorkers())
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	filter := keyFilter{include: o.IncludePrefixes, exclude: o.ExcludePrefixes}
	add := func(p, rel string, size int64) {
		if filter.selected(rel) {
			d.files = append(d.files, dirFile{p, rel, size})
		} else {
			d.c.skipped.Add(1)
		}
	}
	if !fi.IsDir() {
		add(path, filepath.Base(path), fi.Size())
		d.start(path)
		return d, nil
	}
	err = filepath.WalkDir(path, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if de.IsDir() {
			return nil
		}
		size := int64(-1)
		if !de.Type().IsRegular() {
			fi, err := os.Stat(p)
			if err != nil || !fi.Mode().IsRegular() {
				return nil // not a file (socket, link to a directory, dangling link)
			}
			size = fi.Size()
		} else if fi, err := de.Info(); err == nil {
			size = fi.Size()
		}
		rel, err := filepath.Rel(path, p)
		if err != nil {
			return err
		}
		add(p, filepath.ToSlash(rel), size)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	d.start(path)
	return d, nil
}

func (d *Dir) start(path string) {
	d.tel.gauge(lakerelay.MetricSourceUp, 1)
	d.tel.info("dir source started", slog.String("path", path), slog.Int("files", len(d.files)))
}

// Files returns the number of files the Dir reads.
func (d *Dir) Files() int { return len(d.files) }

// Read returns the next record.
func (d *Dir) Read(ctx context.Context) (lakerelay.Record, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for {
		if d.closed {
			return lakerelay.Record{}, lakerelay.ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return lakerelay.Record{}, err
		}
		d.fill()
		if d.ahead.empty() {
			return lakerelay.Record{}, d.end()
		}
		if rec, err, more := d.ahead.next(ctx).take(&d.c, d.tel, "file", ""); !more {
			return rec, err
		}
	}
}

// fill queues the next files: the small ones are decoded ahead, the first
// and the large ones by Read. d.mu held.
func (d *Dir) fill() {
	for d.ahead.room() && d.next < len(d.files) {
		f := d.files[d.next]
		inline := d.next == 0 || !aheadSmall(f.size)
		d.next++
		d.ahead.add(f.path, func(context.Context) (*objectStream, io.Closer, error) {
			st, fh, err := d.open(f)
			if err != nil {
				return nil, nil, err // not a nil *os.File in an io.Closer
			}
			return st, fh, nil
		}, inline)
	}
}

// open opens f and starts decoding it.
func (d *Dir) open(f dirFile) (*objectStream, *os.File, error) {
	fh, err := os.Open(f.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return nil, nil, &ObjectError{Key: f.path, Offset: -1, Index: -1, Err: err}
	}
	return newObjectStream(fh, d.opts.Decode, d.origin(f), d.opts.Quarantine, &d.c, d.tel), fh, nil
}

// end logs the end of the files, once, and returns io.EOF.
func (d *Dir) end() error {
	if !d.ended {
		d.ended = true
		st := d.c.snapshot()
		d.tel.info("dir source finished", slog.Int64("files", st.Objects), slog.Int64("records", st.Records), slog.Int64("errors", st.Errors))
	}
	return io.EOF
}

// origin is the origin of f's records.
func (d *Dir) origin(f dirFile) lakerelay.Origin {
	return tagged(lakerelay.Origin{Key: f.path, LogType: d.types.lookup(f.rel)}, d.opts.Tags)
}

// Stats returns the counters so far.
func (d *Dir) Stats() Stats { return d.c.snapshot() }

// Close stops the Dir and closes the open file; Read then returns
// lakerelay.ErrClosed. It is idempotent.
func (d *Dir) Close() error {
	// Stop the files decoded ahead before taking d.mu: a Read waiting for
	// one holds it, and returns ErrClosed once stop began.
	d.ahead.stop()
	defer func() {
		d.ahead.wait()
		d.mu.Lock()
		d.ahead.drop()
		d.mu.Unlock()
	}()
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.closed {
		d.closed = true
		d.ahead.clear()
		st := d.c.snapshot()
		d.tel.info("dir source stopped", slog.Int64("files", st.Objects), slog.Int64("records", st.Records), slog.Int64("errors", st.Errors))
	}
	return nil
}

var _ lakerelay.Source = (*Dir)(nil)

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
}

// Dir is a [lakerelay.Source] over local files: one file, or every regular
// file under a directory (recursively, in lexical order), each decoded like
// an S3 object. The origin of a record has an empty Bucket and the file's
// path as Key; records have a nil Ack.
//
// Read returns io.EOF after the last file. A file that cannot be opened or
// decoded makes Read return an *[ObjectError] naming it (wrapping
// [ErrNotFound] for a missing file), and the next Read goes on with the next
// file; an invalid record without a quarantine is returned the same way and
// reading goes on after it.
//
// A Dir is safe for concurrent use.
type Dir struct {
	mu     sync.Mutex
	opts   DirOptions
	files  []dirFile
	next   int
	cur    *objectStream
	curF   *os.File
	closed bool
	types  prefixMap
	c      counters
	tel    *telemetry
	ended  bool // the end was logged
}

type dirFile struct{ path, rel string }

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
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	filter := keyFilter{include: o.IncludePrefixes, exclude: o.ExcludePrefixes}
	add := func(p, rel string) {
		if filter.selected(rel) {
			d.files = append(d.files, dirFile{p, rel})
		} else {
			d.c.skipped.Add(1)
		}
	}
	if !fi.IsDir() {
		add(path, filepath.Base(path))
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
		if !de.Type().IsRegular() {
			fi, err := os.Stat(p)
			if err != nil || !fi.Mode().IsRegular() {
				return nil // not a file (socket, link to a directory, dangling link)
			}
		}
		rel, err := filepath.Rel(path, p)
		if err != nil {
			return err
		}
		add(p, filepath.ToSlash(rel))
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
		if d.cur == nil {
			if d.next >= len(d.files) {
				if !d.ended {
					d.ended = true
					st := d.c.snapshot()
					d.tel.info("dir source finished", slog.Int64("files", st.Objects), slog.Int64("records", st.Records), slog.Int64("errors", st.Errors))
				}
				return lakerelay.Record{}, io.EOF
			}
			f := d.files[d.next]
			d.next++
			fh, err := os.Open(f.path)
			if err != nil {
				d.c.errors.Add(1)
				if errors.Is(err, fs.ErrNotExist) {
					d.c.notFound.Add(1)
					err = fmt.Errorf("%w: %w", ErrNotFound, err)
				}
				err = &ObjectError{Key: f.path, Offset: -1, Index: -1, Err: err}
				d.tel.warn("file failed", err)
				return lakerelay.Record{}, err
			}
			d.curF = fh
			d.cur = newObjectStream(fh, d.opts.Decode, tagged(lakerelay.Origin{Key: f.path, LogType: d.types.lookup(f.rel)}, d.opts.Tags), d.opts.Quarantine, &d.c, d.tel)
		}
		rec, err := d.cur.next()
		switch {
		case err == nil:
			d.c.records.Add(1)
			d.cur.handedOut(rec)
			return rec, nil
		case err == io.EOF:
			d.c.objects.Add(1)
			if d.tel.debugOn() {
				d.tel.debug("file read", slog.String("key", d.cur.origin.Key), slog.Int64("records", d.cur.records))
			}
			d.closeFile()
			continue
		}
		d.c.errors.Add(1)
		d.tel.warn(failedWhat(err, "file failed"), err)
		if !recordLevel(err) {
			d.closeFile()
		}
		return lakerelay.Record{}, err
	}
}

func (d *Dir) closeFile() {
	if d.cur != nil {
		d.cur.close()
		d.cur = nil
	}
	if d.curF != nil {
		d.curF.Close()
		d.curF = nil
	}
}

// Stats returns the counters so far.
func (d *Dir) Stats() Stats { return d.c.snapshot() }

// Close stops the Dir and closes the open file; Read then returns
// lakerelay.ErrClosed. It is idempotent.
func (d *Dir) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.closed {
		d.closed = true
		d.closeFile()
		st := d.c.snapshot()
		d.tel.info("dir source stopped", slog.Int64("files", st.Objects), slog.Int64("records", st.Records), slog.Int64("errors", st.Errors))
	}
	return nil
}

var _ lakerelay.Source = (*Dir)(nil)

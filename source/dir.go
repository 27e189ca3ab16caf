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
	"runtime"
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
	// records would have been. 0 means 16; a negative value none: every
	// file is decoded by the goroutine calling Read. The first file, and
	// files of more than 256 KiB, are always decoded by that goroutine (and
	// the decompressing goroutine of a compressed one): a large file costs
	// no hand-over of its records, and read-ahead stops before it.
	ReadAhead int
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
// Small files are decoded ahead of Read on other goroutines (see
// [DirOptions.ReadAhead]); Close stops them. A Dir is safe for concurrent
// use.
type Dir struct {
	mu     sync.Mutex
	opts   DirOptions
	files  []dirFile
	next   int // the next file to open or hand to a fetch
	cur    *objectStream
	curF   *os.File
	closed bool
	types  prefixMap
	c      counters
	tel    *telemetry
	ended  bool // the end was logged

	// Files decoded ahead of Read, in file order (ReadAhead): fetches[0]
	// is the one Read hands out once cur is nil; chunk is what Read took
	// from it and has not handed out yet.
	fetches []*fileFetch
	chunk   dirChunk
	ahead   int
	// todo holds the fetches no goroutine took yet, in file order; the
	// fetch goroutines start with the first fetch. stopFetch ends them
	// (Close); fetching counts them.
	todo      chan *fileFetch
	fetchCtx  context.Context
	stopFetch context.CancelFunc
	fetching  sync.WaitGroup
}

// fileFetch is a file decoded by a goroutine of its own.
type fileFetch struct {
	f   dirFile
	out chan dirChunk // closed after the last chunk
}

// dirChunk is a part of a fetched file: records, then an error or the end
// of the file.
type dirChunk struct {
	recs []lakerelay.Record
	err  error
	end  bool  // the file was read to its end
	n    int64 // with end: the file's records
}

// Chunks of records a fetch hands to Read, and how many it may have ready.
const (
	fetchChunkRecords = 256
	fetchChunkBytes   = 256 << 10
	fetchChunks       = 2
	// fetchMaxSize is the size of the largest file decoded ahead: about
	// the compressed size of the read-ahead's first chunk.
	fetchMaxSize = 256 << 10
	// defaultReadAhead is DirOptions.ReadAhead's default.
	defaultReadAhead = 16
)

type dirFile struct {
	path, rel string
	size      int64 // when walked; -1 if unknown
}

// small reports whether f is decoded ahead of Read (DirOptions.ReadAhead):
// a larger file is decoded by the goroutine calling Read, with a
// decompressing goroutine of its own if compressed, so it needs no other.
func (f dirFile) small() bool { return f.size >= 0 && f.size <= fetchMaxSize }

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
	switch d.ahead = o.ReadAhead; {
	case d.ahead == 0:
		d.ahead = defaultReadAhead
	case d.ahead < 0:
		d.ahead = 0
	}
	d.fetchCtx, d.stopFetch = context.WithCancel(context.Background())
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
		if d.cur != nil {
			rec, err, more := d.readCurrent()
			if more {
				continue
			}
			return rec, err
		}
		if len(d.fetches) == 0 && d.next < len(d.files) && (d.next == 0 || d.ahead == 0 || !d.files[d.next].small()) {
			// The first file, a large file, or every file without
			// read-ahead, is decoded here.
			f := d.files[d.next]
			d.next++
			fh, err := os.Open(f.path)
			if err != nil {
				err = d.openError(f, err)
				d.c.errors.Add(1)
				d.tel.warn("file failed", err)
				return lakerelay.Record{}, err
			}
			d.curF = fh
			d.cur = newObjectStream(fh, d.opts.Decode, d.origin(f), d.opts.Quarantine, &d.c, d.tel)
			d.startFetches()
			continue
		}
		d.startFetches()
		if len(d.fetches) == 0 {
			if !d.ended {
				d.ended = true
				st := d.c.snapshot()
				d.tel.info("dir source finished", slog.Int64("files", st.Objects), slog.Int64("records", st.Records), slog.Int64("errors", st.Errors))
			}
			return lakerelay.Record{}, io.EOF
		}
		rec, err, more := d.readFetched(ctx)
		if more {
			continue
		}
		return rec, err
	}
}

// readCurrent returns the next record of the file decoded here, or more
// when that file ended and Read should go on with the next one.
func (d *Dir) readCurrent() (rec lakerelay.Record, err error, more bool) {
	rec, err = d.cur.next()
	switch {
	case err == nil:
		d.c.records.Add(1)
		d.cur.handedOut(rec)
		return rec, nil, false
	case err == io.EOF:
		d.fileRead(d.cur.origin.Key, d.cur.records)
		d.closeFile()
		return rec, nil, true
	}
	d.c.errors.Add(1)
	d.tel.warn(failedWhat(err, "file failed"), err)
	if !recordLevel(err) {
		d.closeFile()
	}
	return lakerelay.Record{}, err, false
}

// readFetched returns the next record or error of the first fetched file,
// or more when that file ended and Read should go on with the next one.
func (d *Dir) readFetched(ctx context.Context) (rec lakerelay.Record, err error, more bool) {
	ff := d.fetches[0]
	for len(d.chunk.recs) == 0 && d.chunk.err == nil && !d.chunk.end {
		select {
		case c, ok := <-ff.out:
			if !ok {
				// Closed before the file's end or error: Close stopped it.
				return lakerelay.Record{}, lakerelay.ErrClosed, false
			}
			d.chunk = c
		case <-ctx.Done():
			return lakerelay.Record{}, ctx.Err(), false
		case <-d.fetchCtx.Done():
			// Close, which waits for d.mu: a fetch no goroutine took
			// is never closed.
			return lakerelay.Record{}, lakerelay.ErrClosed, false
		}
	}
	switch {
	case len(d.chunk.recs) > 0:
		rec = d.chunk.recs[0]
		d.chunk.recs[0] = lakerelay.Record{}
		d.chunk.recs = d.chunk.recs[1:]
		d.c.records.Add(1)
		return rec, nil, false
	case d.chunk.err != nil:
		err = d.chunk.err
		d.chunk.err = nil
		d.c.errors.Add(1)
		d.tel.warn(failedWhat(err, "file failed"), err)
		if !recordLevel(err) {
			// The file ends here; its goroutine closes out next.
			d.fetches[0] = nil
			d.fetches = d.fetches[1:]
		}
		return lakerelay.Record{}, err, false
	}
	// The end of the file: its goroutine closes out next.
	d.fileRead(ff.f.path, d.chunk.n)
	d.chunk = dirChunk{}
	d.fetches[0] = nil
	d.fetches = d.fetches[1:]
	return lakerelay.Record{}, nil, true
}

// startFetches starts decoding the files after the current one, up to
// d.ahead of them. d.mu held.
func (d *Dir) startFetches() {
	for d.fetchCtx.Err() == nil && len(d.fetches) < d.ahead && d.next < len(d.files) && d.files[d.next].small() {
		if d.todo == nil {
			// The goroutines take the files in order, so the first
			// fetch is always being decoded or done, whatever the others
			// wait for: Read, which takes the first fetch's chunks,
			// cannot wait forever.
			d.todo = make(chan *fileFetch, d.ahead)
			n := min(runtime.GOMAXPROCS(0), 4, d.ahead)
			d.fetching.Add(n)
			for range n {
				go d.fetchFiles()
			}
		}
		ff := &fileFetch{f: d.files[d.next], out: make(chan dirChunk, fetchChunks-1)}
		d.next++
		d.fetches = append(d.fetches, ff)
		d.todo <- ff // room for d.ahead: only fetches not yet taken are there
	}
}

// fetchFiles decodes the files of d.todo until Close.
func (d *Dir) fetchFiles() {
	defer d.fetching.Done()
	for {
		select {
		case ff := <-d.todo:
			d.fetch(ff)
		case <-d.fetchCtx.Done():
			return
		}
	}
}

// fetch decodes ff's file into chunks of records for Read, until the file
// ends, fails, or Close stops it.
func (d *Dir) fetch(ff *fileFetch) {
	defer close(ff.out)
	send := func(c dirChunk) bool {
		select {
		case ff.out <- c:
			return true
		case <-d.fetchCtx.Done():
			return false
		}
	}
	fh, err := os.Open(ff.f.path)
	if err != nil {
		send(dirChunk{err: d.openError(ff.f, err)})
		return
	}
	defer fh.Close()
	st := newObjectStream(fh, d.opts.Decode, d.origin(ff.f), d.opts.Quarantine, &d.c, d.tel)
	defer st.close()
	var c dirChunk
	size := 0
	for {
		rec, err := st.next()
		switch {
		case err == nil:
			st.handedOut(rec)
			c.recs = append(c.recs, rec)
			if size += len(rec.Data); len(c.recs) < fetchChunkRecords && size < fetchChunkBytes {
				continue
			}
		case err == io.EOF:
			c.end, c.n = true, st.records
			send(c)
			return
		default:
			c.err = err
		}
		if !send(c) || (c.err != nil && !recordLevel(c.err)) {
			return
		}
		c, size = dirChunk{}, 0
	}
}

// openError is the error of a file that could not be opened. It counts a
// missing file.
func (d *Dir) openError(f dirFile, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		d.c.notFound.Add(1)
		err = fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return &ObjectError{Key: f.path, Offset: -1, Index: -1, Err: err}
}

// origin is the origin of f's records.
func (d *Dir) origin(f dirFile) lakerelay.Origin {
	return tagged(lakerelay.Origin{Key: f.path, LogType: d.types.lookup(f.rel)}, d.opts.Tags)
}

// fileRead counts a file read to its end.
func (d *Dir) fileRead(key string, records int64) {
	d.c.objects.Add(1)
	if d.tel.debugOn() {
		d.tel.debug("file read", slog.String("key", key), slog.Int64("records", records))
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
	// Stop the fetches before taking d.mu: a Read waiting for one holds
	// it, and returns ErrClosed once its fetch stops. None starts after.
	d.stopFetch()
	defer d.fetching.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.closed {
		d.closed = true
		d.closeFile()
		d.fetches, d.chunk = nil, dirChunk{}
		st := d.c.snapshot()
		d.tel.info("dir source stopped", slog.Int64("files", st.Objects), slog.Int64("records", st.Records), slog.Int64("errors", st.Errors))
	}
	return nil
}

var _ lakerelay.Source = (*Dir)(nil)

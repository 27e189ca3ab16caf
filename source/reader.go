package source

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"

	"github.com/lakerelay/lakerelay"
)

// ReaderOptions configure a [Reader].
type ReaderOptions struct {
	// Decode says how the stream is decoded.
	Decode DecodeOptions
	// LogType is set in the origin of every record.
	LogType string
	// Quarantine receives invalid records (invalid JSON in NDJSON input, an
	// invalid JSON document). When nil, Read returns them as errors.
	Quarantine lakerelay.Quarantine
	// Name is the Source label of the reader's metrics and the "source"
	// attribute of its logs; "" means [DefaultReaderName].
	Name string
	// Logger receives the reader's logs (quarantined records at Debug);
	// nil logs nothing.
	Logger *slog.Logger
	// Observer receives the records and bytes read and the records
	// quarantined (see [lakerelay.Observer]); nil observes nothing.
	Observer lakerelay.Observer
	// CloseStream makes Close also close the stream, when it is an
	// io.Closer (an opened file).
	CloseStream bool
}

// Reader is a [lakerelay.Source] over one stream, such as standard input or
// a file: it detects the compression (gzip, including several members, or
// zstd) by magic bytes and splits the stream into records as
// [DecodeOptions] says. Records have a nil Ack (unless
// DecodeOptions.ReuseData); their origin has an empty
// Bucket and the stream's name as Key.
//
// Read returns io.EOF at the end. It returns an *[ObjectError] for a
// failure: one wrapping lakerelay.ErrInvalidRecord with Index >= 0 concerns
// one record (only without a Quarantine, or when the quarantine failed) and
// reading goes on after it; any other ends the stream, and the next Read
// returns io.EOF.
//
// A Reader is safe for concurrent use. Close closes the stream only with
// ReaderOptions.CloseStream.
type Reader struct {
	mu     sync.Mutex
	o      *objectStream
	done   bool
	closed bool
	c      counters
	stream io.Closer // closed by Close (ReaderOptions.CloseStream)
}

// NewReader returns a Reader over r; name is used as the Key of the origin
// and in errors.
func NewReader(name string, r io.Reader, opts ...func(*ReaderOptions)) (*Reader, error) {
	var o ReaderOptions
	for _, f := range opts {
		f(&o)
	}
	if err := o.Decode.Validate(); err != nil {
		return nil, err
	}
	rd := &Reader{}
	if c, ok := r.(io.Closer); ok && o.CloseStream {
		rd.stream = c
	}
	tel := newTelemetry(o.Name, DefaultReaderName, o.Observer, o.Logger)
	rd.o = newObjectStream(r, o.Decode, lakerelay.Origin{Key: name, LogType: o.LogType}, o.Quarantine, &rd.c, tel)
	return rd, nil
}

// Read returns the next record.
func (r *Reader) Read(ctx context.Context) (lakerelay.Record, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return lakerelay.Record{}, lakerelay.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return lakerelay.Record{}, err
	}
	if r.done {
		return lakerelay.Record{}, io.EOF
	}
	rec, err := r.o.next()
	if err == nil {
		r.c.records.Add(1)
		r.o.handedOut(rec)
		return rec, nil
	}
	if err == io.EOF {
		r.done = true
		r.c.objects.Add(1)
		r.o.close()
		return rec, io.EOF
	}
	r.c.errors.Add(1)
	if !recordLevel(err) {
		r.done = true
		r.o.close()
	}
	return lakerelay.Record{}, err
}

// recordLevel reports whether err concerns one record only.
func recordLevel(err error) bool {
	var oe *ObjectError
	return errors.As(err, &oe) && oe.Index >= 0
}

// Stats returns the counters so far.
func (r *Reader) Stats() Stats { return r.c.snapshot() }

// Close stops the reader; Read then returns lakerelay.ErrClosed. It is
// idempotent and does not close the underlying stream (unless CloseStream).
// It does not wait for a read of a compressed stream in progress (read
// ahead of the records on a goroutine of its own): that one read may still
// return after Close, and closing the stream ends it.
func (r *Reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	r.o.close()
	if r.stream != nil {
		return r.stream.Close()
	}
	return nil
}

var _ lakerelay.Source = (*Reader)(nil)

package source

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"sync"

	"github.com/lakerelay/lakerelay"
)

// Objects decoded ahead of Read ([Dir], [List]): while Read hands out one
// object's records, the small objects after it are opened and decoded by a
// few goroutines, each at most aheadChunks chunks of records ahead, and
// Read takes their records, errors and ends in order. A small object alone
// uses one core (the read-ahead goroutine of a compressed object starts only
// past its first chunk) and, from S3, waits for its GetObject: many of them
// at once use every core and overlap the waits.
const (
	aheadChunkRecords = 256
	aheadChunkBytes   = 256 << 10
	aheadChunks       = 2
	// aheadMaxSize is the size of the largest object decoded ahead: about
	// the compressed size of the read-ahead's first chunk. Larger ones are
	// decoded by Read's goroutine and their own read-ahead goroutine.
	aheadMaxSize = 256 << 10
	// defaultAhead is the default of DirOptions.ReadAhead and
	// ListOptions.ReadAhead.
	defaultAhead = 16
	// maxAheadWorkers bounds the goroutines that decode local files ahead,
	// which only need cores; objects fetched from S3 are mostly waited for,
	// so each queued one has a goroutine.
	maxAheadWorkers = 4
)

// aheadWorkers is the number of goroutines that decode local files ahead.
func aheadWorkers() int { return min(runtime.GOMAXPROCS(0), maxAheadWorkers) }

// aheadSmall reports whether an object of size bytes is decoded ahead (-1:
// unknown).
func aheadSmall(size int64) bool { return size >= 0 && size <= aheadMaxSize }

// aheadCount is the number of objects a source decodes ahead for the
// option value n (0: the default; negative: none).
func aheadCount(n int) int {
	switch {
	case n == 0:
		return defaultAhead
	case n < 0:
		return 0
	}
	return n
}

// ahead is the queue of the objects a source's Read hands out, decoded
// ahead or inline. Its methods but stop and wait are called with the
// source's lock held.
type ahead struct {
	max     int // items queued at most
	workers int // goroutines decoding them
	// ctx ends the goroutines (stop); wg counts them.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// todo holds the items no goroutine took yet, in order. The goroutines
	// take them in order, so the first item is always being decoded or
	// done, whatever the others wait for: Read, which takes the first
	// item's chunks, cannot wait forever.
	todo  chan *aheadItem
	items []*aheadItem
	chunk aheadChunk // taken from items[0], not yet handed out
	// cur and body are the object of items[0] when it is decoded inline,
	// once opened.
	cur  *objectStream
	body io.Closer
	// dropped are the items clear forgot, for drop.
	dropped []*aheadItem
}

// aheadItem is one object in the queue. An item without open was skipped
// by the source's filter: it only keeps its place (List.LastKey). An
// inline item is opened and decoded by Read itself, once it is first in
// the queue: the first object (one object needs no other goroutine), a
// large one (its own read-ahead goroutine decompresses it; no hand-over of
// its records), or any without read-ahead.
type aheadItem struct {
	key    string
	open   func(ctx context.Context) (*objectStream, io.Closer, error)
	inline bool
	out    chan aheadChunk // closed after the last chunk; nil if inline
}

// aheadChunk is a part of an object: records, then an error or its end.
type aheadChunk struct {
	recs []lakerelay.Record
	err  error
	end  bool  // the object was read to its end
	n    int64 // with end: the object's records
}

// newAhead returns a queue of at most max objects (one with max 0, inline),
// decoded by up to workers goroutines (started with the first object that
// is not inline).
func newAhead(max, workers int) *ahead {
	a := &ahead{max: max, workers: min(workers, max)}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	return a
}

// room reports whether another object may be queued.
func (a *ahead) room() bool { return a.ctx.Err() == nil && len(a.items) < max(a.max, 1) }

// empty reports whether nothing is queued.
func (a *ahead) empty() bool { return len(a.items) == 0 }

// add queues an object. open is called by next with Read's context if
// the object is inline (always without read-ahead), otherwise on a
// goroutine of the queue with the queue's context, which stop ends. open
// == nil queues a skipped key.
func (a *ahead) add(key string, open func(ctx context.Context) (*objectStream, io.Closer, error), inline bool) {
	it := &aheadItem{key: key, open: open, inline: inline || a.max == 0}
	a.items = append(a.items, it)
	if open == nil || it.inline {
		return
	}
	if a.todo == nil {
		a.todo = make(chan *aheadItem, a.max)
		a.wg.Add(a.workers)
		for range a.workers {
			go a.work()
		}
	}
	it.out = make(chan aheadChunk, aheadChunks-1)
	a.todo <- it // room for max: only queued items not yet taken are there
}

// work decodes the items of a.todo until stop.
func (a *ahead) work() {
	defer a.wg.Done()
	for {
		select {
		case it := <-a.todo:
			a.decode(it)
		case <-a.ctx.Done():
			return
		}
	}
}

// decode reads the object of it into chunks, until it ends, fails, or stop.
func (a *ahead) decode(it *aheadItem) {
	defer close(it.out)
	send := func(c aheadChunk) bool {
		select {
		case it.out <- c:
			return true
		case <-a.ctx.Done():
			settleAll(c.recs) // never handed out (stop)
			return false
		}
	}
	st, body, err := it.open(a.ctx)
	if err != nil {
		send(aheadChunk{err: err})
		return
	}
	defer body.Close()
	defer st.close()
	var c aheadChunk
	size := 0
	for {
		rec, err := st.next()
		switch {
		case err == nil:
			st.handedOut(rec)
			c.recs = append(c.recs, rec)
			if size += len(rec.Data); len(c.recs) < aheadChunkRecords && size < aheadChunkBytes {
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
		c, size = aheadChunk{}, 0
	}
}

// aheadKind is the kind of an aheadEvent.
type aheadKind int

const (
	aheadRecord  aheadKind = iota // rec
	aheadFailed                   // err: the object's, or one record's
	aheadEnd                      // the object ended after n records
	aheadSkipped                  // a skipped key
	aheadStopped                  // err: ctx's, or ErrClosed after stop
)

// aheadEvent is what next returns: a record, an error, an object's end,
// a skipped key, or that Read must stop.
type aheadEvent struct {
	kind aheadKind
	rec  lakerelay.Record // aheadRecord
	err  error            // aheadFailed, aheadStopped
	key  string           // the object's key
	n    int64            // aheadEnd: the object's records
}

// next returns the next record, error or end of the first queued object.
// The queue must not be empty.
func (a *ahead) next(ctx context.Context) aheadEvent {
	it := a.items[0]
	if it.open == nil {
		a.pop()
		return aheadEvent{kind: aheadSkipped, key: it.key}
	}
	if it.inline {
		return a.nextInline(ctx, it)
	}
	for len(a.chunk.recs) == 0 && a.chunk.err == nil && !a.chunk.end {
		select {
		case c, ok := <-it.out:
			if !ok {
				// Closed before the object's end or error: stop.
				return aheadEvent{kind: aheadStopped, err: lakerelay.ErrClosed, key: it.key}
			}
			a.chunk = c
		case <-ctx.Done():
			return aheadEvent{kind: aheadStopped, err: ctx.Err(), key: it.key}
		case <-a.ctx.Done():
			// stop, whose caller waits for the source's lock: an item no
			// goroutine took is never closed.
			return aheadEvent{kind: aheadStopped, err: lakerelay.ErrClosed, key: it.key}
		}
	}
	switch {
	case len(a.chunk.recs) > 0:
		rec := a.chunk.recs[0]
		a.chunk.recs[0] = lakerelay.Record{}
		a.chunk.recs = a.chunk.recs[1:]
		return aheadEvent{kind: aheadRecord, rec: rec, key: it.key}
	case a.chunk.err != nil:
		err := a.chunk.err
		a.chunk.err = nil
		if !recordLevel(err) {
			a.pop() // the object ends here; its goroutine closes out next
		}
		return aheadEvent{kind: aheadFailed, err: err, key: it.key}
	}
	n := a.chunk.n
	a.pop()
	return aheadEvent{kind: aheadEnd, key: it.key, n: n}
}

// nextInline is next for an inline item: it is opened and decoded here.
func (a *ahead) nextInline(ctx context.Context, it *aheadItem) aheadEvent {
	if a.cur == nil {
		st, body, err := it.open(ctx)
		if err != nil {
			a.pop()
			return aheadEvent{kind: aheadFailed, err: err, key: it.key}
		}
		a.cur, a.body = st, body
	}
	rec, err := a.cur.next()
	switch {
	case err == nil:
		a.cur.handedOut(rec)
		return aheadEvent{kind: aheadRecord, rec: rec, key: it.key}
	case err == io.EOF:
		n := a.cur.records
		a.pop()
		return aheadEvent{kind: aheadEnd, key: it.key, n: n}
	}
	if !recordLevel(err) {
		a.pop()
	}
	return aheadEvent{kind: aheadFailed, err: err, key: it.key}
}

// take counts and logs ev for a source (what: "file" or "object"; bucket:
// "" for files) and returns what its Read returns, or more when Read goes
// on with the next object.
func (ev aheadEvent) take(c *counters, tel *telemetry, what, bucket string) (rec lakerelay.Record, err error, more bool) {
	switch ev.kind {
	case aheadRecord:
		c.records.Add(1)
		return ev.rec, nil, false
	case aheadEnd:
		c.objects.Add(1)
		if tel.debugOn() {
			attrs := []slog.Attr{slog.String("key", ev.key), slog.Int64("records", ev.n)}
			if bucket != "" {
				attrs = append([]slog.Attr{slog.String("bucket", bucket)}, attrs...)
			}
			tel.debug(what+" read", attrs...)
		}
		return rec, nil, true
	case aheadSkipped:
		c.skipped.Add(1)
		return rec, nil, true
	case aheadFailed:
		c.errors.Add(1)
		if errors.Is(ev.err, ErrNotFound) {
			c.notFound.Add(1)
		}
		tel.warn(failedWhat(ev.err, what+" failed"), ev.err)
	}
	return rec, ev.err, false // failed, or stopped
}

// pop removes the first item, closing its object if it was decoded inline.
func (a *ahead) pop() {
	a.closeCur()
	a.chunk = aheadChunk{}
	a.items[0] = nil
	a.items = a.items[1:]
}

// stop ends the goroutines. It is called without the source's lock (a Read
// waiting for a chunk holds it, and returns once stop began); wait then
// waits for them, after the source marked itself closed.
func (a *ahead) stop() { a.cancel() }

func (a *ahead) wait() { a.wg.Wait() }

// clear closes the object decoded inline and forgets the queue (Close,
// with the source's lock). The records decoded ahead and not handed out
// are settled, the chunk taken here at once, those queued by drop.
func (a *ahead) clear() {
	a.closeCur()
	settleAll(a.chunk.recs)
	a.dropped = append(a.dropped, a.items...)
	a.items, a.chunk = nil, aheadChunk{}
}

// drop settles the records of the chunks the stopped goroutines queued for
// the items clear forgot (after stop and wait): none was handed out, so
// with DecodeOptions.ReuseData their memory may be reused.
func (a *ahead) drop() {
	for _, it := range a.dropped {
		for it.out != nil {
			select {
			case c, ok := <-it.out:
				if !ok {
					it.out = nil
				}
				settleAll(c.recs)
			default:
				it.out = nil // never taken by a goroutine: empty, never closed
			}
		}
	}
	a.dropped = nil
}

func settleAll(recs []lakerelay.Record) {
	for _, r := range recs {
		r.Settle(lakerelay.ErrClosed)
	}
}

func (a *ahead) closeCur() {
	if a.cur != nil {
		a.cur.close()
		a.body.Close()
		a.cur, a.body = nil, nil
	}
}

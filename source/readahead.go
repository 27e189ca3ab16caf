package source

import (
	"errors"
	"io"
	"sync"
)

// Read-ahead of decompressed bytes: decompression runs on a goroutine of its
// own while the decoder splits and validates the bytes already decompressed,
// so the two use two cores instead of taking turns on one. Memory is bounded:
// at most readAheadChunks+1 buffers of readAheadSize bytes per object being
// read. Buffers are taken as the goroutine needs them (a small object uses
// one or two) from a pool shared by all objects, and go back to it when the
// object was read to its end: a stream of small objects does not allocate
// (and the kernel does not fault in) fresh buffers for every object.
//
// Chunks are large because every hand-over may wake a sleeping goroutine,
// which costs tens of microseconds: with the 32 KiB a decompressor returns
// per read as the chunk, the two goroutines spent more time waking each
// other than decompressing or splitting.
const (
	readAheadSize   = 256 << 10
	readAheadChunks = 4
)

// readAhead reads r on a goroutine of its own, readAheadChunks buffers
// ahead of its reader. A chunk takes further reads of r only while ready
// says that r has input at hand (nil: never), so a slow stream's bytes reach
// the reader as soon as they arrive, not once a buffer is full. Errors,
// io.EOF included, reach the reader after the bytes read before them.
//
// The first chunk is read by the reader itself, and the goroutine starts
// only when r has more than that chunk: a small object is read without a
// goroutine and without hand-overs between two (each may wake a sleeping
// thread, which costs more than decompressing a few kilobytes).
//
// stop does not wait for a read of r in progress (a pipe with nothing more
// to say may never return): whoever reads r (the goroutine, or the reader
// during the first chunk) calls release once that read returns, which
// closing the stream under r makes happen. Read is not safe for concurrent
// use; stop may be called from any goroutine.
type readAhead struct {
	r    io.Reader
	made int // buffers taken from readAheadPool; only whoever reads r uses it
	// begun is set by Read once the first chunk was read (reader-owned).
	begun bool
	// mu guards phase, which tells stop who releases r.
	mu    sync.Mutex
	phase int // phaseIdle, phaseFirst, phaseGoroutine or phaseEnded

	full chan chunk
	free chan []byte
	done chan struct{}
	// exited is closed once r was released and nothing reads it any more
	// (the goroutine ended, or there was none).
	exited chan struct{}
	// ready reports whether r has input at hand, so that a further read
	// is not expected to block (may be nil).
	ready func() bool
	// wait is called before Read blocks for the next chunk (may be nil).
	wait func()
	// release is called once nothing reads r any more (may be nil): what r
	// holds (a zstd decoder) is freed then.
	release func()

	cur  []byte // unread bytes of held
	held []byte // the buffer cur is part of, returned to free once read
	err  error  // sticky, from the goroutine
}

type chunk struct {
	b   []byte
	err error
}

// The phases of a readAhead, for stop.
const (
	phaseIdle      = iota // nothing read yet: stop releases r
	phaseFirst            // the reader reads the first chunk: it releases r after
	phaseGoroutine        // the goroutine reads r: it releases r when it ends
	phaseEnded            // r was released
)

// errReadAheadStopped is what Read returns after the bytes read before stop.
var errReadAheadStopped = errors.New("read-ahead stopped")

func newReadAhead(r io.Reader, ready func() bool, wait, release func()) *readAhead {
	return &readAhead{
		r:       r,
		full:    make(chan chunk, readAheadChunks),
		free:    make(chan []byte, readAheadChunks+1),
		done:    make(chan struct{}),
		exited:  make(chan struct{}),
		ready:   ready,
		wait:    wait,
		release: release,
	}
}

// end releases r; called with mu held, once.
func (ra *readAhead) end() {
	ra.phase = phaseEnded
	if ra.release != nil {
		ra.release()
	}
	close(ra.exited)
}

// first reads the first chunk on the reader's goroutine, and starts the
// goroutine for the rest unless that chunk ended r or stop came first.
func (ra *readAhead) first() chunk {
	ra.mu.Lock()
	if ra.phase != phaseIdle {
		ra.mu.Unlock()
		return chunk{err: errReadAheadStopped}
	}
	ra.phase = phaseFirst
	ra.mu.Unlock()
	if ra.wait != nil {
		ra.wait()
	}
	buf, _ := ra.buffer()
	n, err := ra.readChunk(buf)
	ra.mu.Lock()
	defer ra.mu.Unlock()
	select {
	case <-ra.done:
		if err == nil {
			err = errReadAheadStopped
		}
	default:
	}
	if err != nil {
		ra.end()
	} else {
		ra.phase = phaseGoroutine
		go ra.run()
	}
	return chunk{buf[:n], err}
}

// readAheadPool holds the buffers of read-aheads that ended.
var readAheadPool = sync.Pool{New: func() any { return new([readAheadSize]byte) }}

// buffer returns a free buffer: one the reader gave back, else one more from
// the pool while fewer than readAheadChunks+1 were taken, else the next the
// reader gives back. ok is false when stop was called first.
func (ra *readAhead) buffer() (buf []byte, ok bool) {
	select {
	case buf = <-ra.free:
		return buf, true
	default:
	}
	if ra.made < readAheadChunks+1 {
		ra.made++
		return readAheadPool.Get().(*[readAheadSize]byte)[:], true
	}
	select {
	case buf = <-ra.free:
		return buf, true
	case <-ra.done:
		return nil, false
	}
}

// recycle puts the buffers back into the pool once r was released after
// the last chunk (an error, io.EOF included) reached the reader: then every
// buffer is the reader's, in held or free. Called by the reader.
func (ra *readAhead) recycle() {
	<-ra.exited // the goroutine returns right after sending the last chunk
	if ra.held != nil {
		readAheadPool.Put((*[readAheadSize]byte)(ra.held[:readAheadSize]))
		ra.cur, ra.held = nil, nil
	}
	for {
		select {
		case b := <-ra.free:
			readAheadPool.Put((*[readAheadSize]byte)(b[:readAheadSize]))
		default:
			return
		}
	}
}

// readChunk reads r into buf: one read, then more while ready says that r
// has input at hand. A read of nothing is retried; after 100 of them in a
// row the chunk ends with io.ErrNoProgress.
func (ra *readAhead) readChunk(buf []byte) (int, error) {
	for empty := 0; ; empty++ {
		n, err := ra.r.Read(buf)
		for err == nil && n > 0 && n < len(buf) && ra.ready != nil && ra.ready() {
			var m int
			m, err = ra.r.Read(buf[n:])
			if m == 0 && err == nil {
				break
			}
			n += m
		}
		if n > 0 || err != nil {
			return n, err
		}
		if empty == 99 {
			return 0, io.ErrNoProgress
		}
	}
}

func (ra *readAhead) run() {
	defer func() {
		ra.mu.Lock()
		ra.end()
		ra.mu.Unlock()
	}()
	for {
		buf, ok := ra.buffer()
		if !ok {
			return
		}
		select {
		case <-ra.done: // stopped while waiting for a free buffer's turn
			return
		default:
		}
		n, err := ra.readChunk(buf)
		select {
		case ra.full <- chunk{buf[:n], err}:
		case <-ra.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// Read implements io.Reader.
func (ra *readAhead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.err != nil {
			if ra.held != nil || len(ra.free) > 0 {
				ra.recycle()
			}
			return 0, ra.err
		}
		if ra.held != nil {
			ra.free <- ra.held[:cap(ra.held)]
			ra.held = nil
		}
		if !ra.begun {
			ra.begun = true
			c := ra.first()
			ra.cur, ra.held, ra.err = c.b, c.b, c.err
			continue
		}
		var c chunk
		select {
		case c = <-ra.full:
		default:
			if ra.wait != nil {
				ra.wait()
			}
			c = <-ra.full
		}
		ra.cur, ra.held, ra.err = c.b, c.b, c.err
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// stop tells the goroutine to end, without waiting for a read of r it may
// be blocked in, and releases r itself when nothing was read yet. It may be
// called more than once, from any goroutine.
func (ra *readAhead) stop() {
	ra.mu.Lock()
	defer ra.mu.Unlock()
	select {
	case <-ra.done:
	default:
		close(ra.done)
	}
	if ra.phase == phaseIdle {
		ra.end()
	}
}

// waitReader calls wait, when set, before each read of r.
type waitReader struct {
	r    io.Reader
	wait func()
}

func (w *waitReader) Read(p []byte) (int, error) {
	if w.wait != nil {
		w.wait()
	}
	return w.r.Read(p)
}

package source

import "io"

// Read-ahead of decompressed bytes: decompression runs on a goroutine of its
// own while the decoder splits and validates the bytes already decompressed,
// so the two use two cores instead of taking turns on one. Memory is bounded:
// readAheadChunks buffers of readAheadSize bytes per object being read.
const (
	readAheadSize   = 64 << 10
	readAheadChunks = 4
)

// readAhead reads r on a goroutine of its own, readAheadChunks buffers
// ahead of its reader. Each read of r becomes one chunk, however short, so a
// slow stream's bytes reach the reader as soon as they arrive. Errors,
// io.EOF included, reach the reader after the bytes read before them.
//
// r is only touched by the goroutine until stop returns. Not safe for
// concurrent use.
type readAhead struct {
	full   chan chunk
	free   chan []byte
	done   chan struct{}
	exited chan struct{}
	// wait is called before Read blocks for the next chunk (may be nil).
	wait func()

	cur  []byte // unread bytes of held
	held []byte // the buffer cur is part of, returned to free once read
	err  error  // sticky, from the goroutine
}

type chunk struct {
	b   []byte
	err error
}

func newReadAhead(r io.Reader, wait func()) *readAhead {
	ra := &readAhead{
		full:   make(chan chunk, readAheadChunks),
		free:   make(chan []byte, readAheadChunks+1),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
		wait:   wait,
	}
	for range readAheadChunks + 1 {
		ra.free <- make([]byte, readAheadSize)
	}
	go ra.run(r)
	return ra
}

func (ra *readAhead) run(r io.Reader) {
	defer close(ra.exited)
	empty := 0
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-ra.done:
			return
		}
		n, err := r.Read(buf)
		if n == 0 && err == nil {
			if empty++; empty < 100 {
				ra.free <- buf // room: this goroutine just took it
				continue
			}
			err = io.ErrNoProgress
		}
		empty = 0
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
		if ra.held != nil {
			ra.free <- ra.held[:cap(ra.held)]
			ra.held = nil
		}
		if ra.err != nil {
			return 0, ra.err
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

// stop ends the goroutine and waits until it no longer uses r (after the
// read it may be blocked in returns). It may be called more than once.
func (ra *readAhead) stop() {
	select {
	case <-ra.done:
	default:
		close(ra.done)
	}
	<-ra.exited
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

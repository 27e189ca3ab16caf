package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/lakerelay/lakerelay"
)

// MapOptions configure [Map].
type MapOptions struct {
	// Workers is how many records fn maps at once. The default, 1, maps
	// each record on the goroutine that calls Read, when it is read.
	//
	// With more, fn must be safe for concurrent use. A goroutine then reads
	// src ahead of the caller and Workers goroutines map what it read.
	// Records are still handed out, and handed to the quarantine, in the
	// order src yields them, and src's errors in their place among them.
	// Reading ahead holds up to MaxAhead records and MaxAheadBytes of
	// their data more in memory: at least one record, whatever its size,
	// and one more that waits for room for its bytes.
	// [Mapped.Pending] counts them. Close negatively acknowledges those not
	// handed out yet, so they stay redeliverable.
	Workers int
	// MaxAhead bounds the records read ahead with several workers; default
	// DefaultMaxAhead per worker (DefaultReadAhead for [ReadAhead]). Enough
	// of them keep every worker busy while the caller is slow for a moment.
	MaxAhead int
	// MaxAheadBytes bounds the data of the records read ahead with several
	// workers; default DefaultMaxAheadBytes.
	MaxAheadBytes int64
	// CompactJSON promises that fn returns one valid JSON value without
	// insignificant whitespace, in valid UTF-8, as every mapper of package
	// ocsf does. Mapped records then have Record.JSON set, so that their
	// consumers (the quarantine, the JSON Lines sinks) do not parse them
	// again. Without it a mapped record's JSON is false. Set it only for
	// such an fn: a consumer trusts the flag and may write the data as it
	// is into JSON of its own.
	CompactJSON bool
}

// Defaults of [MapOptions].
const (
	DefaultMaxAhead      = 64 // per worker
	DefaultMaxAheadBytes = 8 << 20
	// DefaultReadAhead is the MaxAhead of [ReadAhead]: enough records that
	// MaxAheadBytes is the bound unless records are small. The reading
	// goroutine must not stop each time the caller's goroutine waits to be
	// woken (tens to hundreds of microseconds on a busy machine): with 64
	// records ahead, reading 100 MB of OCSF NDJSON for the Security Lake
	// sink stopped 145 times for 56 ms in all, and the run took 4 % longer.
	DefaultReadAhead = 4096
)

// ReadAhead returns a source that reads src on a goroutine of its own, up
// to [MapOptions].MaxAhead records (default [DefaultReadAhead]) and
// MaxAheadBytes of their data ahead of its caller (Workers is not used), so
// that reading src (decompressing, splitting and validating records) and
// what the caller does with each record (partitioning and batching them,
// in [Run]) use two cores. Records and src's errors come in src's order,
// unchanged. Closing the result closes src and negatively acknowledges the
// records read ahead and not handed out, so they stay redeliverable.
func ReadAhead(src lakerelay.Source, opts ...func(*MapOptions)) *Mapped {
	return Map(src, nil, nil, opts...)
}

// Mapped is the source [Map] and [ReadAhead] return.
type Mapped struct {
	src     lakerelay.Source
	fn      func([]byte) ([]byte, error)
	q       Quarantiner
	workers int
	compact bool // MapOptions.CompactJSON

	mu      sync.Mutex // guards started and closed, and pushing to order
	started bool
	closed  bool
	stop    context.CancelFunc
	closing chan struct{} // closed by Close
	order   chan *mapJob  // jobs in the order src yielded them
	work    chan *mapJob  // jobs for the workers
	queued  atomic.Int64  // jobs in order or the head
	pending atomic.Int64  // records among them
	bytes   atomic.Int64  // data of those records
	freed   chan struct{} // signalled when Read is done with a job
	ahead   int
	aheadB  int64

	turn chan struct{} // held by the one Read that takes jobs from order
	head *mapJob       // guarded by turn: the job a Read gave up waiting for
	end  error         // guarded by turn: what Read returns from now on

	closeOnce sync.Once
	closeErr  error
}

// mapJob is one result of src.Read: a record to map, or src's error.
type mapJob struct {
	r      lakerelay.Record
	err    error // src's error; r is not a record then
	data   []byte
	mapErr error
	done   chan struct{} // closed once data and mapErr are set
}

var _ lakerelay.Source = (*Mapped)(nil)

// Pending is the number of records read from src and not handed out by Read
// yet (being mapped, or waiting for Read). It is always 0 with one worker.
func (m *Mapped) Pending() int { return int(m.pending.Load()) }

// Read returns the next mapped record, src's next error, or ctx's error when
// ctx ends first.
func (m *Mapped) Read(ctx context.Context) (lakerelay.Record, error) {
	if m.workers == 1 && m.fn != nil {
		return m.readHere(ctx)
	}
	if err := m.begin(); err != nil {
		return lakerelay.Record{}, err
	}
	select {
	case m.turn <- struct{}{}:
	case <-ctx.Done():
		return lakerelay.Record{}, ctx.Err()
	case <-m.closing:
		return lakerelay.Record{}, lakerelay.ErrClosed
	}
	defer func() { <-m.turn }()
	for {
		j := m.head
		if j == nil {
			if m.end != nil {
				return lakerelay.Record{}, m.end
			}
			select {
			case next, ok := <-m.order:
				if !ok {
					m.end = lakerelay.ErrClosed
					return lakerelay.Record{}, m.end
				}
				j = next
			case <-ctx.Done():
				return lakerelay.Record{}, ctx.Err()
			case <-m.closing:
				return lakerelay.Record{}, lakerelay.ErrClosed
			}
			m.head = j
		}
		select {
		case <-j.done:
		case <-ctx.Done():
			return lakerelay.Record{}, ctx.Err() // j stays the head
		case <-m.closing:
			return lakerelay.Record{}, lakerelay.ErrClosed // Close settles j
		}
		m.head = nil
		m.release(j)
		if j.err != nil {
			if endsSource(j.err) {
				m.end = j.err
			}
			return lakerelay.Record{}, j.err
		}
		if r, ok := m.result(j.r, j.data, j.mapErr); ok {
			return r, nil
		}
	}
}

// readHere reads and maps on the caller's goroutine.
func (m *Mapped) readHere(ctx context.Context) (lakerelay.Record, error) {
	for {
		r, err := m.src.Read(ctx)
		if err != nil {
			return r, err
		}
		data, err := m.fn(r.Data)
		if r, ok := m.result(r, data, err); ok {
			return r, nil
		}
	}
}

// result is r mapped to data, or false when fn failed with err and r went
// to the quarantine (or was negatively acknowledged).
func (m *Mapped) result(r lakerelay.Record, data []byte, err error) (lakerelay.Record, bool) {
	if err == nil {
		if m.fn != nil {
			r.Data, r.JSON = data, m.compact
		}
		return r, true
	}
	if m.q == nil {
		r.Settle(err)
	} else {
		m.q.Quarantine(r, err)
	}
	return lakerelay.Record{}, false
}

// endsSource reports whether src yields nothing after err.
func endsSource(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, lakerelay.ErrClosed)
}

// begin starts the reading and mapping goroutines once.
func (m *Mapped) begin() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return lakerelay.ErrClosed
	}
	if m.started {
		return nil
	}
	m.started = true
	ctx, stop := context.WithCancel(context.Background())
	m.stop = stop
	// The pump counts the records read ahead (pending) and waits for room,
	// so at most MaxAhead wait in order or are the head, and it never waits
	// for order or work. (src's errors take a place in order too.)
	m.order = make(chan *mapJob, m.ahead+1)
	if m.fn != nil {
		m.work = make(chan *mapJob, m.ahead+1)
	} else {
		m.work = make(chan *mapJob) // unused: closed by the pump
	}
	m.freed = make(chan struct{}, 1)
	m.turn = make(chan struct{}, 1)
	m.closing = make(chan struct{})
	workers := m.workers
	if m.fn == nil {
		workers = 0 // ReadAhead: the pump's records are done as read
	}
	go m.pump(ctx)
	for range workers {
		go func() {
			for j := range m.work {
				j.data, j.mapErr = m.fn(j.r.Data)
				close(j.done)
			}
		}()
	}
	return nil
}

// pump reads src in order until it ends or Close stops it. Close does not
// wait for it: a Read of src (from a pipe) may not return for long. Once
// it returns, the pump settles what it read and ends.
func (m *Mapped) pump(ctx context.Context) {
	defer close(m.work)
	defer close(m.order)
	// room waits until fits() or Close, and reports which.
	room := func(fits func() bool) bool {
		for m.queued.Load() > 0 && !fits() {
			select {
			case <-m.freed:
			case <-ctx.Done():
				return false
			}
		}
		return true
	}
	for {
		if !room(func() bool { return m.queued.Load() < int64(m.ahead) }) {
			return
		}
		r, err := m.src.Read(ctx)
		if err != nil && ctx.Err() != nil {
			return // Close: Read returns ErrClosed from now on
		}
		// A job is done at once unless a worker maps it: src's errors,
		// and every record of ReadAhead.
		j := &mapJob{r: r, err: err, done: doneAlready}
		if err == nil && m.fn != nil {
			j.done = make(chan struct{})
		}
		var size int64
		if err == nil {
			// The record's size is known now: it waits for room for its
			// bytes (one record is always let in).
			size = int64(len(r.Data))
			if !room(func() bool { return m.pending.Load() == 0 || m.bytes.Load()+size <= m.aheadB }) {
				r.Settle(errNotRead)
				return
			}
		}
		// Close drains order under mu: a job is pushed before Close
		// drains (and is drained by it), or not at all.
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			if err == nil {
				r.Settle(errNotRead)
			}
			return
		}
		m.queued.Add(1)
		if err == nil {
			m.pending.Add(1)
			m.bytes.Add(size)
		}
		m.order <- j // room: never full
		m.mu.Unlock()
		if err != nil {
			if endsSource(err) {
				return
			}
			continue
		}
		if m.fn == nil {
			continue
		}
		m.work <- j // never full either: it holds only jobs in order or the head
	}
}

// doneAlready is the done channel of jobs that need no worker.
var doneAlready = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// errNotRead negatively acknowledges the records read ahead and not handed
// out when the source is closed.
var errNotRead = fmt.Errorf("batch: mapped source closed before the record was read: %w", lakerelay.ErrClosed)

// Close stops reading, closes src and negatively acknowledges the records
// read ahead and not handed out (they stay redeliverable). Read returns
// [lakerelay.ErrClosed] afterwards. Close does not wait for a Read of src in
// progress (from a pipe, it may not return for long): what that Read
// returns is negatively acknowledged as it does. Close is idempotent.
func (m *Mapped) Close() error {
	m.closeOnce.Do(func() {
		m.mu.Lock()
		m.closed = true
		started := m.started
		m.mu.Unlock()
		if started {
			m.stop()
			close(m.closing)
		}
		m.closeErr = m.src.Close()
		if !started {
			return
		}
		m.turn <- struct{}{} // a Read in progress has returned (closing)
		defer func() { <-m.turn }()
		if m.head != nil {
			m.settleNotRead(m.head)
			m.head = nil
		}
		// Nothing is pushed to order any more (closed).
		for drained := false; !drained; {
			select {
			case j, ok := <-m.order:
				if ok {
					m.settleNotRead(j)
				} else {
					drained = true
				}
			default:
				drained = true
			}
		}
		m.end = lakerelay.ErrClosed
	})
	return m.closeErr
}

func (m *Mapped) settleNotRead(j *mapJob) {
	// A worker may still be mapping j.r.Data: once settled, the record's
	// memory may be reused (source.DecodeOptions.ReuseData). The pump hands
	// every job it queued to a worker, so j is done soon.
	<-j.done
	m.release(j)
	if j.err == nil {
		j.r.Settle(errNotRead)
	}
}

// release counts j as no longer queued, and lets the pump know.
func (m *Mapped) release(j *mapJob) {
	if j.err == nil {
		m.bytes.Add(-int64(len(j.r.Data)))
		m.pending.Add(-1)
	}
	m.queued.Add(-1)
	select {
	case m.freed <- struct{}{}:
	default:
	}
}

package source

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/lakerelay/lakerelay"
)

// With DecodeOptions.ReuseData, records are cut from slabs: blocks of
// slabSize bytes that go back to slabs.free once every record cut from them
// is settled, so that a long run touches the same memory again instead of
// fresh pages (each first touch is a page fault, and the collector must
// clear what is not reused).
const (
	slabSize = 64 << 10
	// maxSlabbed is the largest record cut from a slab; a larger one has an
	// allocation of its own, so that a slab is at most a quarter unused.
	maxSlabbed = slabSize / 4
	// maxFreeSlabs bounds the memory idle slabs keep: 16 MiB.
	maxFreeSlabs = 256
)

// slabAfter is how many bytes of an object's first records are not cut
// from slabs (a variable so that tests can cut every record).
var slabAfter = slabSize

// slab is a block records are cut from. refs counts the records cut from it
// that are not yet settled, plus one while a decoder still cuts from it.
type slab struct {
	buf  []byte
	refs atomic.Int64
	// ack releases one record's hold; it is made once per slab, so that a
	// record's Ack costs no allocation.
	ack lakerelay.AckFunc
}

// slabPool holds idle slabs.
type slabPool struct {
	mu   sync.Mutex
	free []*slab
	// made counts the slabs allocated and held those not yet released:
	// the tests read them to show that slabs are released and reused.
	made, held atomic.Int64
}

var slabs slabPool

// get returns an empty slab held once (by the decoder that cuts from it).
func (p *slabPool) get() *slab {
	p.mu.Lock()
	var s *slab
	if n := len(p.free); n > 0 {
		s = p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
	}
	p.mu.Unlock()
	if s == nil {
		s = &slab{buf: make([]byte, 0, slabSize)}
		s.ack = func(error) { s.release() }
		p.made.Add(1)
	}
	p.held.Add(1)
	s.refs.Store(1)
	return s
}

// errSettledTwice is the panic of a record read with ReuseData settled
// more than once, when its slab's holds show it.
var errSettledTwice = errors.New("source: a record read with DecodeOptions.ReuseData was settled more than once (AckFunc is called exactly once); the memory of records still held may have been reused")

// release drops one hold on s; the last one returns it to the pool.
func (s *slab) release() {
	// A record settled twice, against AckFunc's contract, takes another
	// record's hold: the slab may then be reused while records cut from it
	// are still held (DecodeOptions.ReuseData says so). Once the holds go
	// below zero that has happened for sure: say so, rather than let the
	// slab be handed out twice.
	if n := s.refs.Add(-1); n != 0 {
		if n < 0 {
			panic(errSettledTwice)
		}
		return
	}
	s.buf = s.buf[:0]
	slabs.held.Add(-1)
	slabs.mu.Lock()
	if len(slabs.free) < maxFreeSlabs {
		slabs.free = append(slabs.free, s)
	}
	slabs.mu.Unlock()
}

// reserve returns n bytes of room for one record from d's current slab,
// taking a new slab when it is full, and counts the record's hold. It
// returns nil, nil when the record is not to be cut from a slab: a large
// one, or one of an object's first slabAfter bytes of records. Small objects
// thus never take a slab: each would hold one of its own, mostly unused,
// for as long as any of its records is held, and a reader holding the
// records of many small objects (a batch of 4096) would hold that many.
func (d *decoder) reserve(n int) ([]byte, *slab) {
	if !d.opts.ReuseData || n > maxSlabbed {
		return nil, nil
	}
	if d.cur == nil && d.unslabbed < slabAfter {
		d.unslabbed += n
		return nil, nil
	}
	s := d.cur
	if s == nil || cap(s.buf)-len(s.buf) < n {
		if s != nil {
			s.release()
		}
		s = slabs.get()
		d.cur = s
	}
	off := len(s.buf)
	s.buf = s.buf[:off+n]
	s.refs.Add(1)
	return s.buf[off : off : off+n], s
}

// dropSlab releases the decoder's hold on its current slab.
func (d *decoder) dropSlab() {
	if d.cur != nil {
		d.cur.release()
		d.cur = nil
	}
}

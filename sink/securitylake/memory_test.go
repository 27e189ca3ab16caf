package securitylake

import (
	"context"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/source"
)

// ndjsonGen generates NDJSON events on the fly, up to limit bytes.
type ndjsonGen struct {
	rng   *rand.Rand
	i     int
	limit int64
	n     int64
	buf   []byte
}

func (g *ndjsonGen) Read(p []byte) (int, error) {
	if len(g.buf) == 0 {
		if g.n >= g.limit {
			return 0, io.EOF
		}
		g.buf = append(genEvent(g.rng, g.i, true), '\n')
		g.i++
	}
	k := copy(p, g.buf)
	g.buf = g.buf[k:]
	g.n += int64(k)
	return k, nil
}

// heapSampler records the peak of the live heap (as measured by each GC)
// and of the heap objects (live and not yet collected).
type heapSampler struct {
	peak atomic.Uint64 // live
	objs atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{})}
	runtime.GC()
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > h.peak.Load() {
				h.peak.Store(v)
			}
			if v := s[1].Value.Uint64(); v > h.objs.Load() {
				h.objs.Store(v)
			}
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) done() (live, objects uint64) {
	close(h.stop)
	h.wg.Wait()
	return h.peak.Load(), h.objs.Load()
}

// pipeline streams size bytes of generated NDJSON through a source, the
// sink's Partition, a batcher and WriteBatch into a store that discards
// the objects, and returns the peak live heap, the records and the objects
// written.
func pipeline(t testing.TB, size int64, limits func(*batch.Options)) (peak, heap uint64, records, objects int64) {
	store := &discardStore{}
	var objs atomic.Int64
	s, err := New(store, "s3://discard/ext/mem/", 6003, func(o *Options) {
		o.OnWrite = func(Written) { objs.Add(1) }
	})
	require.NoError(t, err)
	b, err := batch.New(s, BatchOptions, limits)
	require.NoError(t, err)
	src, err := source.NewReader("generated.ndjson", &ndjsonGen{rng: rand.New(rand.NewPCG(3, 3)), limit: size}, func(o *source.ReaderOptions) {
		o.Decode.StreamType = source.NDJSON
	})
	require.NoError(t, err)
	ctx := context.Background()
	h := startHeapSampler()
	for {
		r, err := src.Read(ctx)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		p, err := s.Partition(r)
		require.NoError(t, err)
		require.NoError(t, b.Add(ctx, p, r))
		records++
	}
	require.NoError(t, b.Close(ctx))
	peak, heap = h.done()
	require.NoError(t, src.Close())
	return peak, heap, records, objs.Load()
}

// TestBoundedMemory streams 32 MiB and 128 MiB through the pipeline with
// 8 MiB batches and 16 MiB of pending records: four times the input does not
// need more memory.
func TestBoundedMemory(t *testing.T) {
	limits := func(o *batch.Options) { o.MaxBytes, o.MaxPendingBytes = 8<<20, 16<<20 }
	var peaks []uint64
	for _, size := range []int64{int64(scaled(32 << 20)), int64(scaled(128 << 20))} {
		peak, heap, records, objects := pipeline(t, size, limits)
		t.Logf("%d MiB input, %d records, %d objects: peak live heap %d MiB, peak heap objects %d MiB", size>>20, records, objects, peak>>20, heap>>20)
		assert.Greater(t, objects, size/(8<<20)-1)
		peaks = append(peaks, peak)
	}
	assert.Less(t, peaks[1], peaks[0]*3/2+32<<20, "memory is bounded by the batch limits, not by the input")
}

// BenchmarkPeakHeap1GB streams 1 GiB of generated NDJSON through the
// pipeline and reports the peak live heap, with the Security Lake defaults
// and with tight limits.
func BenchmarkPeakHeap1GB(b *testing.B) {
	const size = 1 << 30
	for _, c := range []struct {
		name   string
		limits func(*batch.Options)
	}{
		{"defaults", func(*batch.Options) {}},
		{"batch=32MiB,pending=64MiB", func(o *batch.Options) { o.MaxBytes, o.MaxPendingBytes = 32<<20, 64<<20 }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(size)
			var peak, heap uint64
			var records int64
			for b.Loop() {
				peak, heap, records, _ = pipeline(b, size, c.limits)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-live-heap-MiB")
			b.ReportMetric(float64(heap)/(1<<20), "peak-heap-objects-MiB")
			b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

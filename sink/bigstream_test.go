package sink

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

var bigSize = flag.Int64("sink.bigsize", 128<<20, "bytes of JSONL the bounded-memory tests stream (2 GiB: -sink.bigsize=2147483648)")

// heapSampler records the peak of live and unswept heap objects while it runs.
type heapSampler struct {
	stop chan struct{}
	done chan struct{}
	peak atomic.Uint64
}

func sampleHeap() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(h.done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > h.peak.Load() {
				h.peak.Store(v)
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

func (h *heapSampler) Stop() uint64 {
	close(h.stop)
	<-h.done
	return h.peak.Load()
}

// mix is splitmix64: deterministic, random-looking bits from i.
func mix(i int64) uint64 {
	z := uint64(i) + 0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// recordGen makes distinct JSON records of about 650 bytes that compress
// about 5:1 with gzip, like real logs.
func recordGen(i int64) []byte {
	return fmt.Appendf(nil, `{"time":%d,"id":"%016x%016x","req":"%016X","seq":%d,"user":"user-%d","event":"PutObject","src":"10.%d.%d.%d","ua":"aws-sdk-go-v2/1.30.0 os/linux lang/go#1.24 md/GOOS#linux md/GOARCH#amd64 api/s3#1.50.0","resource":"arn:aws:s3:::bucket-%d/logs/2026/12/01/%016x.json.gz","detail":{"bytes":%d,"ok":%t,"tags":["a","b","c"],"note":"the quick brown fox jumps over the lazy dog %d times, and then some more text to reach a realistic size for a log line of this kind"}}`,
		1764547200000+i, mix(i), mix(i+1<<40), mix(i+2<<40), i, i%977, i%256, (i/256)%256, i%251, i%17, uint64(i)*0x9E3779B97F4A7C15, i*37%100000, i%3 == 0, i)
}

func lineHash(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// TestBoundedMemoryExport streams -sink.bigsize bytes of records through
// the batcher and the JSONL gzip sink into MinIO as multipart objects, reads
// everything back, and checks that every record arrived exactly once while
// the heap stayed bounded by the batch and upload limits, not by the input.
func TestBoundedMemoryExport(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	store, err := NewS3(m.S3(t), bucket, func(o *S3Options) { o.PartSize = 5 << 20 })
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewJSONL(store, func(o *JSONLOptions) { o.Prefix = "big/" })
	if err != nil {
		t.Fatal(err)
	}
	const batchBytes = 64 << 20
	var stored, failed atomic.Int64
	b, err := batch.New(s, func(o *batch.Options) {
		o.MaxRecords = 1 << 30
		o.MaxBytes = batchBytes
		o.MaxAge = time.Hour
		o.MaxPendingBytes = 2*batchBytes + 4<<20
		o.FlushConcurrency = 2
		o.OnFlush = func(r batch.FlushResult) {
			if r.Err != nil {
				failed.Add(int64(r.Records))
				t.Errorf("flush: %v", r.Err)
			} else {
				stored.Add(int64(r.Records))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	heap := sampleHeap()
	start := time.Now()
	var n, total int64
	var sum uint64
	for total < *bigSize {
		data := recordGen(n)
		sum += lineHash(data)
		total += int64(len(data)) + 1
		if err := b.Add(ctx, "big/", lakerelay.Record{Data: data}); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	peak := heap.Stop()
	st := s.Stats()
	t.Logf("exported %d records, %.1f MiB JSONL in %d objects (%.1f MiB gzip) in %v (%.0f MB/s); peak heap %.1f MiB",
		n, float64(total)/(1<<20), st.Objects, float64(st.Bytes)/(1<<20), elapsed.Round(time.Millisecond),
		float64(total)/1e6/elapsed.Seconds(), float64(peak)/(1<<20))
	if stored.Load() != n || failed.Load() != 0 {
		t.Fatalf("stored %d of %d records, %d failed", stored.Load(), n, failed.Load())
	}
	// Memory: the batcher's MaxPendingBytes of records plus two uploads of
	// (Concurrency+2) parts, whatever the input size; GC pacing may double
	// live memory. The batcher charges len(Data), and the allocator rounds
	// each record up to its size class (513-byte records take 576): an
	// eighth more.
	pending := uint64(2*batchBytes+4<<20) * 9 / 8
	budget := 2*(pending+uint64(2*(DefaultConcurrency+2)*(5<<20))) + 64<<20
	if peak > budget {
		t.Errorf("peak heap %d MiB exceeds the bound %d MiB", peak>>20, budget>>20)
	}

	// Read everything back: each record exactly once.
	var gotN int64
	var gotSum uint64
	var keys []string
	var multipart int
	if err := store.List(ctx, "big/", func(o ObjectInfo) error {
		keys = append(keys, o.Key)
		if o.Size > 5<<20 {
			multipart++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if multipart == 0 {
		t.Errorf("no object larger than one part: multipart upload not exercised")
	}
	for _, k := range keys {
		rc, err := store.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bufio.NewReaderSize(rc, 1<<20))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			gotN++
			gotSum += lineHash(sc.Bytes())
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		rc.Close()
	}
	if gotN != n || gotSum != sum {
		t.Fatalf("read back %d records (hash sum %x), want %d (%x)", gotN, gotSum, n, sum)
	}
}

// jsonlStream generates gzip JSONL of about size bytes (uncompressed) on
// the fly, never holding more than a compressor window.
func jsonlStream(size int64) (io.Reader, func() (int64, uint64)) {
	pr, pw := io.Pipe()
	var n int64
	var sum uint64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		zw, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed)
		bw := bufio.NewWriterSize(zw, 64<<10)
		var total int64
		for total < size {
			line := recordGen(n)
			sum += lineHash(line)
			n++
			total += int64(len(line)) + 1
			bw.Write(line)
			bw.WriteByte('\n')
		}
		bw.Flush()
		pw.CloseWithError(zw.Close())
	}()
	return pr, func() (int64, uint64) { wg.Wait(); return n, sum }
}

// TestBoundedMemoryPut streams one -sink.bigsize JSONL gzip object through
// S3Store.Put (a multipart upload) and reads it back: the heap stays within
// (Concurrency+2) parts plus a small constant.
func TestBoundedMemoryPut(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	store, err := NewS3(m.S3(t), bucket)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	body, result := jsonlStream(*bigSize)
	heap := sampleHeap()
	start := time.Now()
	if err := store.Put(ctx, "one/big.json.gz", body, PutOptions{ContentType: "application/x-ndjson", ContentEncoding: "gzip"}); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	peak := heap.Stop()
	n, sum := result()
	var size int64
	store.List(ctx, "one/", func(o ObjectInfo) error { size = o.Size; return nil })
	t.Logf("put one object: %d records, %.1f MiB JSONL, %.1f MiB gzip, %d parts, in %v; peak heap %.1f MiB",
		n, float64(*bigSize)/(1<<20), float64(size)/(1<<20), (size+DefaultPartSize-1)/DefaultPartSize, elapsed.Round(time.Millisecond), float64(peak)/(1<<20))
	if size <= DefaultPartSize {
		t.Fatalf("object of %d bytes: not multipart", size)
	}
	// (Concurrency+2) parts live, the generator's compressor, and GC pacing.
	if budget := uint64(3*(DefaultConcurrency+2)*DefaultPartSize) + 32<<20; peak > budget {
		t.Errorf("peak heap %d MiB exceeds %d MiB", peak>>20, budget>>20)
	}
	rc, err := store.Get(ctx, "one/big.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(rc, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	var gotN int64
	var gotSum uint64
	for sc.Scan() {
		gotN++
		gotSum += lineHash(sc.Bytes())
	}
	if err := sc.Err(); err != nil || gotN != n || gotSum != sum {
		t.Fatalf("read back %d records (%x), %v; want %d (%x)", gotN, gotSum, err, n, sum)
	}
}

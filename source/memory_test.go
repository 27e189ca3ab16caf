package source

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/gzip"

	"github.com/lakerelay/lakerelay/internal/testenv"
)

// heapPeak samples the heap until stop is called and returns the largest
// HeapAlloc seen.
func heapPeak() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak.Load()
	}
}

// TestLargeObjectBoundedMemory uploads a gzip object of 1 GiB of
// CloudTrail-like NDJSON (uncompressed) to MinIO, announces it on SQS, and
// reads every record through the SQS source while sampling the heap: the
// peak must stay under 64 MiB. (Under the race detector, which makes
// everything about ten times slower, the object is 128 MiB.)
func TestLargeObjectBoundedMemory(t *testing.T) {
	size := int64(1 << 30)
	if raceEnabled {
		size = 128 << 20
	}
	e := newEnv(t, testenv.QueueOptions{VisibilityTimeout: 30 * time.Second})

	path := filepath.Join(t.TempDir(), "big.json.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	zw, _ := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	records, err := genNDJSON(zw, size)
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	bw.Flush()
	f.Seek(0, io.SeekStart)
	fi, _ := f.Stat()
	key := "AWSLogs/123456789012/CloudTrail/us-east-1/big object.json.gz"
	if _, err := e.s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &e.bucket, Key: &key, Body: f}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	os.Remove(path)
	// Read twice: records owning their memory, then with ReuseData.
	for _, reuse := range []bool{false, true} {
		t.Run(fmt.Sprintf("ReuseData=%v", reuse), func(t *testing.T) {
			e.notify(key)
			readLarge(t, e, records, size, fi.Size(), reuse)
		})
	}
}

// readLarge reads the one object announced on e's queue, records of
// size bytes in all, and checks the peak heap.
func readLarge(t *testing.T, e *env, records int, size, compressed int64, reuse bool) {
	runtime.GC()
	made0 := slabs.made.Load()
	stop := heapPeak()
	start := time.Now()
	s, c := e.source(func(o *SQSOptions) {
		o.VisibilityTimeout = 30 * time.Second
		o.Workers = 1
		o.Decode.ReuseData = reuse
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var n, bytes int64
	for n < int64(records) {
		r, err := s.Read(ctx)
		if err != nil {
			t.Fatalf("after %d of %d records: %v (errors %v)", n, records, err, c.errors())
		}
		if r.Origin.Index != n {
			t.Fatalf("record %d has index %d", n, r.Origin.Index)
		}
		n++
		bytes += int64(len(r.Data)) + 1
		r.Settle(nil)
	}
	waitFor(t, 30*time.Second, "deleted", func() bool { return s.Stats().Deleted == 1 })
	elapsed := time.Since(start)
	peak := stopAndClose(stop, s)
	made := slabs.made.Load() - made0
	t.Logf("%d records, %d MiB uncompressed, %d MiB compressed, %.1fs (%.0f MB/s), peak heap %.1f MiB, %d slabs made",
		n, bytes>>20, compressed>>20, elapsed.Seconds(), float64(bytes)/elapsed.Seconds()/1e6, float64(peak)/(1<<20), made)
	if bytes < size {
		t.Fatalf("read %d bytes, generated %d", bytes, size)
	}
	if peak >= 64<<20 {
		t.Fatalf("peak heap %d bytes, want < 64 MiB", peak)
	}
	// Each record settled as read: a few slabs serve them all.
	if reuse && made > 8 {
		t.Fatalf("%d slabs made for %d MiB of records", made, bytes>>20)
	}
}

func stopAndClose(stop func() uint64, s *SQS) uint64 {
	p := stop()
	s.Close()
	return p
}

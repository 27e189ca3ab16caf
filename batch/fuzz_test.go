package batch

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lakerelay/lakerelay"
)

var errTransient = errors.New("sink: transient")

// FuzzBatcher drives a Batcher with a random sequence of Adds (some too
// large, some with a context that ends while blocked), clock advances, sink
// failure modes (ok, transient, permanent), Flushes and a Close, and checks
// the delivery contract:
//
//   - every record Add took is settled exactly once; every record it did not
//     take is never settled and never written;
//   - a record is acked if and only if a WriteBatch holding it returned nil;
//   - every WriteBatch call holds one partition's records, in Add order, at
//     most MaxRecords of them and at most MaxBytes of data; retries repeat
//     the same batch;
//   - the memory held never exceeds MaxPendingBytes (but for a lone record),
//     and nothing is held after Close.
func FuzzBatcher(f *testing.F) {
	f.Add([]byte{3, 10, 1, 2, 1, 0, 5, 0, 5, 8, 5, 4, 9, 6, 7})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 1, 0, 2, 0, 3, 4, 15, 0, 1})
	f.Add([]byte{7, 63, 3, 3, 2, 5, 1, 0, 60, 8, 60, 4, 3, 16, 60, 4, 3, 5, 0, 7, 0})
	f.Add([]byte{2, 20, 0, 1, 0, 5, 2, 0, 30, 0, 30, 6, 0, 30, 7, 1, 0, 5})
	f.Add([]byte{1, 5, 0, 3, 1, 5, 1, 0, 5, 0, 5, 0, 5, 0, 5, 0, 5, 0, 5, 0, 5, 4, 2, 4, 2, 4, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 5 {
			return
		}
		// A hang is a bug too: report it with every goroutine's stack.
		watchdog := time.AfterFunc(30*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic("FuzzBatcher: input hung for 30s\n" + string(buf[:runtime.Stack(buf, true)]))
		})
		defer watchdog.Stop()
		cfg, ops := data[:5], data[5:]
		if len(ops) > 200 {
			ops = ops[:200]
		}
		limits := Limits{
			MaxRecords: 1 + int(cfg[0]%8),
			MaxBytes:   1 + int64(cfg[1]%64),
			MaxAge:     time.Second,
		}
		limits.MaxPendingBytes = limits.MaxBytes + int64(cfg[2]%4)*(limits.MaxBytes+RecordOverhead)
		clock := newManualClock()
		var mode atomic.Int32 // 0 ok, 1 transient, 2 permanent
		ledger := newLedger()
		partOf := map[int64]string{} // taken records
		notTaken := map[int64]bool{}
		var violations []string
		var vmu sync.Mutex
		violate := func(s string) {
			vmu.Lock()
			violations = append(violations, s)
			vmu.Unlock()
		}

		var b *Batcher
		checkMemory := func(where string) {
			st := b.Stats()
			if st.PendingBytes > limits.MaxPendingBytes && st.PendingRecords > 1 {
				violate(where + ": pending memory beyond MaxPendingBytes")
			}
		}
		sink := &testSink{fail: func(context.Context, string, int) error {
			checkMemory("WriteBatch")
			switch mode.Load() {
			case 1:
				return errTransient
			case 2:
				return lakerelay.Permanent(errTransient)
			}
			return nil
		}}
		var err error
		b, err = New(sink, func(o *Options) {
			o.Limits = limits
			o.MaxRetries = int(cfg[3] % 4)
			o.RetryBackoff = 100 * time.Millisecond
			o.MaxRetryBackoff = 400 * time.Millisecond
			o.FlushConcurrency = 1 + int(cfg[4]%3)
			o.Clock = clock
		})
		if err != nil {
			t.Fatal(err)
		}

		// closeB closes b while another goroutine keeps the clock moving, so
		// that retries run out; or, when abandon is set, with a context that
		// has already ended.
		closed := false
		closeB := func(abandon bool) {
			closed = true
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if abandon {
				cancel()
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
						clock.Advance(100 * time.Millisecond)
						time.Sleep(50 * time.Microsecond)
					}
				}
			}()
			_ = b.Close(ctx)
			close(stop)
			wg.Wait()
		}
		next := func(i *int) byte {
			if *i+1 < len(ops) {
				*i++
				return ops[*i]
			}
			return 0
		}

		for i := 0; i < len(ops); i++ {
			op := ops[i]
			switch op % 8 {
			case 0, 1, 2, 3: // Add
				part := string(rune('a' + (op>>3)%3))
				size := int(next(&i)) % int(limits.MaxBytes+8)
				r := ledger.record(size)
				ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
				err := b.Add(ctx, part, r)
				cancel()
				id := r.Origin.Index
				switch {
				case err == nil:
					if closed {
						violate("Add after Close took a record")
					}
					partOf[id] = part
				case errors.Is(err, lakerelay.ErrTooLarge):
					if int64(size) <= limits.MaxBytes {
						violate("record within MaxBytes rejected as too large")
					}
					notTaken[id] = true
				case errors.Is(err, lakerelay.ErrClosed):
					if !closed {
						violate("ErrClosed before Close")
					}
					notTaken[id] = true
				case errors.Is(err, context.DeadlineExceeded):
					notTaken[id] = true
				default:
					t.Fatalf("Add: unexpected error %v", err)
				}
				checkMemory("Add")
			case 4: // advance time
				clock.Advance(time.Duration(next(&i)%16) * 100 * time.Millisecond)
			case 5: // sink failure mode
				mode.Store(int32(next(&i) % 3))
			case 6: // Flush
				ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
				_ = b.Flush(ctx)
				cancel()
			case 7: // Close
				if !closed {
					closeB(next(&i)%2 == 1)
				}
			}
		}
		if !closed {
			closeB(false)
		}

		for _, v := range violations {
			t.Error(v)
		}
		stored := map[int64]bool{}
		batchOf := map[int64][]int64{}
		for _, c := range sink.Calls() {
			if len(c.IDs) == 0 || len(c.IDs) > limits.MaxRecords {
				t.Errorf("WriteBatch with %d records (MaxRecords %d)", len(c.IDs), limits.MaxRecords)
			}
			if c.Bytes > limits.MaxBytes {
				t.Errorf("WriteBatch with %d bytes (MaxBytes %d)", c.Bytes, limits.MaxBytes)
			}
			if !slices.IsSorted(c.IDs) {
				t.Errorf("batch %v not in Add order", c.IDs)
			}
			for _, id := range c.IDs {
				p, ok := partOf[id]
				if !ok {
					t.Errorf("record %d written but not taken", id)
				} else if p != c.Partition {
					t.Errorf("record %d of partition %q written to %q", id, p, c.Partition)
				}
				if prev, ok := batchOf[id]; ok && !slices.Equal(prev, c.IDs) {
					t.Errorf("record %d in two batches %v and %v", id, prev, c.IDs)
				}
				batchOf[id] = c.IDs
				if c.Err == nil {
					stored[id] = true
				}
			}
		}
		for id := range partOf {
			s := ledger.settlements(id)
			if len(s) != 1 {
				t.Errorf("record %d settled %d times", id, len(s))
				continue
			}
			if (s[0] == nil) != stored[id] {
				t.Errorf("record %d settled with %v, stored %v", id, s[0], stored[id])
			}
		}
		for id := range notTaken {
			if s := ledger.settlements(id); len(s) != 0 {
				t.Errorf("record %d not taken but settled %d times", id, len(s))
			}
		}
		st := b.Stats()
		if st.PendingBytes != 0 || st.PendingRecords != 0 || st.OpenBatches != 0 || st.FlushingBatches != 0 {
			t.Errorf("state after Close: %+v", st)
		}
		if st.Acked+st.Nacked != int64(len(partOf)) {
			t.Errorf("acked %d + nacked %d != taken %d", st.Acked, st.Nacked, len(partOf))
		}
		if d := clock.Durations(); len(d) != 0 {
			t.Errorf("timers still active after Close: %v", d)
		}
	})
}

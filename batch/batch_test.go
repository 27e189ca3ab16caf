package batch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/lakerelay/lakerelay"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

var errBoom = errors.New("sink: boom")

type flushed struct {
	Partition string
	Records   int
	Reason    FlushReason
}

func results(h *harness) []flushed {
	var out []flushed
	for _, r := range h.log.Results() {
		out = append(out, flushed{r.Partition, r.Records, r.Reason})
	}
	return out
}

// TestLimits shows that each limit, on its own, flushes a batch exactly when
// it is reached, and not before.
func TestLimits(t *testing.T) {
	type step struct {
		add     string // partition to add a record to
		size    int
		advance time.Duration
		want    []flushed // flushes expected so far, checked after this step
	}
	add := func(p string, size int) step { return step{add: p, size: size} }
	advance := func(d time.Duration, want ...flushed) step {
		return step{advance: d, want: want}
	}
	check := func(want ...flushed) step { return step{want: want} }

	tests := []struct {
		name      string
		limits    Limits
		steps     []step
		wantFinal []flushed // after a final Flush
	}{
		{
			name:   "MaxRecords",
			limits: Limits{MaxRecords: 3, MaxBytes: 1 << 20, MaxAge: time.Hour, MaxPendingBytes: 8 << 20},
			steps: []step{
				add("a", 10), add("a", 10), check(),
				add("a", 10), check(flushed{"a", 3, ReasonRecords}),
				add("a", 10), add("a", 10), add("a", 10), add("a", 10),
				check(flushed{"a", 3, ReasonRecords}, flushed{"a", 3, ReasonRecords}),
			},
			wantFinal: []flushed{{"a", 3, ReasonRecords}, {"a", 3, ReasonRecords}, {"a", 1, ReasonFlush}},
		},
		{
			name:   "MaxBytes reached exactly",
			limits: Limits{MaxRecords: 100, MaxBytes: 10, MaxAge: time.Hour, MaxPendingBytes: 8 << 20},
			steps: []step{
				add("a", 5), check(),
				add("a", 5), check(flushed{"a", 2, ReasonBytes}),
				add("a", 5),
			},
			wantFinal: []flushed{{"a", 2, ReasonBytes}, {"a", 1, ReasonFlush}},
		},
		{
			name:   "MaxBytes would be exceeded by the next record",
			limits: Limits{MaxRecords: 100, MaxBytes: 10, MaxAge: time.Hour, MaxPendingBytes: 8 << 20},
			steps: []step{
				add("a", 4), add("a", 4), check(),
				add("a", 4), check(flushed{"a", 2, ReasonBytes}),
				add("a", 6), check(flushed{"a", 2, ReasonBytes}, flushed{"a", 2, ReasonBytes}),
			},
			wantFinal: []flushed{{"a", 2, ReasonBytes}, {"a", 2, ReasonBytes}},
		},
		{
			name:   "empty records count against MaxRecords only",
			limits: Limits{MaxRecords: 2, MaxBytes: 1, MaxAge: time.Hour, MaxPendingBytes: 8 << 20},
			steps: []step{
				add("a", 0), add("a", 0), check(flushed{"a", 2, ReasonRecords}),
				add("a", 1), check(flushed{"a", 2, ReasonRecords}, flushed{"a", 1, ReasonBytes}),
			},
			wantFinal: []flushed{{"a", 2, ReasonRecords}, {"a", 1, ReasonBytes}},
		},
		{
			name:   "MaxAge counts from the oldest record",
			limits: Limits{MaxRecords: 100, MaxBytes: 1 << 20, MaxAge: time.Minute, MaxPendingBytes: 8 << 20},
			steps: []step{
				add("a", 1), advance(30 * time.Second),
				add("a", 1), advance(29 * time.Second),
				advance(time.Second, flushed{"a", 2, ReasonAge}),
				advance(time.Hour, flushed{"a", 2, ReasonAge}),
			},
			wantFinal: []flushed{{"a", 2, ReasonAge}},
		},
		{
			name:   "MaxAge per partition",
			limits: Limits{MaxRecords: 100, MaxBytes: 1 << 20, MaxAge: time.Minute, MaxPendingBytes: 8 << 20},
			steps: []step{
				add("a", 1), advance(30 * time.Second),
				add("b", 1), advance(30*time.Second, flushed{"a", 1, ReasonAge}),
				add("a", 1),
				advance(30*time.Second, flushed{"a", 1, ReasonAge}, flushed{"b", 1, ReasonAge}),
				advance(30*time.Second, flushed{"a", 1, ReasonAge}, flushed{"b", 1, ReasonAge}, flushed{"a", 1, ReasonAge}),
			},
			wantFinal: []flushed{{"a", 1, ReasonAge}, {"b", 1, ReasonAge}, {"a", 1, ReasonAge}},
		},
		{
			name:   "a batch flushed by count starts a fresh age",
			limits: Limits{MaxRecords: 2, MaxBytes: 1 << 20, MaxAge: time.Minute, MaxPendingBytes: 8 << 20},
			steps: []step{
				add("a", 1), advance(50 * time.Second),
				add("a", 1), check(flushed{"a", 2, ReasonRecords}),
				add("a", 1), advance(59*time.Second, flushed{"a", 2, ReasonRecords}),
				advance(time.Second, flushed{"a", 2, ReasonRecords}, flushed{"a", 1, ReasonAge}),
			},
			wantFinal: []flushed{{"a", 2, ReasonRecords}, {"a", 1, ReasonAge}},
		},
		{
			name:   "partitions batch independently",
			limits: Limits{MaxRecords: 2, MaxBytes: 1 << 20, MaxAge: time.Hour, MaxPendingBytes: 8 << 20},
			steps: []step{
				add("a", 1), add("b", 1), check(),
				add("a", 1), check(flushed{"a", 2, ReasonRecords}),
				add("c", 1), add("b", 1), check(flushed{"a", 2, ReasonRecords}, flushed{"b", 2, ReasonRecords}),
			},
			wantFinal: []flushed{{"a", 2, ReasonRecords}, {"b", 2, ReasonRecords}, {"c", 1, ReasonFlush}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(o *Options) { o.Limits = tt.limits })
			var ids []int64
			for i, s := range tt.steps {
				if s.add != "" {
					ids = append(ids, h.add(t, s.add, s.size))
				}
				if s.advance > 0 {
					h.clock.Advance(s.advance)
				}
				if s.add == "" {
					h.idle(t)
					require.Equal(t, s.want, results(h), "after step %d", i)
				}
			}
			require.NoError(t, h.b.Flush(context.Background()))
			assert.Equal(t, tt.wantFinal, results(h))
			for _, c := range h.sink.Calls() {
				assert.LessOrEqual(t, len(c.IDs), tt.limits.MaxRecords, "batch records")
				assert.LessOrEqual(t, c.Bytes, tt.limits.MaxBytes, "batch bytes")
			}
			for _, id := range ids {
				assert.Equal(t, []error{nil}, h.ledger.settlements(id), "record %d", id)
			}
		})
	}
}

func TestAddRejectsTooLarge(t *testing.T) {
	h := newHarness(t, func(o *Options) {
		o.Limits = Limits{MaxRecords: 10, MaxBytes: 10, MaxAge: time.Hour, MaxPendingBytes: 1000}
	})
	big := h.ledger.record(11)
	err := h.b.Add(context.Background(), "a", big)
	require.ErrorIs(t, err, lakerelay.ErrTooLarge)
	assert.True(t, lakerelay.IsPermanent(err))
	assert.Contains(t, err.Error(), "test/object#0", "error names the record's origin")
	assert.Zero(t, h.b.Stats().PendingRecords, "oversized record not taken")

	fits := h.add(t, "a", 10) // exactly MaxBytes is fine
	require.NoError(t, h.b.Close(context.Background()))
	assert.Empty(t, h.ledger.settlements(big.Origin.Index), "rejected record is the caller's to settle")
	assert.Equal(t, []error{nil}, h.ledger.settlements(fits))
}

func TestAddAndFlushAfterClose(t *testing.T) {
	h := newHarness(t, nil)
	require.NoError(t, h.b.Close(context.Background()))
	r := h.ledger.record(1)
	require.ErrorIs(t, h.b.Add(context.Background(), "a", r), lakerelay.ErrClosed)
	require.ErrorIs(t, h.b.Flush(context.Background()), lakerelay.ErrClosed)
	require.NoError(t, h.b.Close(context.Background()), "Close is idempotent")
	assert.Empty(t, h.ledger.settlements(r.Origin.Index))
	assert.Empty(t, h.sink.Calls())
}

func TestAddWithEndedContext(t *testing.T) {
	h := newHarness(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := h.ledger.record(1)
	require.ErrorIs(t, h.b.Add(ctx, "a", r), context.Canceled)
	require.NoError(t, h.b.Close(context.Background()))
	assert.Empty(t, h.ledger.settlements(r.Origin.Index))
	assert.Empty(t, h.sink.Calls())
}

// gate makes a sink block in WriteBatch until released, one call per
// release; entered receives a value for every call that started.
type gate struct {
	entered chan string
	release chan struct{}
}

func newGate() *gate {
	return &gate{entered: make(chan string, 100), release: make(chan struct{}, 100)}
}

func (g *gate) fail(ctx context.Context, partition string, _ int) error {
	g.entered <- partition
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gate) waitEntered(t testing.TB) string {
	t.Helper()
	select {
	case p := <-g.entered:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("sink was not called within 5s")
		return ""
	}
}

func TestBackpressure(t *testing.T) {
	const size = 100
	const charge = size + RecordOverhead
	limits := Limits{MaxRecords: 1, MaxBytes: size, MaxAge: time.Hour, MaxPendingBytes: 3 * charge}

	t.Run("Add blocks at the bound and resumes when a flush frees memory", func(t *testing.T) {
		g := newGate()
		h := newHarness(t, func(o *Options) { o.Limits = limits })
		h.sink.fail = g.fail
		var ids []int64
		for range 3 {
			ids = append(ids, h.add(t, "a", size))
		}
		g.waitEntered(t)
		assert.EqualValues(t, 3*charge, h.b.Stats().PendingBytes)

		r := h.ledger.record(size)
		done := make(chan error, 1)
		go func() { done <- h.b.Add(context.Background(), "a", r) }()
		eventually(t, "Add to block", func() bool { return h.b.Stats().WaitingAdds == 1 })
		select {
		case err := <-done:
			t.Fatalf("Add returned %v beyond MaxPendingBytes", err)
		case <-time.After(20 * time.Millisecond):
		}
		assert.EqualValues(t, 3*charge, h.b.Stats().PendingBytes, "nothing admitted beyond the bound")

		g.release <- struct{}{} // first batch stored: its memory is freed
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Fatal("Add still blocked after memory was freed")
		}
		ids = append(ids, r.Origin.Index)
		assert.EqualValues(t, 1, h.b.Stats().BlockedAdds)
		for range 3 {
			g.release <- struct{}{}
		}
		require.NoError(t, h.b.Close(context.Background()))
		for _, id := range ids {
			assert.Equal(t, []error{nil}, h.ledger.settlements(id), "record %d", id)
		}
	})

	t.Run("ctx ends while blocked: record not taken", func(t *testing.T) {
		g := newGate()
		h := newHarness(t, func(o *Options) { o.Limits = limits })
		h.sink.fail = g.fail
		for range 3 {
			h.add(t, "a", size)
		}
		ctx, cancel := context.WithCancel(context.Background())
		r := h.ledger.record(size)
		done := make(chan error, 1)
		go func() { done <- h.b.Add(ctx, "a", r) }()
		eventually(t, "Add to block", func() bool { return h.b.Stats().WaitingAdds == 1 })
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
		for range 3 {
			g.release <- struct{}{}
		}
		require.NoError(t, h.b.Close(context.Background()))
		assert.Empty(t, h.ledger.settlements(r.Origin.Index), "record stays the caller's")
		for _, c := range h.sink.Calls() {
			assert.NotContains(t, c.IDs, r.Origin.Index)
		}
		assert.Equal(t, 3, h.ledger.settledCount())
	})

	t.Run("Close wakes a blocked Add with ErrClosed", func(t *testing.T) {
		g := newGate()
		h := newHarness(t, func(o *Options) { o.Limits = limits })
		h.sink.fail = g.fail
		for range 3 {
			h.add(t, "a", size)
		}
		r := h.ledger.record(size)
		done := make(chan error, 1)
		go func() { done <- h.b.Add(context.Background(), "a", r) }()
		eventually(t, "Add to block", func() bool { return h.b.Stats().WaitingAdds == 1 })
		closed := make(chan error, 1)
		go func() { closed <- h.b.Close(context.Background()) }()
		select {
		case err := <-done:
			require.ErrorIs(t, err, lakerelay.ErrClosed)
		case <-time.After(5 * time.Second):
			t.Fatal("blocked Add not woken by Close")
		}
		for range 3 {
			g.release <- struct{}{}
		}
		require.NoError(t, <-closed)
		assert.Empty(t, h.ledger.settlements(r.Origin.Index))
		assert.Equal(t, 3, h.ledger.settledCount())
	})

	t.Run("waiting Adds are admitted in arrival order", func(t *testing.T) {
		const big = 300
		g := newGate()
		h := newHarness(t, func(o *Options) {
			o.Limits = Limits{MaxRecords: 1, MaxBytes: big, MaxAge: time.Hour, MaxPendingBytes: 1000}
		})
		h.sink.fail = g.fail
		a, b := h.add(t, "p", big), h.add(t, "p", big) // 2 × 428 charged
		g.waitEntered(t)
		c, d := h.ledger.record(big), h.ledger.record(10)
		done := make(chan error, 2)
		go func() { done <- h.b.Add(context.Background(), "p", c) }() // 428 more: does not fit
		eventually(t, "large Add to wait", func() bool { return h.b.Stats().WaitingAdds == 1 })
		go func() { done <- h.b.Add(context.Background(), "p", d) }() // 138 would fit, but queues behind
		eventually(t, "small Add to queue behind it", func() bool { return h.b.Stats().WaitingAdds == 2 })
		for range 4 {
			g.release <- struct{}{}
		}
		require.NoError(t, <-done)
		require.NoError(t, <-done)
		require.NoError(t, h.b.Close(context.Background()))
		var order []int64
		for _, call := range h.sink.Calls() {
			order = append(order, call.IDs...)
		}
		assert.Equal(t, []int64{a, b, c.Origin.Index, d.Origin.Index}, order)
		assert.Equal(t, 4, h.ledger.settledCount())
	})

	t.Run("open batches are flushed early instead of waiting for MaxAge", func(t *testing.T) {
		h := newHarness(t, func(o *Options) {
			o.Limits = Limits{MaxRecords: 100, MaxBytes: 2 * size, MaxAge: time.Hour, MaxPendingBytes: 3 * charge}
		})
		for _, p := range []string{"a", "b", "c"} {
			h.add(t, p, size)
		}
		id := h.add(t, "d", size) // does not fit: needs a flush, the clock never moves
		h.idle(t)
		st := h.b.Stats()
		assert.EqualValues(t, 1, st.BlockedAdds)
		assert.LessOrEqual(t, st.PendingBytes, limits.MaxPendingBytes)
		res := h.log.Results()
		require.Len(t, res, 1)
		assert.Equal(t, ReasonMemory, res[0].Reason)
		require.NoError(t, h.b.Close(context.Background()))
		assert.Equal(t, []error{nil}, h.ledger.settlements(id))
		assert.Equal(t, 4, h.ledger.settledCount())
	})
}

func TestAckOnlyAfterWriteBatchSucceeded(t *testing.T) {
	g := newGate()
	h := newHarness(t, func(o *Options) { o.MaxRecords = 2 })
	h.sink.fail = g.fail
	a, b := h.add(t, "p", 1), h.add(t, "p", 1)
	g.waitEntered(t)
	time.Sleep(10 * time.Millisecond) // give a premature ack the chance to show
	assert.Empty(t, h.ledger.settlements(a), "acked while WriteBatch was still running")
	assert.Empty(t, h.ledger.settlements(b))
	g.release <- struct{}{}
	h.idle(t)
	assert.Equal(t, []error{nil}, h.ledger.settlements(a))
	assert.Equal(t, []error{nil}, h.ledger.settlements(b))
	st := h.b.Stats()
	assert.EqualValues(t, 2, st.Acked)
	assert.EqualValues(t, 1, st.Batches)
	assert.Zero(t, st.PendingBytes)
}

func TestNackOnFailure(t *testing.T) {
	h := newHarness(t, nil)
	h.sink.fail = func(context.Context, string, int) error { return errBoom }
	ids := []int64{h.add(t, "p", 3), h.add(t, "p", 4)}
	err := h.b.Flush(context.Background())
	require.ErrorIs(t, err, errBoom)
	var fe *FlushError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, FlushError{Partition: "p", Records: 2, Attempts: 1, Err: errBoom}, *fe)
	for _, id := range ids {
		s := h.ledger.settlements(id)
		require.Len(t, s, 1, "record %d settled once", id)
		assert.ErrorIs(t, s[0], errBoom)
	}
	res := h.log.Results()
	require.Len(t, res, 1)
	assert.ErrorIs(t, res[0].Err, errBoom)
	st := h.b.Stats()
	assert.EqualValues(t, 2, st.Nacked)
	assert.EqualValues(t, 1, st.FailedBatches)
	assert.Zero(t, st.PendingBytes)
	require.NoError(t, h.b.Close(context.Background()), "a failed flush is reported once, by Flush")
}

func TestRetry(t *testing.T) {
	t.Run("backoff then success", func(t *testing.T) {
		h := newHarness(t, func(o *Options) {
			o.MaxRecords = 1 // sealed by Add: no age timer left
			o.MaxRetries = 3
			o.RetryBackoff = time.Second
			o.MaxRetryBackoff = 4 * time.Second
		})
		h.sink.fail = func(_ context.Context, _ string, call int) error {
			if call < 2 {
				return fmt.Errorf("attempt %d: %w", call+1, errBoom)
			}
			return nil
		}
		id := h.add(t, "p", 1)
		d := h.clock.waitTimers(t, 1)
		require.Len(t, d, 1)
		assert.GreaterOrEqual(t, d[0], 500*time.Millisecond)
		assert.Less(t, d[0], time.Second)
		assert.Empty(t, h.ledger.settlements(id), "not settled between attempts")
		h.clock.Advance(time.Second)

		d = h.clock.waitTimers(t, 1)
		assert.GreaterOrEqual(t, d[0], time.Second, "backoff doubles")
		assert.Less(t, d[0], 2*time.Second)
		h.clock.Advance(2 * time.Second)

		h.idle(t)
		assert.Len(t, h.sink.Calls(), 3)
		assert.Equal(t, []error{nil}, h.ledger.settlements(id))
		res := h.log.Results()
		require.Len(t, res, 1)
		assert.Equal(t, 3, res[0].Attempts)
		assert.Equal(t, 3*time.Second, res[0].Duration, "duration includes the backoff")
		assert.EqualValues(t, 2, h.b.Stats().Retries)
	})

	t.Run("exhausted retries nack with the last error", func(t *testing.T) {
		h := newHarness(t, func(o *Options) {
			o.MaxRecords = 1
			o.MaxRetries = 2
			o.RetryBackoff = time.Second
			o.MaxRetryBackoff = time.Second
		})
		h.sink.fail = func(_ context.Context, _ string, call int) error {
			return fmt.Errorf("attempt %d: %w", call+1, errBoom)
		}
		id := h.add(t, "p", 1)
		for range 2 {
			d := h.clock.waitTimers(t, 1)
			assert.Less(t, d[0], time.Second, "capped by MaxRetryBackoff")
			h.clock.Advance(time.Second)
		}
		h.idle(t)
		res := h.log.Results()
		require.Len(t, res, 1)
		err := res[0].Err
		require.ErrorIs(t, err, errBoom)
		assert.Contains(t, err.Error(), "attempt 3")
		assert.Len(t, h.sink.Calls(), 3, "MaxRetries+1 attempts")
		s := h.ledger.settlements(id)
		require.Len(t, s, 1)
		var fe *FlushError
		require.ErrorAs(t, s[0], &fe)
		assert.Equal(t, 3, fe.Attempts)
		assert.Empty(t, h.clock.Durations(), "no timer left")
	})

	for _, tc := range []struct {
		name string
		err  error
	}{
		{"Permanent", lakerelay.Permanent(errBoom)},
		{"ErrInvalidRecord", fmt.Errorf("sink: encode: %w", lakerelay.ErrInvalidRecord)},
		{"ErrTooLarge", fmt.Errorf("sink: object: %w", lakerelay.ErrTooLarge)},
	} {
		t.Run("permanent error not retried: "+tc.name, func(t *testing.T) {
			h := newHarness(t, func(o *Options) { o.MaxRetries = 5 })
			h.sink.fail = func(context.Context, string, int) error { return tc.err }
			id := h.add(t, "p", 1)
			err := h.b.Flush(context.Background())
			require.ErrorIs(t, err, tc.err)
			assert.Len(t, h.sink.Calls(), 1)
			assert.Empty(t, h.clock.Durations(), "no backoff timer")
			s := h.ledger.settlements(id)
			require.Len(t, s, 1)
			assert.ErrorIs(t, s[0], tc.err)
			assert.True(t, lakerelay.IsPermanent(s[0]))
		})
	}
}

func TestBackoff(t *testing.T) {
	b := &Batcher{opts: Options{RetryBackoff: time.Second, MaxRetryBackoff: 5 * time.Second}}
	tests := []struct {
		attempt int
		want    time.Duration // before jitter
	}{
		{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {4, 5 * time.Second}, {60, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.attempt), func(t *testing.T) {
			for range 100 {
				d := b.backoff(tt.attempt)
				require.GreaterOrEqual(t, d, tt.want/2)
				require.Less(t, d, tt.want)
			}
		})
	}
}

func TestCloseFlushesEverything(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.FlushConcurrency = 2 })
	var ids []int64
	for i := range 25 {
		ids = append(ids, h.add(t, fmt.Sprintf("p%d", i%5), 10))
	}
	require.NoError(t, h.b.Close(context.Background()))
	for _, id := range ids {
		assert.Equal(t, []error{nil}, h.ledger.settlements(id), "record %d", id)
	}
	res := h.log.Results()
	require.Len(t, res, 5)
	for _, r := range res {
		assert.Equal(t, ReasonClose, r.Reason)
		assert.Equal(t, 5, r.Records)
	}
	st := h.b.Stats()
	assert.Zero(t, st.PendingBytes)
	assert.Zero(t, st.PendingRecords)
	assert.Zero(t, st.OpenBatches)
	assert.Empty(t, h.clock.Durations(), "age timers stopped")
}

// TestCloseContextEnds shows that records are nacked, not lost, when Close
// gives up: the batch being written, a batch still queued behind it, and a
// batch waiting to be retried.
func TestCloseContextEnds(t *testing.T) {
	t.Run("in flight and queued", func(t *testing.T) {
		h := newHarness(t, func(o *Options) { o.MaxRecords = 2 }) // FlushConcurrency 1
		g := newGate()
		h.sink.fail = g.fail
		inflight := []int64{h.add(t, "a", 1), h.add(t, "a", 1)}
		g.waitEntered(t)
		queued := h.add(t, "b", 1)

		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		err := h.b.Close(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		for _, id := range append(inflight, queued) {
			s := h.ledger.settlements(id)
			require.Len(t, s, 1, "record %d settled once", id)
			assert.ErrorIs(t, s[0], context.DeadlineExceeded, "record %d", id)
		}
		calls := h.sink.Calls()
		require.Len(t, calls, 1, "the queued batch is not attempted after Close gave up")
		res := h.log.Results()
		require.Len(t, res, 2)
		assert.Equal(t, 0, res[1].Attempts)
		assert.Zero(t, h.b.Stats().PendingRecords)
	})

	t.Run("waiting to be retried", func(t *testing.T) {
		h := newHarness(t, func(o *Options) { o.MaxRecords, o.MaxRetries = 1, 10 })
		h.sink.fail = func(context.Context, string, int) error { return errBoom }
		id := h.add(t, "a", 1)
		h.clock.waitTimers(t, 1) // in backoff; the clock never moves
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := h.b.Close(ctx)
		require.ErrorIs(t, err, context.Canceled)
		s := h.ledger.settlements(id)
		require.Len(t, s, 1)
		assert.ErrorIs(t, s[0], context.Canceled)
		assert.ErrorIs(t, s[0], errBoom, "the sink's last error is kept")
		assert.Empty(t, h.clock.Durations(), "backoff timer stopped")
	})
}

// timeoutCtx returns a context that ends after d (0: already ended).
func timeoutCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestFlushContextEnds(t *testing.T) {
	h := newHarness(t, nil)
	g := newGate()
	h.sink.fail = g.fail
	id := h.add(t, "a", 1)
	err := h.b.Flush(timeoutCtx(t, 10*time.Millisecond))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Empty(t, h.ledger.settlements(id), "the flush goes on")
	g.release <- struct{}{}
	require.NoError(t, h.b.Close(context.Background()))
	assert.Equal(t, []error{nil}, h.ledger.settlements(id))
}

func TestOnFlushResult(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.MaxRecords = 3 })
	for _, size := range []int{5, 6, 7} {
		h.add(t, "part", size)
	}
	h.idle(t)
	assert.Equal(t, []FlushResult{{Partition: "part", Records: 3, Bytes: 18, Attempts: 1, Reason: ReasonRecords}}, h.log.Results())
}

// TestConcurrentAdds runs many goroutines against one Batcher on the real
// clock, with a flaky sink and a tight memory bound, and checks that every
// record is settled exactly once and acked only if a WriteBatch holding it
// succeeded.
func TestConcurrentAdds(t *testing.T) {
	defer goleak.VerifyNone(t)
	limits := Limits{MaxRecords: 7, MaxBytes: 500, MaxAge: 2 * time.Millisecond, MaxPendingBytes: 4000}
	l := newLedger()
	var peak sync.Mutex
	var maxPending int64
	var b *Batcher
	sink := &testSink{fail: func(context.Context, string, int) error {
		st := b.Stats()
		peak.Lock()
		maxPending = max(maxPending, st.PendingBytes)
		peak.Unlock()
		if rand.N(5) == 0 {
			return errBoom
		}
		return nil
	}}
	var err error
	b, err = New(sink, func(o *Options) {
		o.Limits = limits
		o.MaxRetries = 2
		o.RetryBackoff = 100 * time.Microsecond
		o.MaxRetryBackoff = time.Millisecond
		o.FlushConcurrency = 3
	})
	require.NoError(t, err)

	const writers, each = 8, 300
	var wg sync.WaitGroup
	var mu sync.Mutex
	var taken []int64
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := l.record(rand.N(120))
				if err := b.Add(context.Background(), fmt.Sprintf("p%d", (w+i)%5), r); err != nil {
					t.Errorf("Add: %v", err)
					return
				}
				mu.Lock()
				taken = append(taken, r.Origin.Index)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	_ = b.Close(context.Background()) // flaky sink: some batches fail

	stored := map[int64]bool{}
	for _, c := range sink.Calls() {
		assert.LessOrEqual(t, len(c.IDs), limits.MaxRecords)
		assert.LessOrEqual(t, c.Bytes, limits.MaxBytes)
		if c.Err == nil {
			for _, id := range c.IDs {
				stored[id] = true
			}
		}
	}
	require.Len(t, taken, writers*each)
	for _, id := range taken {
		s := l.settlements(id)
		require.Len(t, s, 1, "record %d settled exactly once", id)
		if s[0] == nil {
			assert.True(t, stored[id], "record %d acked without a successful WriteBatch", id)
		} else {
			assert.ErrorIs(t, s[0], errBoom)
		}
	}
	assert.LessOrEqual(t, maxPending, limits.MaxPendingBytes)
	st := b.Stats()
	assert.EqualValues(t, writers*each, st.Acked+st.Nacked)
	assert.Zero(t, st.PendingBytes)
}

func TestNoGoroutineLeak(t *testing.T) {
	defer goleak.VerifyNone(t)
	l := newLedger()
	b, err := New(lakerelay.SinkFunc(func(context.Context, string, []lakerelay.Record) error { return nil }),
		func(o *Options) { o.MaxAge = time.Millisecond })
	require.NoError(t, err)
	r := l.record(10)
	require.NoError(t, b.Add(context.Background(), "a", r))
	eventually(t, "age flush", func() bool { return b.Stats().Acked == 1 })
	require.NoError(t, b.Add(context.Background(), "b", l.record(10))) // open at Close: timer running
	require.NoError(t, b.Close(context.Background()))
	require.NoError(t, b.Close(context.Background()))
	assert.Equal(t, 2, l.settledCount())
}

func TestNewValidates(t *testing.T) {
	sink := lakerelay.SinkFunc(func(context.Context, string, []lakerelay.Record) error { return nil })
	_, err := New(nil)
	require.ErrorIs(t, err, ErrInvalidOptions)

	_, err = New(sink, func(o *Options) {
		o.MaxRecords = 0
		o.FlushConcurrency = -1
	})
	require.ErrorIs(t, err, ErrInvalidOptions)
	assert.ElementsMatch(t, []string{"Limits.MaxRecords", "Options.FlushConcurrency"}, fieldsOf(err))

	b, err := New(sink, nil, func(o *Options) { o.MaxRetries = 0 })
	require.NoError(t, err, "nil option funcs are skipped; MaxRetries 0 means no retries")
	assert.Equal(t, DefaultMaxBytes, b.opts.MaxBytes)
	assert.Equal(t, 0, b.opts.MaxRetries)
	require.NoError(t, b.Close(context.Background()))
}

func TestCloseTwiceConcurrently(t *testing.T) {
	h := newHarness(t, nil)
	g := newGate()
	h.sink.fail = g.fail
	id := h.add(t, "a", 1)
	first := make(chan error, 1)
	go func() { first <- h.b.Close(context.Background()) }()
	g.waitEntered(t)
	// A second Close waits for the first; its own ctx bounds the wait.
	require.ErrorIs(t, h.b.Close(timeoutCtx(t, 10*time.Millisecond)), context.DeadlineExceeded)
	g.release <- struct{}{}
	require.NoError(t, <-first)
	require.NoError(t, h.b.Close(context.Background()))
	assert.Equal(t, []error{nil}, h.ledger.settlements(id))
}

func TestBackoffTiny(t *testing.T) {
	b := &Batcher{opts: Options{RetryBackoff: time.Nanosecond, MaxRetryBackoff: time.Nanosecond}}
	assert.Equal(t, time.Nanosecond, b.backoff(3))
}

// arraySink records the backing array of every batch it is given.
type arraySink struct {
	mu     sync.Mutex
	arrays []*lakerelay.Record
}

func (s *arraySink) WriteBatch(_ context.Context, _ string, records []lakerelay.Record) error {
	s.mu.Lock()
	s.arrays = append(s.arrays, &records[:1][0])
	s.mu.Unlock()
	return nil
}

// TestBatchStorageReusedAcrossGC shows that a settled batch's record slice
// is the next batch's, even after garbage collections (which empty a
// sync.Pool), and that the slices kept for reuse are bounded.
func TestBatchStorageReusedAcrossGC(t *testing.T) {
	for _, tc := range []struct {
		name       string
		maxRecords int
		reused     bool
	}{
		{"small batches", 100, true},
		{"batches larger than what is kept", spareRecords + 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &arraySink{}
			b, err := New(s, func(o *Options) {
				o.Limits = Limits{MaxRecords: tc.maxRecords, MaxBytes: 1 << 30, MaxAge: time.Hour, MaxPendingBytes: 1 << 31}
				o.FlushConcurrency = 1
			})
			require.NoError(t, err)
			defer b.Close(context.Background())
			ctx := context.Background()
			for round := range 3 {
				for i := range tc.maxRecords {
					require.NoError(t, b.Add(ctx, "p", lakerelay.Record{Data: []byte("x"), Origin: lakerelay.Origin{Index: int64(i)}}))
				}
				require.NoError(t, b.Flush(ctx))
				if round == 0 {
					runtime.GC()
					runtime.GC()
				}
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			require.Len(t, s.arrays, 3)
			if tc.reused {
				assert.Same(t, s.arrays[0], s.arrays[1], "second batch in the first one's storage")
				assert.Same(t, s.arrays[0], s.arrays[2], "third batch in the first one's storage")
			} else {
				assert.NotSame(t, s.arrays[0], s.arrays[1], "a batch of more than spareRecords records is not kept")
			}
			b.mu.Lock()
			assert.LessOrEqual(t, b.spareCap, spareRecords)
			b.mu.Unlock()
		})
	}
}

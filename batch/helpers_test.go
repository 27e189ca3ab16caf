package batch

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lakerelay/lakerelay"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// manualClock is a Clock whose time only moves when Advance is called.
// Due callbacks run synchronously in Advance, in deadline order.
type manualClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*manualTimer
	changed chan struct{} // closed and replaced when timers are added
}

type manualTimer struct {
	c    *manualClock
	when time.Time
	d    time.Duration
	f    func()
	done bool
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), changed: make(chan struct{})}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &manualTimer{c: c, when: c.now.Add(d), d: d, f: f}
	c.timers = append(c.timers, t)
	close(c.changed)
	c.changed = make(chan struct{})
	return t
}

func (t *manualTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.done {
		return false
	}
	t.done = true
	t.c.timers = slices.DeleteFunc(t.c.timers, func(x *manualTimer) bool { return x == t })
	return true
}

// Advance moves time forward by d and runs the callbacks that became due.
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*manualTimer
	c.timers = slices.DeleteFunc(c.timers, func(t *manualTimer) bool {
		if !t.when.After(c.now) {
			t.done = true
			due = append(due, t)
			return true
		}
		return false
	})
	c.mu.Unlock()
	slices.SortStableFunc(due, func(a, b *manualTimer) int { return a.when.Compare(b.when) })
	for _, t := range due {
		t.f()
	}
}

// Durations returns the durations the active timers were started with.
func (c *manualClock) Durations() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ds []time.Duration
	for _, t := range c.timers {
		ds = append(ds, t.d)
	}
	return ds
}

// waitTimers waits until n timers are active and returns their durations.
func (c *manualClock) waitTimers(t testing.TB, n int) []time.Duration {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		c.mu.Lock()
		ch, got := c.changed, len(c.timers)
		c.mu.Unlock()
		if got >= n {
			return c.Durations()
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("waited 5s for %d active timers, have %d", n, got)
		}
	}
}

// eventually polls cond every millisecond for up to 5s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 5s for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// ledger hands out records whose acknowledgements it records. A record's
// id is its Origin.Index.
type ledger struct {
	mu    sync.Mutex
	next  int64
	settl map[int64][]error
}

func newLedger() *ledger { return &ledger{settl: make(map[int64][]error)} }

func (l *ledger) record(size int) lakerelay.Record {
	l.mu.Lock()
	id := l.next
	l.next++
	l.mu.Unlock()
	data := make([]byte, size)
	for i := range data {
		data[i] = byte('a' + i%26)
	}
	return lakerelay.Record{
		Data:   data,
		Origin: lakerelay.Origin{Key: "test/object", Index: id, Offset: -1},
		Ack: func(err error) {
			l.mu.Lock()
			l.settl[id] = append(l.settl[id], err)
			l.mu.Unlock()
		},
	}
}

// settlements returns how record id was settled so far.
func (l *ledger) settlements(id int64) []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.settl[id])
}

func (l *ledger) settledCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.settl {
		n += len(s)
	}
	return n
}

// sinkCall is one WriteBatch call as a test sink saw it.
type sinkCall struct {
	Partition string
	IDs       []int64
	Bytes     int64
	Err       error // what the sink returned
}

// testSink records every WriteBatch call and answers with fail (nil: ok).
type testSink struct {
	mu    sync.Mutex
	calls []sinkCall
	fail  func(ctx context.Context, partition string, call int) error
}

func (s *testSink) WriteBatch(ctx context.Context, partition string, records []lakerelay.Record) error {
	c := sinkCall{Partition: partition}
	for _, r := range records {
		c.IDs = append(c.IDs, r.Origin.Index)
		c.Bytes += int64(len(r.Data))
	}
	s.mu.Lock()
	n := len(s.calls)
	s.calls = append(s.calls, c)
	s.mu.Unlock()
	var err error
	if s.fail != nil {
		err = s.fail(ctx, partition, n)
	}
	s.mu.Lock()
	s.calls[n].Err = err
	s.mu.Unlock()
	return err
}

func (s *testSink) Calls() []sinkCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// flushLog collects FlushResults from Options.OnFlush.
type flushLog struct {
	mu  sync.Mutex
	res []FlushResult
}

func (f *flushLog) add(r FlushResult) {
	f.mu.Lock()
	f.res = append(f.res, r)
	f.mu.Unlock()
}

func (f *flushLog) Results() []FlushResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.res)
}

// harness is a Batcher on a manual clock with a recording sink.
type harness struct {
	b      *Batcher
	clock  *manualClock
	sink   *testSink
	ledger *ledger
	log    *flushLog
}

// newHarness builds a Batcher with small test limits (overridable by set)
// and closes it at cleanup.
func newHarness(t testing.TB, set func(*Options)) *harness {
	t.Helper()
	h := &harness{clock: newManualClock(), sink: &testSink{}, ledger: newLedger(), log: &flushLog{}}
	b, err := New(h.sink, func(o *Options) {
		o.Limits = Limits{MaxRecords: 100, MaxBytes: 1 << 20, MaxAge: time.Minute, MaxPendingBytes: 8 << 20}
		o.MaxRetries = 0
		o.RetryBackoff = time.Second
		o.MaxRetryBackoff = 8 * time.Second
		o.FlushConcurrency = 1
		o.Clock = h.clock
		o.OnFlush = h.log.add
		if set != nil {
			set(o)
		}
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.b = b
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = b.Close(ctx)
	})
	return h
}

// add adds a record of size bytes to partition and returns its id.
func (h *harness) add(t testing.TB, partition string, size int) int64 {
	t.Helper()
	r := h.ledger.record(size)
	if err := h.b.Add(context.Background(), partition, r); err != nil {
		t.Fatalf("Add(%q, %d bytes): %v", partition, size, err)
	}
	return r.Origin.Index
}

// idle waits until no batch is queued or being flushed.
func (h *harness) idle(t testing.TB) {
	t.Helper()
	eventually(t, "flushes to finish", func() bool {
		st := h.b.Stats()
		return st.FlushingBatches == 0 && int64(len(h.log.Results())) == st.Batches+st.FailedBatches
	})
}

package batch_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/internal/obstest"
	"github.com/lakerelay/lakerelay/quarantine"
	"github.com/lakerelay/lakerelay/sink"
)

// ledger counts every Ack call of every record a test source hands out, so
// that tests can show each record was settled exactly once, and how.
type ledger struct {
	mu   sync.Mutex
	acks map[int][]error
}

func newLedger() *ledger { return &ledger{acks: map[int][]error{}} }

func (l *ledger) ack(i int) lakerelay.AckFunc {
	return func(err error) {
		l.mu.Lock()
		l.acks[i] = append(l.acks[i], err)
		l.mu.Unlock()
	}
}

// check fails unless each of the n records handed out was settled exactly
// once, and returns the indexes acknowledged with nil and with an error.
func (l *ledger) check(t *testing.T, n int) (acked, nacked map[int]error) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	acked, nacked = map[int]error{}, map[int]error{}
	for i := range n {
		calls := l.acks[i]
		if len(calls) != 1 {
			t.Fatalf("record %d settled %d times: %v", i, len(calls), calls)
		}
		if calls[0] == nil {
			acked[i] = nil
		} else {
			nacked[i] = calls[0]
		}
	}
	if len(l.acks) != n {
		t.Fatalf("%d records settled, %d handed out", len(l.acks), n)
	}
	return acked, nacked
}

// testSource hands out records {"n":i,"p":"<partition>"} with ledger acks.
// After limit records it returns end (io.EOF, a fatal error) or, if end is
// nil, blocks until ctx ends, as an idle queue does.
type testSource struct {
	l     *ledger
	limit int
	end   error
	part  func(i int) string
	size  func(i int) int

	mu   sync.Mutex
	next int
}

func (s *testSource) Read(ctx context.Context) (lakerelay.Record, error) {
	s.mu.Lock()
	if s.next >= s.limit {
		s.mu.Unlock()
		if s.end != nil {
			return lakerelay.Record{}, s.end
		}
		<-ctx.Done()
		return lakerelay.Record{}, ctx.Err()
	}
	i := s.next
	s.next++
	s.mu.Unlock()
	p := "a"
	if s.part != nil {
		p = s.part(i)
	}
	data := fmt.Sprintf(`{"n":%d,"p":%q}`, i, p)
	if s.size != nil {
		data = fmt.Sprintf(`{"n":%d,"p":%q,"pad":%q}`, i, p, strings.Repeat("x", s.size(i)))
	}
	return lakerelay.Record{Data: []byte(data), Origin: lakerelay.Origin{Key: "test", Index: int64(i)}, Ack: s.l.ack(i)}, nil
}

func (s *testSource) handed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

func (s *testSource) Close() error { return nil }

// byField partitions by the record's "p" field; "" is rejected.
type byField struct{}

func (byField) Partition(r lakerelay.Record) (string, error) {
	var v struct{ P string }
	if err := json.Unmarshal(r.Data, &v); err != nil || v.P == "" {
		return "", fmt.Errorf("%w: no partition field p", lakerelay.ErrInvalidRecord)
	}
	return v.P, nil
}

// storeSink writes each batch as one object of a real store (a directory),
// failing as fail says.
type storeSink struct {
	store sink.Store
	fail  func(partition string) error
	block bool // WriteBatch waits for ctx to end

	mu sync.Mutex
	n  int
}

func (s *storeSink) WriteBatch(ctx context.Context, partition string, records []lakerelay.Record) error {
	if s.block {
		<-ctx.Done()
		return ctx.Err()
	}
	if s.fail != nil {
		if err := s.fail(partition); err != nil {
			return err
		}
	}
	var b strings.Builder
	for _, r := range records {
		b.Write(r.Data)
		b.WriteByte('\n')
	}
	s.mu.Lock()
	s.n++
	key := fmt.Sprintf("%s/%06d.ndjson", cmp.Or(partition, "all"), s.n)
	s.mu.Unlock()
	return s.store.Put(ctx, key, strings.NewReader(b.String()), sink.PutOptions{})
}

// stored returns the record numbers in the store.
func stored(t *testing.T, st sink.Store) map[int]int {
	t.Helper()
	out := map[int]int{}
	ctx := context.Background()
	err := st.List(ctx, "", func(o sink.ObjectInfo) error {
		rc, err := st.Get(ctx, o.Key)
		if err != nil {
			return err
		}
		defer rc.Close()
		d := json.NewDecoder(rc)
		for {
			var v struct{ N int }
			if err := d.Decode(&v); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
			out[v.N]++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func dirStore(t *testing.T) sink.Store {
	st, err := sink.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func newBatcher(t *testing.T, s lakerelay.Sink, f func(*batch.Options)) *batch.Batcher {
	b, err := batch.New(s, func(o *batch.Options) {
		o.MaxRecords = 10
		o.MaxAge = time.Hour
		o.MaxRetries = 0
		if f != nil {
			f(o)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkStored fails unless exactly the acknowledged records are in the
// store, once each.
func checkStored(t *testing.T, st sink.Store, acked map[int]error, also map[int]bool) {
	t.Helper()
	got := stored(t, st)
	for i, n := range got {
		if n != 1 {
			t.Fatalf("record %d stored %d times", i, n)
		}
		if _, ok := acked[i]; !ok && !also[i] {
			t.Fatalf("record %d stored but not acknowledged", i)
		}
	}
	for i := range acked {
		if got[i] != 1 && !also[i] {
			t.Fatalf("record %d acknowledged but not stored", i)
		}
	}
}

// TestRunToEOF: every record of a finite source is stored and acknowledged
// once; records the Partitioner rejects, and one too large for a batch, are
// quarantined (durably, then acknowledged); the totals add up.
func TestRunToEOF(t *testing.T) {
	t.Parallel()
	l := newLedger()
	src := &testSource{l: l, limit: 95, end: io.EOF,
		part: func(i int) string {
			if i%10 == 3 {
				return "" // rejected
			}
			return fmt.Sprint("p", i%3)
		},
		size: func(i int) int {
			if i == 50 {
				return 5000 // beyond MaxBytes
			}
			return 0
		}}
	st := dirStore(t)
	rec := obstest.NewRecorder()
	var log obstest.Log
	b := newBatcher(t, &storeSink{store: st}, func(o *batch.Options) {
		o.MaxBytes, o.MaxPendingBytes = 4096, 1<<20
		o.Observer, o.Logger = rec, log.Logger()
	})
	qstore := dirStore(t)
	q, err := quarantine.New(qstore, "q")
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close(context.Background())
	tot, err := batch.Run(context.Background(), src, b, byField{}, func(o *batch.RunOptions) { o.Quarantine = q })
	if err != nil {
		t.Fatal(err)
	}
	acked, nacked := l.check(t, 95)
	if len(nacked) != 0 || len(acked) != 95 {
		t.Fatalf("%d acked, %d nacked: %v", len(acked), len(nacked), nacked)
	}
	want := batch.Totals{In: 95, Delivered: 95 - 10 - 1, Quarantined: 11}
	if tot != want {
		t.Fatalf("totals %+v, want %+v", tot, want)
	}
	for class, n := range map[string]int64{lakerelay.ClassPartition: 10, lakerelay.ClassTooLarge: 1} {
		if got := rec.Sum(lakerelay.MetricQuarantined, lakerelay.Labels{Source: batch.DefaultName, Class: class}); got != n {
			t.Errorf("quarantined %s = %d, want %d", class, got, n)
		}
	}
	if ended := log.Find(t, "run ended"); len(ended) != 1 || ended[0]["level"] != "INFO" || ended[0]["quarantined"] != 11.0 || ended[0]["delivered"] != 84.0 {
		t.Errorf("want one run ended line with the totals:\n%s", log.String())
	}
	log.NotContains(t, `"n":`, "pad")
	got := stored(t, st)
	if len(got) != 84 || got[3] != 0 || got[50] != 0 {
		t.Fatalf("%d records stored, want 84 without the rejected ones", len(got))
	}
	var reasons []string
	_ = qstore.List(context.Background(), "q/", func(o sink.ObjectInfo) error {
		rc, _ := qstore.Get(context.Background(), o.Key)
		defer rc.Close()
		d := json.NewDecoder(rc)
		for {
			var e quarantine.Entry
			if d.Decode(&e) != nil {
				return nil
			}
			reasons = append(reasons, fmt.Sprint(e.Origin.Index, ": ", e.Reason))
		}
	})
	if len(reasons) != 11 || !strings.Contains(strings.Join(reasons, "\n"), "50: batch:") || !strings.Contains(strings.Join(reasons, "\n"), "13: lakerelay: invalid record: no partition field p") {
		t.Fatalf("quarantine entries:\n%s", strings.Join(reasons, "\n"))
	}
}

// TestRunCancelMidBatch: ctx ends while batches are open (MaxAge is an
// hour); Run still flushes them within the shutdown deadline, so every
// record read is stored and acknowledged exactly once.
func TestRunCancelMidBatch(t *testing.T) {
	t.Parallel()
	l := newLedger()
	src := &testSource{l: l, limit: 37, part: func(i int) string { return fmt.Sprint("p", i%4) }} // then idle
	st := dirStore(t)
	b := newBatcher(t, &storeSink{store: st}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for src.handed() < 37 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	tot, err := batch.Run(ctx, src, b, byField{})
	if err != nil {
		t.Fatal(err)
	}
	acked, nacked := l.check(t, 37)
	if len(acked) != 37 || len(nacked) != 0 || tot != (batch.Totals{In: 37, Delivered: 37}) {
		t.Fatalf("totals %+v, %d acked, %d nacked", tot, len(acked), len(nacked))
	}
	checkStored(t, st, acked, nil)
	if err := b.Add(context.Background(), "x", lakerelay.Record{}); !errors.Is(err, lakerelay.ErrClosed) {
		t.Fatalf("Run left the batcher open: %v", err)
	}
}

// TestRunCancelWhileAddBlocks: ctx ends while Add waits for memory (the sink
// hangs); the record not admitted is nacked, the others are nacked when the
// shutdown deadline passes; none is acknowledged, each is settled once.
func TestRunShutdownDeadline(t *testing.T) {
	t.Parallel()
	l := newLedger()
	src := &testSource{l: l, limit: 1000, end: io.EOF}
	st := dirStore(t)
	b := newBatcher(t, &storeSink{store: st, block: true}, func(o *batch.Options) {
		o.MaxBytes, o.MaxPendingBytes = 400, 1000 // a few records fill the memory
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	tot, err := batch.Run(ctx, src, b, nil, func(o *batch.RunOptions) { o.ShutdownTimeout = 300 * time.Millisecond })
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Run took %v: the shutdown deadline was not honoured", d)
	}
	var fe *batch.FlushError
	if !errors.As(err, &fe) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v, want the flush errors of the abandoned batches", err)
	}
	n := src.handed()
	acked, nacked := l.check(t, n)
	if len(acked) != 0 || len(nacked) != n || tot.In != int64(n) || tot.Nacked != int64(n) || tot.Delivered != 0 {
		t.Fatalf("totals %+v; %d handed, %d acked", tot, n, len(acked))
	}
	if len(stored(t, st)) != 0 {
		t.Fatal("records stored by a sink that never returned")
	}
}

// TestRunSinkFailsForGood: a sink that fails with a permanent error (access
// denied) nacks every record of its batches, never acks one, and stops the
// run with that error instead of reading on.
func TestRunSinkFailsForGood(t *testing.T) {
	t.Parallel()
	denied := lakerelay.Permanent(errors.New("AccessDenied: access denied"))
	l := newLedger()
	src := &testSource{l: l, limit: 100000, end: io.EOF}
	b := newBatcher(t, &storeSink{store: dirStore(t), fail: func(string) error { return denied }}, nil)
	tot, err := batch.Run(context.Background(), src, b, nil)
	if !errors.Is(err, denied) {
		t.Fatalf("Run = %v, want the sink's error", err)
	}
	n := src.handed()
	if n >= 100000 {
		t.Fatal("Run read the whole source although the sink failed for good")
	}
	acked, nacked := l.check(t, n)
	if len(acked) != 0 || tot.Nacked != int64(n) || tot.Delivered != 0 || tot.In != int64(n) {
		t.Fatalf("totals %+v, %d acked", tot, len(acked))
	}
	for i, e := range nacked {
		if !errors.Is(e, denied) && !strings.Contains(e.Error(), "not admitted") {
			t.Fatalf("record %d nacked with %v", i, e)
		}
	}
}

// TestRunSinkFailsTransiently: a partition whose sink writes keep failing
// (after the batcher's retries) is nacked, the others are stored; the run
// goes on to the end of the source.
func TestRunSinkFailsTransiently(t *testing.T) {
	t.Parallel()
	l := newLedger()
	src := &testSource{l: l, limit: 60, end: io.EOF, part: func(i int) string { return fmt.Sprint("p", i%2) }}
	st := dirStore(t)
	b := newBatcher(t, &storeSink{store: st, fail: func(p string) error {
		if p == "p1" {
			return errors.New("503 SlowDown")
		}
		return nil
	}}, nil)
	tot, err := batch.Run(context.Background(), src, b, byField{})
	var fe *batch.FlushError
	if err != nil && (!errors.As(err, &fe) || fe.Partition != "p1") {
		t.Fatalf("Run = %v, want nil or the failed batches of p1", err)
	}
	acked, nacked := l.check(t, 60)
	if len(acked) != 30 || len(nacked) != 30 || tot != (batch.Totals{In: 60, Delivered: 30, Nacked: 30}) {
		t.Fatalf("totals %+v", tot)
	}
	for i := range nacked {
		if i%2 != 1 {
			t.Fatalf("record %d of the working partition nacked", i)
		}
	}
	checkStored(t, st, acked, nil)
}

// TestRunSourceFatal: a source that fails for good after some records ends
// the run with its error; the records read before are stored and acked.
func TestRunSourceFatal(t *testing.T) {
	t.Parallel()
	fatal := lakerelay.Permanent(errors.New("source: receive: queue does not exist"))
	l := newLedger()
	src := &testSource{l: l, limit: 25, end: fatal}
	st := dirStore(t)
	b := newBatcher(t, &storeSink{store: st}, nil)
	tot, err := batch.Run(context.Background(), src, b, nil)
	if !errors.Is(err, fatal) {
		t.Fatalf("Run = %v, want the source's error", err)
	}
	acked, _ := l.check(t, 25)
	if len(acked) != 25 || tot != (batch.Totals{In: 25, Delivered: 25, Errors: 1}) {
		t.Fatalf("totals %+v", tot)
	}
	checkStored(t, st, acked, nil)
}

// TestRunReadErrors: OnReadError decides whether a Read error ends the run.
func TestRunReadErrors(t *testing.T) {
	t.Parallel()
	objErr := errors.New("source: get s3://b/k: 403")
	src := &flakySource{err: objErr, every: 5, limit: 20}
	var seen []error
	b := newBatcher(t, &storeSink{store: dirStore(t)}, nil)
	tot, err := batch.Run(context.Background(), src, b, nil, func(o *batch.RunOptions) {
		o.OnReadError = func(err error) error { seen = append(seen, err); return nil }
	})
	if err != nil || len(seen) != 4 || tot.Errors != 4 || tot.In != 16 || tot.Delivered != 16 {
		t.Fatalf("Run = %v, totals %+v, %d errors seen", err, tot, len(seen))
	}
}

// flakySource returns err instead of every every-th record, limit calls in
// all, then io.EOF.
type flakySource struct {
	err          error
	every, limit int
	n            int
}

func (s *flakySource) Read(context.Context) (lakerelay.Record, error) {
	s.n++
	switch {
	case s.n > s.limit:
		return lakerelay.Record{}, io.EOF
	case s.n%s.every == 0:
		return lakerelay.Record{}, s.err
	}
	return lakerelay.Record{Data: []byte(fmt.Sprintf(`{"n":%d}`, s.n))}, nil
}

func (s *flakySource) Close() error { return nil }

// TestRunQuarantineFails: rejected records whose quarantine fails are
// nacked, never acked; without a quarantine they are nacked with the reason.
func TestRunQuarantineFails(t *testing.T) {
	t.Parallel()
	qerr := errors.New("quarantine: disk full")
	for name, q := range map[string]batch.Quarantiner{
		"failing": batch.QuarantineFunc(func(lakerelay.Record, error) error { return qerr }),
		"none":    nil,
	} {
		t.Run(name, func(t *testing.T) {
			l := newLedger()
			src := &testSource{l: l, limit: 20, end: io.EOF, part: func(i int) string {
				if i%2 == 0 {
					return ""
				}
				return "ok"
			}}
			b := newBatcher(t, &storeSink{store: dirStore(t)}, nil)
			tot, err := batch.Run(context.Background(), src, b, byField{}, func(o *batch.RunOptions) { o.Quarantine = q })
			if err != nil {
				t.Fatal(err)
			}
			acked, nacked := l.check(t, 20)
			if len(acked) != 10 || tot != (batch.Totals{In: 20, Delivered: 10, Nacked: 10}) {
				t.Fatalf("totals %+v", tot)
			}
			for i, e := range nacked {
				want := qerr
				if q == nil {
					want = lakerelay.ErrInvalidRecord
				}
				if i%2 != 0 || !errors.Is(e, want) {
					t.Fatalf("record %d nacked with %v", i, e)
				}
			}
		})
	}
}

func TestRunOptionsInvalid(t *testing.T) {
	b := newBatcher(t, &storeSink{store: dirStore(t)}, nil)
	defer b.Close(context.Background())
	if _, err := batch.Run(context.Background(), &testSource{l: newLedger()}, b, nil, func(o *batch.RunOptions) { o.ShutdownTimeout = -1 }); !errors.Is(err, batch.ErrInvalidOptions) {
		t.Fatalf("Run = %v", err)
	}
}

// TestRunQuarantineDenied: a quarantine that fails for good (access denied)
// stops the run with its error; the rejected record is nacked, never acked.
func TestRunQuarantineDenied(t *testing.T) {
	t.Parallel()
	denied := lakerelay.Permanent(errors.New("quarantine: put s3://q/x: AccessDenied"))
	l := newLedger()
	src := &testSource{l: l, limit: 100000, end: io.EOF, part: func(i int) string {
		if i == 5 {
			return ""
		}
		return "ok"
	}}
	st := dirStore(t)
	b := newBatcher(t, &storeSink{store: st}, nil)
	tot, err := batch.Run(context.Background(), src, b, byField{}, func(o *batch.RunOptions) {
		o.Quarantine = batch.QuarantineFunc(func(lakerelay.Record, error) error { return denied })
	})
	if !errors.Is(err, denied) {
		t.Fatalf("Run = %v, want the quarantine's error", err)
	}
	n := src.handed()
	if n >= 100000 {
		t.Fatal("Run read on although the quarantine failed for good")
	}
	acked, nacked := l.check(t, n)
	if _, ok := nacked[5]; !ok || tot.Quarantined != 0 || tot.In != int64(n) || tot.Delivered != int64(len(acked)) {
		t.Fatalf("totals %+v, nacked %v", tot, nacked)
	}
	checkStored(t, st, acked, nil)
}

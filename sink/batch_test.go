package sink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

// acks records how each record was settled.
type acks struct {
	mu   sync.Mutex
	errs map[int][]error
}

func (a *acks) fn(i int) lakerelay.AckFunc {
	return func(err error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.errs[i] = append(a.errs[i], err)
	}
}

// runBatch pushes n records through a batcher into a JSONL sink over store
// (partitioned by the sink) and returns how they were settled.
func runBatch(t *testing.T, store Store, n int) *acks {
	t.Helper()
	s, err := NewJSONL(store, func(o *JSONLOptions) { o.Prefix = "through-batch/" })
	if err != nil {
		t.Fatal(err)
	}
	b, err := batch.New(s, func(o *batch.Options) {
		o.MaxRecords = 4
		o.MaxRetries = 1
		o.RetryBackoff = time.Millisecond
		o.MaxRetryBackoff = time.Millisecond
	})
	if err != nil {
		t.Fatal(err)
	}
	a := &acks{errs: map[int][]error{}}
	ctx := context.Background()
	for i := range n {
		r := lakerelay.Record{Data: fmt.Appendf(nil, `{"i":%d}`, i), Ack: a.fn(i)}
		p, err := s.Partition(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Add(ctx, p, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(ctx); err != nil && !errors.As(err, new(*batch.FlushError)) {
		t.Fatalf("Close: %v", err)
	}
	return a
}

// TestBatchNacksOnStoreFailure shows that through the batcher, records whose
// batch could not be stored are negatively acknowledged (never acked), each
// exactly once, with an error naming bucket and key.
func TestBatchNacksOnStoreFailure(t *testing.T) {
	for _, tc := range failureCases() {
		t.Run(tc.name, func(t *testing.T) {
			store, bucket := tc.store(t)
			a := runBatch(t, store, 10)
			if len(a.errs) != 10 {
				t.Fatalf("%d records settled, want 10", len(a.errs))
			}
			for i, errs := range a.errs {
				if len(errs) != 1 {
					t.Fatalf("record %d settled %d times", i, len(errs))
				}
				err := errs[0]
				if err == nil {
					t.Fatalf("record %d acknowledged although its batch was not stored", i)
				}
				var se *StoreError
				if !errors.As(err, &se) || se.Bucket != bucket || !strings.HasPrefix(se.Key, "through-batch/") {
					t.Fatalf("record %d nacked with %v: want a StoreError naming the bucket and key", i, err)
				}
				if ProblemOf(err) != tc.problem {
					t.Fatalf("record %d: problem %v, want %v", i, ProblemOf(err), tc.problem)
				}
			}
		})
	}
	t.Run("stored", func(t *testing.T) {
		m := testenv.StartMinIO(t)
		store, err := NewS3(m.S3(t), m.NewBucket(t))
		if err != nil {
			t.Fatal(err)
		}
		a := runBatch(t, store, 10)
		for i := range 10 {
			if errs := a.errs[i]; len(errs) != 1 || errs[0] != nil {
				t.Fatalf("record %d settled with %v, want one nil ack", i, errs)
			}
		}
		got := map[string]bool{}
		objs := objectLines(t, store, "through-batch/")
		for _, lines := range objs {
			for _, l := range lines {
				got[l] = true
			}
		}
		if len(objs) != 3 || len(got) != 10 {
			t.Fatalf("%d objects with %d records, want 3 objects (4+4+2) with 10", len(objs), len(got))
		}
	})
}

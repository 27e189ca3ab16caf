package batch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/source"
)

// prefixSink partitions by the record's first byte and keeps what it stored.
type prefixSink struct {
	name   string
	mu     sync.Mutex
	stored map[string][]string
	fail   error
}

func (s *prefixSink) Partition(r lakerelay.Record) (string, error) {
	if len(r.Data) == 0 {
		return "", fmt.Errorf("%w: empty", lakerelay.ErrInvalidRecord)
	}
	return "p=" + string(r.Data[:1]), nil
}

func (s *prefixSink) WriteBatch(_ context.Context, part string, records []lakerelay.Record) error {
	if s.fail != nil {
		return s.fail
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range records {
		s.stored[part] = append(s.stored[part], string(r.Data))
	}
	return nil
}

// quarantined records what a Quarantiner was given.
type quarantined struct {
	mu      sync.Mutex
	reasons []string
}

func (q *quarantined) Quarantine(r lakerelay.Record, reason error) {
	q.mu.Lock()
	q.reasons = append(q.reasons, string(r.Data)+": "+reason.Error())
	q.mu.Unlock()
	r.Settle(nil)
}
func (q *quarantined) Flush(context.Context) error { return nil }

// TestRouterAndMap runs one Run over a Router of two sinks behind a Map:
// every record is stored by the sink of its route in that sink's
// partition, or quarantined (by Map as read, by the Router with the
// route's reason), and acknowledged exactly once.
func TestRouterAndMap(t *testing.T) {
	input := "a1\nb2\nskip\nc3\na4\nb5\n"
	src, err := source.NewReader("in", strings.NewReader(input), func(o *source.ReaderOptions) { o.Decode.StreamType = source.Lines })
	require.NoError(t, err)
	acks := map[int64][]error{}
	var mu sync.Mutex
	counted := &ackSource{Source: src, on: func(i int64, err error) { mu.Lock(); acks[i] = append(acks[i], err); mu.Unlock() }}

	sa := &prefixSink{name: "A", stored: map[string][]string{}}
	sb := &prefixSink{name: "B", stored: map[string][]string{}}
	router := &batch.Router{Route: func(r lakerelay.Record) (string, batch.PartitionSink, error) {
		switch {
		case strings.HasPrefix(string(r.Data), "A"):
			return "route-a", sa, nil
		case strings.HasPrefix(string(r.Data), "B"):
			return "route-b", sb, nil
		}
		return "", nil, fmt.Errorf("%w: no route for %q", lakerelay.ErrInvalidRecord, r.Data)
	}}
	q := &quarantined{}
	upper := func(d []byte) ([]byte, error) {
		if string(d) == "skip" {
			return nil, errors.New("cannot map")
		}
		return []byte(strings.ToUpper(string(d))), nil
	}
	b, err := batch.New(router)
	require.NoError(t, err)
	var parts []string
	tot, err := batch.Run(context.Background(), batch.Map(counted, upper, q), b, router, func(o *batch.RunOptions) {
		o.Quarantine = q
	})
	require.NoError(t, err)
	for p := range sa.stored {
		parts = append(parts, "A "+p)
	}
	for p := range sb.stored {
		parts = append(parts, "B "+p)
	}
	sort.Strings(parts)
	require.Equal(t, []string{"A p=A", "B p=B"}, parts)
	require.Equal(t, []string{"A1", "A4"}, sa.stored["p=A"])
	require.Equal(t, []string{"B2", "B5"}, sb.stored["p=B"])
	sort.Strings(q.reasons)
	require.Len(t, q.reasons, 2)
	require.Equal(t, "C3: lakerelay: invalid record: no route for \"C3\"", q.reasons[0])
	require.Equal(t, "skip: cannot map", q.reasons[1], "Map quarantines the record as read")
	require.Equal(t, batch.Totals{In: 5, Delivered: 4, Quarantined: 1}, tot, "Map's rejection is not read by Run")
	require.Len(t, acks, 6)
	for i, list := range acks {
		require.Equal(t, []error{nil}, list, "record %d settled once, acknowledged", i)
	}
}

// TestRouterSinkFailure: a route whose sink fails for good negatively
// acknowledges its records only; the other route's are stored.
func TestRouterSinkFailure(t *testing.T) {
	denied := lakerelay.Permanent(errors.New("access denied"))
	sa := &prefixSink{stored: map[string][]string{}}
	sb := &prefixSink{stored: map[string][]string{}, fail: denied}
	router := &batch.Router{Route: func(r lakerelay.Record) (string, batch.PartitionSink, error) {
		if r.Data[0] == 'a' {
			return "a", sa, nil
		}
		return "b", sb, nil
	}}
	src, err := source.NewReader("in", strings.NewReader("a1\nb1\n"), func(o *source.ReaderOptions) { o.Decode.StreamType = source.Lines })
	require.NoError(t, err)
	var mu sync.Mutex
	var nacks []error
	counted := &ackSource{Source: src, on: func(_ int64, err error) {
		if err != nil {
			mu.Lock()
			nacks = append(nacks, err)
			mu.Unlock()
		}
	}}
	b, err := batch.New(router, func(o *batch.Options) { o.MaxRecords = 1 })
	require.NoError(t, err)
	tot, err := batch.Run(context.Background(), counted, b, router)
	require.ErrorIs(t, err, denied)
	require.Equal(t, int64(1), tot.Delivered)
	require.Equal(t, int64(1), tot.Nacked)
	require.Len(t, nacks, 1)
	require.Equal(t, []string{"a1"}, sa.stored["p=a"])
}

func TestRouterRejectsUnknownPartition(t *testing.T) {
	rt := &batch.Router{}
	err := rt.WriteBatch(context.Background(), "nowhere\x00p", nil)
	require.ErrorContains(t, err, "names no route")
	r, p := batch.SplitPartition("route\x00day=1")
	require.Equal(t, "route", r)
	require.Equal(t, "day=1", p)
}

// ackSource gives every record an Ack reporting its index.
type ackSource struct {
	lakerelay.Source
	on func(int64, error)
}

func (s *ackSource) Read(ctx context.Context) (lakerelay.Record, error) {
	r, err := s.Source.Read(ctx)
	if err == nil {
		i := r.Origin.Index
		r.Ack = func(err error) { s.on(i, err) }
	}
	return r, err
}

// A Router sends each record to the sink of its route; one Batcher and one
// Run serve them all.
func ExampleRouter() {
	logSink := func(name string) batch.PartitionSink {
		return struct {
			lakerelay.Sink
			lakerelay.Partitioner
		}{
			lakerelay.SinkFunc(func(_ context.Context, part string, rs []lakerelay.Record) error {
				fmt.Printf("%s stores %d records in %s\n", name, len(rs), part)
				return nil
			}),
			dayPartitioner{},
		}
	}
	audit, app := logSink("audit"), logSink("app")
	router := &batch.Router{Route: func(r lakerelay.Record) (string, batch.PartitionSink, error) {
		if strings.Contains(string(r.Data), `"audit"`) {
			return "audit", audit, nil
		}
		return "app", app, nil
	}}
	src, _ := source.NewReader("in", strings.NewReader(`{"day":"1","type":"audit"}
{"day":"1","type":"app"}
{"day":"2","type":"audit"}
`))
	b, _ := batch.New(router, func(o *batch.Options) { o.FlushConcurrency = 1 })
	totals, err := batch.Run(context.Background(), src, b, router)
	fmt.Println(totals.Delivered, err)
	// Unordered output:
	// audit stores 1 records in day=1
	// app stores 1 records in day=1
	// audit stores 1 records in day=2
	// 3 <nil>
}

// Map applies a mapping before partitioning; what it cannot map goes to
// the quarantine as it was read.
func ExampleMap() {
	src, _ := source.NewReader("in", strings.NewReader("a\n!\nb\n"), func(o *source.ReaderOptions) { o.Decode.StreamType = source.Lines })
	upper := func(d []byte) ([]byte, error) {
		if string(d) == "!" {
			return nil, errors.New("nothing to map")
		}
		return []byte(strings.ToUpper(string(d))), nil
	}
	q := batch.QuarantineFunc(func(r lakerelay.Record, reason error) error {
		fmt.Printf("quarantine %s %q: %v\n", r.Origin, r.Data, reason)
		return nil
	})
	store := lakerelay.SinkFunc(func(_ context.Context, _ string, rs []lakerelay.Record) error {
		for _, r := range rs {
			fmt.Printf("store %s\n", r.Data)
		}
		return nil
	})
	b, _ := batch.New(store)
	totals, err := batch.Run(context.Background(), batch.Map(src, upper, q), b, nil)
	fmt.Println(totals.Delivered, err)
	// Output:
	// quarantine in#1 "!": nothing to map
	// store A
	// store B
	// 2 <nil>
}

// TestMapClearsJSON: the mapper's output is not what the source checked, so
// a mapped record no longer says that its data is compact JSON, unless
// MapOptions.CompactJSON promises it (on the caller's goroutine and on
// workers alike).
func TestMapClearsJSON(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		fn      func([]byte) ([]byte, error)
		compact bool
		workers int
		want    string
	}{
		{"any function", func(d []byte) ([]byte, error) { return append([]byte("x "), d...), nil }, false, 1, `x {"a":1}`},
		{"any function, workers", func(d []byte) ([]byte, error) { return append([]byte("x "), d...), nil }, false, 2, `x {"a":1}`},
		{"CompactJSON", func(d []byte) ([]byte, error) { return append([]byte(`{"m":`), append(d, '}')...), nil }, true, 1, `{"m":{"a":1}}`},
		{"CompactJSON, workers", func(d []byte) ([]byte, error) { return append([]byte(`{"m":`), append(d, '}')...), nil }, true, 2, `{"m":{"a":1}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := source.NewReader("in", strings.NewReader(`{"a":1}`+"\n"+`{"a":1}`+"\n"), func(o *source.ReaderOptions) { o.Decode.StreamType = source.NDJSON })
			require.NoError(t, err)
			mapped := batch.Map(src, tc.fn, nil, func(o *batch.MapOptions) { o.CompactJSON, o.Workers = tc.compact, tc.workers })
			defer mapped.Close()
			for range 2 {
				r, err := mapped.Read(ctx)
				require.NoError(t, err)
				require.Equal(t, tc.want, string(r.Data))
				require.Equal(t, tc.compact, r.JSON, "Record.JSON of a mapped record")
				r.Settle(nil)
			}
			_, err = mapped.Read(ctx)
			require.ErrorIs(t, err, io.EOF)
		})
	}
}

package batch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/source"
)

// scripted is a source that yields its items in order (a record of the
// string, or the error), then io.EOF, and records every settlement.
type scripted struct {
	mu      sync.Mutex
	items   []any // string or error
	next    int
	closed  bool
	settled map[string][]error
}

func newScripted(items ...any) *scripted {
	return &scripted{items: items, settled: map[string][]error{}}
}

func (s *scripted) Read(ctx context.Context) (lakerelay.Record, error) {
	if err := ctx.Err(); err != nil {
		return lakerelay.Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return lakerelay.Record{}, lakerelay.ErrClosed
	}
	if s.next == len(s.items) {
		return lakerelay.Record{}, io.EOF
	}
	it := s.items[s.next]
	s.next++
	if err, ok := it.(error); ok {
		return lakerelay.Record{}, err
	}
	data := it.(string)
	return lakerelay.Record{Data: []byte(data), JSON: true, Origin: lakerelay.Origin{Key: data},
		Ack: func(err error) {
			s.mu.Lock()
			s.settled[data] = append(s.settled[data], err)
			s.mu.Unlock()
		}}, nil
}

func (s *scripted) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

// read is how many items the source handed out.
func (s *scripted) read() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

// mapSome upper-cases a record after a short random pause (so that
// workers finish out of order), and rejects those starting with "bad".
func mapSome(d []byte) ([]byte, error) {
	time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
	if strings.HasPrefix(string(d), "bad") {
		return nil, fmt.Errorf("cannot map %s", d)
	}
	return []byte(strings.ToUpper(string(d))), nil
}

// drain reads m until io.EOF and returns what Read and the quarantine saw,
// in order, as one list.
func drain(t *testing.T, m *batch.Mapped) []string {
	t.Helper()
	var out []string
	for {
		r, err := m.Read(context.Background())
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			out = append(out, "error "+err.Error())
			continue
		}
		require.False(t, r.JSON, "a mapped record keeps the source's JSON flag")
		out = append(out, "record "+string(r.Data))
		r.Settle(nil)
	}
}

// logQuarantine appends what it is given to *log, in the caller's order.
type logQuarantine struct{ log *[]string }

func (q logQuarantine) Quarantine(r lakerelay.Record, reason error) {
	*q.log = append(*q.log, "quarantine "+string(r.Data)+": "+reason.Error())
	r.Settle(nil)
}
func (q logQuarantine) Flush(context.Context) error { return nil }

// TestMapWorkersKeepOrder: with several workers, Read hands out records,
// the quarantine receives rejected ones and the source's errors come back,
// all in the order the source yielded them: exactly as with one worker.
func TestMapWorkersKeepOrder(t *testing.T) {
	items := func() []any {
		var items []any
		for i := range 500 {
			switch {
			case i%37 == 5:
				items = append(items, errors.New("object "+strconv.Itoa(i)+" unreadable"))
			case i%11 == 3:
				items = append(items, "bad"+strconv.Itoa(i))
			default:
				items = append(items, "r"+strconv.Itoa(i))
			}
		}
		return items
	}
	run := func(workers int) ([]string, *scripted, *batch.Mapped) {
		var log []string
		src := newScripted(items()...)
		m := batch.Map(src, mapSome, logQuarantine{&log}, func(o *batch.MapOptions) { o.Workers = workers })
		log = append(log, drain(t, m)...)
		require.NoError(t, m.Close())
		return log, src, m
	}
	want, _, _ := run(1)
	require.Contains(t, want, "quarantine bad3: cannot map bad3")
	require.Contains(t, want, "error object 5 unreadable")
	require.Contains(t, want, "record R0")
	for _, workers := range []int{2, 4, 16} {
		got, src, m := run(workers)
		require.Equal(t, want, got, "workers %d", workers)
		require.Zero(t, m.Pending())
		for data, errs := range src.settled {
			require.Equal(t, []error{nil}, errs, "record %s: settled once, acknowledged", data)
		}
		require.True(t, src.closed, "Close closes the source")
	}
}

// TestMapWorkersCloseNacksReadAhead: records read ahead and not handed out
// are negatively acknowledged by Close with ErrClosed (they stay
// redeliverable); every record is settled exactly once; Read then returns
// ErrClosed.
func TestMapWorkersCloseNacksReadAhead(t *testing.T) {
	var items []any
	for i := range 100 {
		items = append(items, "r"+strconv.Itoa(i))
	}
	src := newScripted(items...)
	m := batch.Map(src, mapSome, nil, func(o *batch.MapOptions) { o.Workers, o.MaxAhead = 3, 6 })
	ctx := context.Background()
	for i := range 5 {
		r, err := m.Read(ctx)
		require.NoError(t, err)
		require.Equal(t, "R"+strconv.Itoa(i), string(r.Data))
		r.Settle(nil)
	}
	require.Eventually(t, func() bool { return m.Pending() > 0 }, 5*time.Second, time.Millisecond, "reading ahead")
	require.NoError(t, m.Close())
	require.NoError(t, m.Close(), "Close is idempotent")
	require.Zero(t, m.Pending())
	_, err := m.Read(ctx)
	require.ErrorIs(t, err, lakerelay.ErrClosed)

	read := src.read()
	require.Greater(t, read, 5, "the workers read ahead")
	require.LessOrEqual(t, read, 5+6, "read ahead by at most MaxAhead records")
	for i := range read {
		data := "r" + strconv.Itoa(i)
		errs := src.settled[data]
		require.Len(t, errs, 1, "record %s settled once", data)
		if i < 5 {
			require.NoError(t, errs[0], data)
		} else {
			require.ErrorIs(t, errs[0], lakerelay.ErrClosed, data)
			require.ErrorContains(t, errs[0], "closed before the record was read")
		}
	}
}

// reusing is a source whose records' Data is overwritten once they are
// settled, as a source reusing the memory of settled records does
// (source.DecodeOptions.ReuseData).
type reusing struct{ n atomic.Int64 }

func (s *reusing) Read(context.Context) (lakerelay.Record, error) {
	data := []byte("r" + strconv.FormatInt(s.n.Add(1), 10))
	return lakerelay.Record{Data: data, Ack: func(error) {
		for i := range data {
			data[i] = 'X'
		}
	}}, nil
}

func (s *reusing) Close() error { return nil }

// TestMapWorkersCloseWaitsForMapping: Close settles the records read ahead
// only once no worker maps them any more, so that a source may reuse their
// memory (under the race detector, settling earlier is also a data race).
func TestMapWorkersCloseWaitsForMapping(t *testing.T) {
	var overwritten atomic.Int64
	slow := func(d []byte) ([]byte, error) {
		before := string(d)
		time.Sleep(20 * time.Millisecond)
		if string(d) != before {
			overwritten.Add(1)
		}
		return d, nil
	}
	m := batch.Map(&reusing{}, slow, nil, func(o *batch.MapOptions) { o.Workers, o.MaxAhead = 2, 4 })
	r, err := m.Read(context.Background())
	require.NoError(t, err)
	r.Settle(nil)
	time.Sleep(5 * time.Millisecond) // the workers are mapping the next records
	require.NoError(t, m.Close())
	time.Sleep(50 * time.Millisecond) // any mapping still running ends
	require.Zero(t, overwritten.Load(), "records settled while a worker read their data")
}

// TestMapWorkersReadCancelled: a Read whose context ends while its record
// is being mapped returns the context's error, and the next Read returns
// that record: it is neither lost nor handed out twice.
func TestMapWorkersReadCancelled(t *testing.T) {
	release := make(chan struct{})
	fn := func(d []byte) ([]byte, error) {
		if string(d) == "slow" {
			<-release
		}
		return append([]byte("m:"), d...), nil
	}
	src := newScripted("slow", "next")
	m := batch.Map(src, fn, nil, func(o *batch.MapOptions) { o.Workers = 2 })
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := m.Read(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Equal(t, 2, m.Pending(), "both records read ahead, none handed out")
	close(release)
	for _, want := range []string{"m:slow", "m:next"} {
		r, err := m.Read(context.Background())
		require.NoError(t, err)
		require.Equal(t, want, string(r.Data))
		r.Settle(nil)
	}
	_, err = m.Read(context.Background())
	require.ErrorIs(t, err, io.EOF)
	_, err = m.Read(context.Background())
	require.ErrorIs(t, err, io.EOF, "the end is sticky")
	require.Equal(t, map[string][]error{"slow": {nil}, "next": {nil}}, src.settled)
}

// TestMapWorkersCloseWhileReading: Close while another goroutine waits in
// Read ends that Read with ErrClosed (or a record handed out before), and
// closing before the first Read starts nothing.
func TestMapWorkersCloseWhileReading(t *testing.T) {
	block := make(chan struct{})
	src := newScripted("a")
	m := batch.Map(src, func(d []byte) ([]byte, error) { <-block; return d, nil }, nil, func(o *batch.MapOptions) { o.Workers = 2 })
	got := make(chan error, 1)
	go func() {
		r, err := m.Read(context.Background())
		if err == nil {
			r.Settle(nil)
		}
		got <- err
	}()
	require.Eventually(t, func() bool { return m.Pending() == 1 }, 5*time.Second, time.Millisecond, "the record read")
	closed := make(chan error, 1)
	go func() { closed <- m.Close() }()
	time.Sleep(20 * time.Millisecond)
	close(block) // the worker finishes its record (Close does not wait for it)
	require.NoError(t, <-closed)
	err := <-got
	src.mu.Lock()
	settled := src.settled["a"]
	src.mu.Unlock()
	require.Len(t, settled, 1, "settled once")
	if err != nil {
		require.ErrorIs(t, err, lakerelay.ErrClosed)
		require.ErrorIs(t, settled[0], lakerelay.ErrClosed)
	} else {
		require.NoError(t, settled[0], "handed out and acknowledged")
	}

	unused := batch.Map(newScripted("x"), mapSome, nil, func(o *batch.MapOptions) { o.Workers = 4 })
	require.NoError(t, unused.Close())
	_, err = unused.Read(context.Background())
	require.ErrorIs(t, err, lakerelay.ErrClosed)
}

// TestRunMapWorkers: Run over a Map with several workers delivers every
// record once and quarantines the rejected ones (under -race: fn, the
// quarantine and the sink from their goroutines).
func TestRunMapWorkers(t *testing.T) {
	var items []any
	for i := range 2000 {
		if i%100 == 7 {
			items = append(items, "bad"+strconv.Itoa(i))
		} else {
			items = append(items, "r"+strconv.Itoa(i))
		}
	}
	src := newScripted(items...)
	var mu sync.Mutex
	stored := map[string]int{}
	store := lakerelay.SinkFunc(func(_ context.Context, _ string, rs []lakerelay.Record) error {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range rs {
			stored[string(r.Data)]++
		}
		return nil
	})
	q := &quarantined{}
	b, err := batch.New(store, func(o *batch.Options) { o.MaxRecords = 64 })
	require.NoError(t, err)
	m := batch.Map(src, mapSome, q, func(o *batch.MapOptions) { o.Workers = 4 })
	tot, err := batch.Run(context.Background(), m, b, nil)
	require.NoError(t, err)
	require.NoError(t, m.Close())
	require.EqualValues(t, 1980, tot.Delivered)
	require.EqualValues(t, 1980, tot.In, "Run counts what Map hands out")
	require.Len(t, stored, 1980)
	require.Len(t, q.reasons, 20)
	require.Equal(t, "bad7: cannot map bad7", q.reasons[0], "quarantined in order")
	for _, errs := range src.settled {
		require.Equal(t, []error{nil}, errs)
	}
}

// TestMapWorkersReadAheadBounds: the records read ahead stay within
// MaxAhead and MaxAheadBytes while nobody reads, and a record larger than
// MaxAheadBytes still goes through.
func TestMapWorkersReadAheadBounds(t *testing.T) {
	kib := strings.Repeat("x", 1024)
	var items []any
	for range 50 {
		items = append(items, kib)
	}
	items = append(items, strings.Repeat("y", 10<<10))
	for _, c := range []struct {
		name       string
		ahead      int
		aheadBytes int64
		wantAtRest int
	}{
		{"records", 5, 1 << 20, 5},
		{"bytes", 100, 4 << 10, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := newScripted(items...)
			m := batch.Map(src, func(d []byte) ([]byte, error) { return d, nil }, nil, func(o *batch.MapOptions) {
				o.Workers, o.MaxAhead, o.MaxAheadBytes = 2, c.ahead, c.aheadBytes
			})
			defer m.Close()
			r, err := m.Read(context.Background()) // starts the read-ahead
			require.NoError(t, err)
			r.Settle(nil)
			require.Eventually(t, func() bool { return m.Pending() == c.wantAtRest }, 5*time.Second, time.Millisecond)
			time.Sleep(20 * time.Millisecond)
			require.Equal(t, c.wantAtRest, m.Pending(), "no more read ahead")
			require.LessOrEqual(t, src.read(), 1+c.wantAtRest+1, "one more record may wait for room for its bytes")
			n := 1
			for {
				r, err := m.Read(context.Background())
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(t, err)
				n++
				r.Settle(nil)
			}
			require.Equal(t, 51, n, "every record, the one larger than MaxAheadBytes too")
		})
	}
}

// TestReadAhead: records come unchanged (the JSON flag too), in order, with
// the source's errors in their place; Close negatively acknowledges what
// was read ahead.
func TestReadAhead(t *testing.T) {
	var items []any
	for i := range 300 {
		if i%50 == 10 {
			items = append(items, errors.New("object "+strconv.Itoa(i)+" unreadable"))
			continue
		}
		items = append(items, "r"+strconv.Itoa(i))
	}
	src := newScripted(items...)
	m := batch.ReadAhead(src, func(o *batch.MapOptions) { o.MaxAhead = 7 })
	ctx := context.Background()
	for i, it := range items {
		r, err := m.Read(ctx)
		if want, ok := it.(error); ok {
			require.EqualError(t, err, want.Error(), "item %d", i)
			continue
		}
		require.NoError(t, err, "item %d", i)
		require.Equal(t, it, string(r.Data))
		require.True(t, r.JSON, "the source's JSON flag is kept")
		require.Equal(t, it, r.Origin.Key)
		if i < 200 {
			r.Settle(nil)
		}
		if i == 200 {
			r.Settle(nil)
			break
		}
	}
	require.Eventually(t, func() bool { return m.Pending() == 7 }, 5*time.Second, time.Millisecond)
	require.NoError(t, m.Close())
	require.Zero(t, m.Pending())
	_, err := m.Read(ctx)
	require.ErrorIs(t, err, lakerelay.ErrClosed)
	nacked := 0
	for data, errs := range src.settled {
		require.Len(t, errs, 1, data)
		if errs[0] != nil {
			require.ErrorIs(t, errs[0], lakerelay.ErrClosed)
			nacked++
		}
	}
	require.Equal(t, 7, nacked, "the records read ahead")
}

// Map with several workers maps records on that many goroutines; they are
// still handed out (and quarantined) in the order they were read.
func ExampleMapOptions() {
	src, _ := source.NewReader("in", strings.NewReader("a\nb\nc\nd\n"), func(o *source.ReaderOptions) { o.Decode.StreamType = source.Lines })
	upper := func(d []byte) ([]byte, error) { return []byte(strings.ToUpper(string(d))), nil }
	mapped := batch.Map(src, upper, nil, func(o *batch.MapOptions) { o.Workers = 4 })
	defer mapped.Close()
	for {
		r, err := mapped.Read(context.Background())
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(string(r.Data))
		r.Settle(nil)
	}
	// Output:
	// A
	// B
	// C
	// D
	// EOF
}

// ReadAhead reads a source on a goroutine of its own; Run partitions and
// batches what it read meanwhile.
func ExampleReadAhead() {
	src, _ := source.NewReader("in", strings.NewReader(`{"n":1}`+"\n"+`{"n":2}`+"\n"), func(o *source.ReaderOptions) { o.Decode.StreamType = source.NDJSON })
	ahead := batch.ReadAhead(src)
	defer ahead.Close()
	store := lakerelay.SinkFunc(func(_ context.Context, _ string, rs []lakerelay.Record) error {
		for _, r := range rs {
			fmt.Printf("store %s\n", r.Data)
		}
		return nil
	})
	b, _ := batch.New(store)
	totals, err := batch.Run(context.Background(), ahead, b, nil)
	fmt.Println(totals.Delivered, err)
	// Output:
	// store {"n":1}
	// store {"n":2}
	// 2 <nil>
}

// stuck is a source whose Read blocks, whatever its context, until release
// is closed (as a read from a pipe does), then returns one record.
type stuck struct {
	release chan struct{}
	settled chan error
}

func (s *stuck) Read(context.Context) (lakerelay.Record, error) {
	<-s.release
	return lakerelay.Record{Data: []byte("late"), Ack: func(err error) { s.settled <- err }}, nil
}
func (s *stuck) Close() error { return nil }

// TestReadAheadCloseDoesNotWaitForSource: Close returns while the source's
// Read is blocked; the record that Read returns later is negatively
// acknowledged, and the Read of the result waiting meanwhile returns
// ErrClosed.
func TestReadAheadCloseDoesNotWaitForSource(t *testing.T) {
	for _, workers := range []int{0, 2} {
		src := &stuck{release: make(chan struct{}), settled: make(chan error, 1)}
		var m *batch.Mapped
		if workers == 0 {
			m = batch.ReadAhead(src)
		} else {
			m = batch.Map(src, func(d []byte) ([]byte, error) { return d, nil }, nil, func(o *batch.MapOptions) { o.Workers = workers })
		}
		got := make(chan error, 1)
		go func() {
			_, err := m.Read(context.Background())
			got <- err
		}()
		time.Sleep(20 * time.Millisecond)
		closed := make(chan error, 1)
		go func() { closed <- m.Close() }()
		select {
		case err := <-closed:
			require.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Fatal("Close waits for the source's Read")
		}
		require.ErrorIs(t, <-got, lakerelay.ErrClosed)
		close(src.release)
		select {
		case err := <-src.settled:
			require.ErrorIs(t, err, lakerelay.ErrClosed, "the record read after Close is negatively acknowledged")
		case <-time.After(5 * time.Second):
			t.Fatal("the record read after Close was not settled")
		}
		require.Zero(t, m.Pending())
	}
}

// TestReadAheadDefaultBounds: by default ReadAhead holds DefaultReadAhead
// small records ahead of its caller, and no more; records of a few
// kilobytes are bounded by DefaultMaxAheadBytes first.
func TestReadAheadDefaultBounds(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
		want int // records held once the pump waits
	}{
		{"small records", 8, batch.DefaultReadAhead},
		// One record always waits for room for its bytes, and is counted
		// once it is in.
		{"4 KiB records", 4 << 10, batch.DefaultMaxAheadBytes / (4 << 10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 2*batch.DefaultReadAhead + 10
			items := make([]any, n)
			for i := range items {
				s := fmt.Sprintf("%0*d", tc.size, i)
				items[i] = s
			}
			src := newScripted(items...)
			m := batch.ReadAhead(src)
			ctx := context.Background()
			r, err := m.Read(ctx) // starts the pump
			require.NoError(t, err)
			r.Settle(nil)
			require.Eventually(t, func() bool { return m.Pending() == tc.want }, 5*time.Second, time.Millisecond)
			time.Sleep(50 * time.Millisecond)
			require.Equal(t, tc.want, m.Pending(), "the pump waits for room")
			for range n - 1 {
				r, err := m.Read(ctx)
				require.NoError(t, err)
				r.Settle(nil)
			}
			_, err = m.Read(ctx)
			require.ErrorIs(t, err, io.EOF)
			require.NoError(t, m.Close())
			require.Len(t, src.settled, n)
		})
	}
}

package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

// reuseInput returns n NDJSON records of 100 to 1,600 bytes, gzip
// compressed, with the line at each index in bad not JSON; want holds each
// line by its index.
func reuseInput(t testing.TB, n int, bad map[int]bool) (data []byte, want []string) {
	var b strings.Builder
	for i := range n {
		s := fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat(string(rune('a'+i%26)), 80+(i*37)%1500))
		if bad[i] {
			s = fmt.Sprintf("not json %d %s", i, s)
		}
		want = append(want, s)
		b.WriteString(s + "\n")
	}
	return gz(t, b.String()), want
}

// writeInputs writes a file of reuseInput(n) under dir for each n and
// returns each file's lines by path.
func writeInputs(t *testing.T, dir string, counts ...int) map[string][]string {
	want := map[string][]string{}
	for i, n := range counts {
		name := filepath.Join(dir, fmt.Sprintf("f%02d.gz", i))
		d, w := reuseInput(t, n, nil)
		if err := os.WriteFile(name, d, 0o644); err != nil {
			t.Fatal(err)
		}
		want[name] = w
	}
	return want
}

// readHolding reads src to its end (or, when stopAt > 0, until it handed
// out stopAt records), holding up to window records and settling a random
// one of them whenever the window is full. Before each settling it checks
// that every record held still holds its own bytes: settling a record must
// never let the source reuse the memory of another. It returns how many
// records each key handed out.
func readHolding(t *testing.T, src lakerelay.Source, want map[string][]string, window, stopAt int) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rng := rand.New(rand.NewPCG(1, 2))
	var held []lakerelay.Record
	seen := map[string]map[int64]bool{}
	check := func() {
		for _, r := range held {
			w := want[r.Origin.Key]
			if r.Origin.Index >= int64(len(w)) || string(r.Data) != w[r.Origin.Index] {
				t.Fatalf("%s#%d holds %.40q…, want %.40q…", r.Origin.Key, r.Origin.Index, r.Data, w[min(r.Origin.Index, int64(len(w)-1))])
			}
		}
	}
	settleOne := func() {
		check()
		i := rng.IntN(len(held))
		held[i].Settle(nil)
		held[i] = held[len(held)-1]
		held = held[:len(held)-1]
	}
	n := 0
	for stopAt == 0 || n < stopAt {
		r, err := src.Read(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d records: %v", n, err)
		}
		n++
		// Past an object's first 64 KiB of records every record but a
		// large one is cut from a slab, and has an Ack.
		if r.Origin.Offset >= 2*slabSize && len(r.Data) <= maxSlabbed && r.Ack == nil {
			t.Fatalf("%s#%d: no Ack with ReuseData", r.Origin.Key, r.Origin.Index)
		}
		if seen[r.Origin.Key] == nil {
			seen[r.Origin.Key] = map[int64]bool{}
		}
		if seen[r.Origin.Key][r.Origin.Index] {
			t.Fatalf("%s#%d handed out twice", r.Origin.Key, r.Origin.Index)
		}
		seen[r.Origin.Key][r.Origin.Index] = true
		held = append(held, r)
		if len(held) > window {
			settleOne()
		}
	}
	for len(held) > 0 {
		settleOne()
	}
	counts := map[string]int{}
	for k, s := range seen {
		counts[k] = len(s)
	}
	return counts
}

// checkReleased fails unless every slab taken since held0 was released.
func checkReleased(t *testing.T, held0 int64) {
	t.Helper()
	if held := slabs.held.Load(); held != held0 {
		t.Fatalf("%d slabs still held after every record was settled and the source closed", held-held0)
	}
}

// closeEarly opens a source, reads 400 of its records, gives the objects
// after them time to be decoded ahead, closes it and checks that every
// slab taken since it opened is back.
func closeEarly(t *testing.T, want map[string][]string, open func() (lakerelay.Source, error)) {
	t.Helper()
	held0 := slabs.held.Load()
	src, err := open()
	if err != nil {
		t.Fatal(err)
	}
	readHolding(t, src, want, 10, 400)
	time.Sleep(100 * time.Millisecond)
	src.Close()
	checkReleased(t, held0)
}

// TestReuseData reads with DecodeOptions.ReuseData from each source,
// holding records and settling them out of order: every record keeps its
// bytes until it is settled, every slab is released at the end, and the
// memory is reused (a few slabs serve 4 MB of records).
func TestReuseData(t *testing.T) {
	data, lines := reuseInput(t, 5000, nil)
	reuse := DecodeOptions{StreamType: NDJSON, ReuseData: true}
	t.Run("Reader", func(t *testing.T) {
		held0, made0 := slabs.held.Load(), slabs.made.Load()
		r, err := NewReader("in", bytes.NewReader(data), func(o *ReaderOptions) { o.Decode = reuse })
		if err != nil {
			t.Fatal(err)
		}
		if got := readHolding(t, r, map[string][]string{"in": lines}, 64, 0); got["in"] != len(lines) {
			t.Fatalf("%d records, want %d", got["in"], len(lines))
		}
		r.Close()
		checkReleased(t, held0)
		// Held 64 at a time, a few slabs serve all the records (one settled
		// late holds its slab longer).
		size := 0
		for _, l := range lines {
			size += len(l)
		}
		if made, fill := slabs.made.Load()-made0, int64(size/slabSize); made > fill/5 {
			t.Fatalf("%d slabs made for records that fill %d: they are not reused", made, fill)
		}
	})
	t.Run("Dir", func(t *testing.T) {
		dir := t.TempDir()
		want := writeInputs(t, dir, 5000, 3, 40, 1, 200)
		held0 := slabs.held.Load()
		d, err := NewDir(dir, func(o *DirOptions) { o.Decode = reuse })
		if err != nil {
			t.Fatal(err)
		}
		got := readHolding(t, d, want, 300, 0)
		for k, w := range want {
			if got[k] != len(w) {
				t.Fatalf("%s: %d records, want %d", k, got[k], len(w))
			}
		}
		d.Close()
		checkReleased(t, held0)
	})
	t.Run("Dir closed early", func(t *testing.T) {
		// Files of 300 records (about 250 KB, cut from slabs past their
		// first 64 KiB) are decoded ahead; Close settles the records
		// decoded and not handed out, so their slabs are back.
		counts := make([]int, 12)
		for i := range counts {
			counts[i] = 300
		}
		dir := t.TempDir()
		want := writeInputs(t, dir, counts...)
		closeEarly(t, want, func() (lakerelay.Source, error) {
			return NewDir(dir, func(o *DirOptions) { o.Decode = reuse })
		})
	})
	t.Run("List closed early", func(t *testing.T) {
		e := newEnv(t, testenv.QueueOptions{})
		want := map[string][]string{}
		for i := range 12 {
			d, w := reuseInput(t, 300, nil)
			key := fmt.Sprintf("l/%02d.gz", i)
			e.put(key, d)
			want[key] = w
		}
		closeEarly(t, want, func() (lakerelay.Source, error) {
			return NewList(e.s3c, e.bucket, "l/", func(o *ListOptions) { o.Decode = reuse })
		})
	})
	t.Run("small objects", func(t *testing.T) {
		// Files under 64 KiB of records take no slab: one each, held by
		// records of many files waiting for their batch, would be mostly
		// unused memory.
		dir := t.TempDir()
		counts := make([]int, 50)
		for i := range counts {
			counts[i] = 8
		}
		want := writeInputs(t, dir, counts...)
		held0 := slabs.held.Load()
		d, err := NewDir(dir, func(o *DirOptions) { o.Decode = reuse })
		if err != nil {
			t.Fatal(err)
		}
		all, errs := readAll(t, d)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		for _, r := range all {
			if r.Ack != nil || string(r.Data) != want[r.Origin.Key][r.Origin.Index] {
				t.Fatalf("%s#%d: Ack %v, %.40q…", r.Origin.Key, r.Origin.Index, r.Ack != nil, r.Data)
			}
		}
		if held := slabs.held.Load() - held0; held != 0 || len(all) != 400 {
			t.Fatalf("%d slabs held by %d records of 50 files", held, len(all))
		}
		d.Close()
	})
	t.Run("SQS", func(t *testing.T) {
		e := newEnv(t, testenv.QueueOptions{})
		e.put("r/a.gz", data)
		small, smallLines := reuseInput(t, 30, nil)
		e.put("r/b.gz", small)
		e.notify("r/a.gz")
		e.notify("r/b.gz")
		held0 := slabs.held.Load()
		s, _ := e.source(func(o *SQSOptions) { o.Decode = reuse })
		want := map[string][]string{"r/a.gz": lines, "r/b.gz": smallLines}
		got := readHolding(t, s, want, 100, len(lines)+len(smallLines))
		if got["r/a.gz"] != len(lines) || got["r/b.gz"] != len(smallLines) {
			t.Fatalf("records per object: %v", got)
		}
		waitFor(t, 20*time.Second, "both messages deleted", func() bool { return s.Stats().Deleted == 2 })
		s.Close()
		checkReleased(t, held0)
		if n := e.queueDepth(e.queue.URL); n != 0 {
			t.Fatalf("%d messages left in the queue", n)
		}
	})
}

// TestReuseDataNack: a record negatively acknowledged fails its message,
// which stays in the queue; the records of its object read after that are
// not handed out, and every slab comes back.
func TestReuseDataNack(t *testing.T) {
	data, lines := reuseInput(t, 5000, nil)
	e := newEnv(t, testenv.QueueOptions{})
	e.put("n/a.gz", data)
	e.notify("n/a.gz")
	held0 := slabs.held.Load()
	s, _ := e.source(func(o *SQSOptions) { o.Decode = DecodeOptions{StreamType: NDJSON, ReuseData: true} })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range 151 {
		r, err := s.Read(ctx)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if string(r.Data) != lines[r.Origin.Index] {
			t.Fatalf("record %d holds %.40q…", r.Origin.Index, r.Data)
		}
		if i < 150 {
			r.Settle(nil)
			continue
		}
		if r.Ack == nil {
			t.Fatal("record 150, past the object's first 64 KiB, is not cut from a slab")
		}
		r.Settle(errors.New("not stored"))
	}
	// What the worker had handed over before it saw the nack is still
	// read; then it stops reading the object, and nothing more comes
	// before the message is visible again (2 s).
	short, c := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer c()
	n := 151
	for {
		r, err := s.Read(short)
		if err != nil {
			break
		}
		n++
		r.Settle(nil)
	}
	if n >= len(lines) {
		t.Fatalf("all %d records handed out after the nack", n)
	}
	if st := s.Stats(); st.Deleted != 0 {
		t.Fatalf("the message was deleted: %+v", st)
	}
	s.Close()
	checkReleased(t, held0)
	// Visible again after its visibility timeout (2 s).
	if left := e.remaining(5 * time.Second); len(left) != 1 || !strings.Contains(left[0], "n/a.gz") {
		t.Fatalf("left in the queue: %q, want the message of n/a.gz", left)
	}
}

// TestReuseDataInvalidRecords: invalid records, quarantined or failing
// their object, release their hold at once; records larger than a slab
// allows have memory of their own.
func TestReuseDataInvalidRecords(t *testing.T) {
	bad := map[int]bool{0: true, 7: true, 8: true, 999: true}
	data, lines := reuseInput(t, 1000, bad)
	valid := 0
	for i := range lines {
		if !bad[i] {
			valid++
		}
	}
	t.Run("quarantined", func(t *testing.T) {
		held0 := slabs.held.Load()
		var quarantined []string
		r, err := NewReader("in", bytes.NewReader(data), func(o *ReaderOptions) {
			o.Decode = DecodeOptions{StreamType: NDJSON, ReuseData: true}
			o.Quarantine = func(rec lakerelay.Record, _ error) error {
				quarantined = append(quarantined, string(rec.Data)) // a copy, as a quarantine keeps
				return nil
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := readHolding(t, r, map[string][]string{"in": lines}, 10, 0); got["in"] != valid {
			t.Fatalf("%d records, want %d", got["in"], valid)
		}
		r.Close()
		checkReleased(t, held0)
		if len(quarantined) != len(bad) || quarantined[0] != lines[0] || quarantined[3] != lines[999] {
			t.Fatalf("quarantined %d records, want %d", len(quarantined), len(bad))
		}
	})
	t.Run("failing", func(t *testing.T) {
		held0 := slabs.held.Load()
		r, err := NewReader("in", bytes.NewReader(data), func(o *ReaderOptions) {
			o.Decode = DecodeOptions{StreamType: NDJSON, ReuseData: true}
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Read(context.Background())
		var oe *ObjectError
		if !errors.As(err, &oe) || oe.Index != 0 {
			t.Fatalf("Read: %v, want the invalid record 0", err)
		}
		r.Close()
		checkReleased(t, held0)
	})
	t.Run("large", func(t *testing.T) {
		// The first 64 KiB of records have allocations of their own, so
		// do large records; the others are cut from slabs.
		small := `{"a":"` + strings.Repeat("y", 1000) + `"}`
		big := `{"big":"` + strings.Repeat("x", maxSlabbed) + `"}`
		in := strings.Repeat(small+"\n", 2*slabSize/len(small)) + big + "\n" + small + "\n"
		r, err := NewReader("in", strings.NewReader(in), func(o *ReaderOptions) {
			o.Decode = DecodeOptions{StreamType: NDJSON, ReuseData: true}
		})
		if err != nil {
			t.Fatal(err)
		}
		recs, errs := readAll(t, r)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		var acks []bool
		for _, rec := range recs {
			acks = append(acks, rec.Ack != nil)
			rec.Settle(nil)
		}
		n := len(acks)
		if acks[0] || acks[slabSize/len(small)-1] || !acks[slabSize/len(small)+1] || acks[n-2] || !acks[n-1] {
			t.Fatalf("records with an Ack (a slab): first %v, last of the first 64 KiB %v, the one after %v, the large one %v, the last %v",
				acks[0], acks[slabSize/len(small)-1], acks[slabSize/len(small)+1], acks[n-2], acks[n-1])
		}
		r.Close()
	})
}

// TestReuseDataSettledTwice: a record settled twice, against AckFunc's
// contract, takes another record's hold on its slab; once the slab's holds
// fall below zero the source says so, instead of handing the slab out to
// two readers.
func TestReuseDataSettledTwice(t *testing.T) {
	slabAfter = 0
	defer func() { slabAfter = slabSize }()
	data, _ := reuseInput(t, 5, nil)
	r, err := NewReader("twice.ndjson.gz", bytes.NewReader(data), func(o *ReaderOptions) {
		o.Decode.StreamType = NDJSON
		o.Decode.ReuseData = true
	})
	if err != nil {
		t.Fatal(err)
	}
	recs, errs := readAll(t, r)
	if len(errs) > 0 || len(recs) != 5 {
		t.Fatalf("%d records, errors %v", len(recs), errs)
	}
	for _, rec := range recs {
		if rec.Ack == nil {
			t.Fatalf("%s: no Ack: not cut from a slab", rec.Origin)
		}
	}
	r.Close() // the decoder's hold is gone: the 5 records hold the slab
	recs[0].Settle(nil)
	recs[0].Settle(nil) // takes recs[1]'s hold
	for _, rec := range recs[1:4] {
		rec.Settle(nil)
	}
	defer func() {
		if p := recover(); p != errSettledTwice {
			t.Fatalf("settling the last record: panic %v, want %v", p, errSettledTwice)
		}
	}()
	recs[4].Settle(nil) // one hold more than there are
}

package quarantine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/jsonscan"
	"github.com/lakerelay/lakerelay/internal/testenv"
	"github.com/lakerelay/lakerelay/sink"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func clientAt(cfg aws.Config, endpoint string) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.BaseEndpoint = aws.String(endpoint)
	})
}

func fastRetries(o *sink.S3Options) { o.MaxAttempts, o.MaxBackoff = 2, 20*time.Millisecond }

// acks counts, per record (by Origin.Index), how often and how it was
// settled.
type acks struct {
	mu   sync.Mutex
	ok   map[int64]int
	errs map[int64][]error
}

func newAcks() *acks { return &acks{ok: map[int64]int{}, errs: map[int64][]error{}} }

func (a *acks) record(i int64, data string) lakerelay.Record {
	return lakerelay.Record{Data: []byte(data), Origin: lakerelay.Origin{Bucket: "b", Key: "k", Index: i, Offset: i * 10, LogType: "t"},
		Ack: func(err error) {
			a.mu.Lock()
			defer a.mu.Unlock()
			if err == nil {
				a.ok[i]++
			} else {
				a.errs[i] = append(a.errs[i], err)
			}
		}}
}

func (a *acks) counts() (ok, failed int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.ok), len(a.errs)
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// entries reads every entry of every object in store (or of the file at
// path if store is nil).
func entries(t *testing.T, store sink.Store, path string) []Entry {
	t.Helper()
	var out []Entry
	parse := func(r io.Reader, where string) {
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var e Entry
			d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
			d.DisallowUnknownFields()
			if err := d.Decode(&e); err != nil {
				t.Fatalf("%s: line %q: %v", where, sc.Text(), err)
			}
			out = append(out, e)
		}
		if sc.Err() != nil {
			t.Fatal(sc.Err())
		}
	}
	if store == nil {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		parse(f, path)
		return out
	}
	ctx := context.Background()
	err := store.List(ctx, "", func(o sink.ObjectInfo) error {
		if !strings.HasSuffix(o.Key, ".ndjson") {
			return fmt.Errorf("unexpected object %s", o.Key)
		}
		rc, err := store.Get(ctx, o.Key)
		if err != nil {
			return err
		}
		defer rc.Close()
		parse(rc, o.Key)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEntryFormat(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	for _, tc := range []struct {
		name, data string
		want       string // the data or data_base64 member
	}{
		{"json object, pretty", "{\n  \"a\": [1, 2],\n  \"b\": \"x\"\n}", `"data":{"a":[1,2],"b":"x"}`},
		{"json array", `[1, 2]`, `"data":[1,2]`},
		{"json string", `"hi"`, `"data":"\"hi\""`},
		{"json number", `12`, `"data":"12"`},
		{"invalid json", `{"a":`, `"data":"{\"a\":"`},
		{"text with newline", "a\nb", `"data":"a\nb"`},
		{"empty", "", `"data":""`},
		{"not utf-8", "\xff\xfe{", `"data_base64":"//57"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := lakerelay.Record{Data: []byte(tc.data), Origin: lakerelay.Origin{Bucket: "bk", Key: "a/b.json", Index: 3, Offset: 42, LogType: "cloudtrail"}}
			line := appendEntry(nil, now, r, "bad record")
			want := `{"time":"2026-01-02T03:04:05.006Z","reason":"bad record","origin":{"bucket":"bk","key":"a/b.json","index":3,"offset":42,"log_type":"cloudtrail"},` + tc.want + "}\n"
			if string(line) != want {
				t.Fatalf("entry\n%s\nwant\n%s", line, want)
			}
			var e Entry
			if err := json.Unmarshal(line, &e); err != nil {
				t.Fatal(err)
			}
			got, err := e.Record()
			if err != nil {
				t.Fatal(err)
			}
			if isDocument([]byte(tc.data)) {
				var c bytes.Buffer
				_ = json.Compact(&c, []byte(tc.data))
				tc.data = c.String()
			}
			if string(got) != tc.data {
				t.Fatalf("Record() = %q, want %q", got, tc.data)
			}
		})
	}
}

func FuzzEntry(f *testing.F) {
	for _, s := range []string{`{"a":1}`, "x", "", "\xff", "[1,\n2]", `"s"`, "{\"a\":\"\u2028\"}", "null", "1e400"} {
		f.Add([]byte(s), "reason\nwith newline")
	}
	f.Fuzz(func(t *testing.T, data []byte, reason string) {
		line := appendEntry(nil, time.Unix(0, 0), lakerelay.Record{Data: data}, reason)
		if bytes.IndexByte(line, '\n') != len(line)-1 {
			t.Fatalf("entry is not one line: %q", line)
		}
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("entry %q: %v", line, err)
		}
		if e.Reason != reason && utf8Valid(reason) {
			t.Fatalf("reason %q, want %q", e.Reason, reason)
		}
		got, err := e.Record()
		if err != nil {
			t.Fatal(err)
		}
		// Byte for byte, except that valid JSON is compacted.
		want := data
		if isDocument(data) {
			var c bytes.Buffer
			if err := json.Compact(&c, data); err == nil {
				want = c.Bytes()
			}
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("Record() = %q, want %q", got, want)
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// stores are the two Store implementations, the S3 one on MinIO.
func stores(t *testing.T) map[string]func(t *testing.T) sink.Store {
	return map[string]func(t *testing.T) sink.Store{
		"dir": func(t *testing.T) sink.Store {
			st, err := sink.NewDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
		"s3": func(t *testing.T) sink.Store {
			m := testenv.StartMinIO(t)
			st, err := sink.NewS3(m.S3(t), m.NewBucket(t))
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
	}
}

// TestCrashKeepsAcknowledged: records are quarantined, the Writer is then
// dropped without Close (as a kill -9 would), and every record that was
// acknowledged has its entry in the store, exactly once; those not
// acknowledged were not settled at all (their source redelivers them).
func TestCrashKeepsAcknowledged(t *testing.T) {
	t.Parallel()
	modes := stores(t)
	modes["file"] = nil
	for name, mk := range modes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var store sink.Store
			var w *Writer
			var err error
			path := filepath.Join(t.TempDir(), "q", "quarantine.ndjson")
			opts := func(o *Options) { o.MaxEntries, o.MaxAge = 10, time.Hour }
			if mk != nil {
				store = mk(t)
				w, err = New(store, "quarantine/", opts)
			} else {
				w, err = OpenFile(path, opts)
			}
			if err != nil {
				t.Fatal(err)
			}
			a := newAcks()
			for i := range int64(25) {
				w.Quarantine(a.record(i, fmt.Sprintf(`{"n":%d}`, i)), fmt.Errorf("reason %d", i))
			}
			waitFor(t, 10*time.Second, "two batches acknowledged", func() bool { ok, _ := a.counts(); return ok == 20 })
			// Crash: w is never closed; its last 5 entries wait for MaxAge.
			got := entries(t, store, path)
			if ok, failed := a.counts(); ok != 20 || failed != 0 {
				t.Fatalf("%d acknowledged, %d nacked; want 20 and 0 (5 left unsettled)", ok, failed)
			}
			seen := map[int64]int{}
			for _, e := range got {
				seen[e.Origin.Index]++
				if want := fmt.Sprintf(`{"n":%d}`, e.Origin.Index); string(e.Data) != want || e.Reason != fmt.Sprintf("reason %d", e.Origin.Index) ||
					e.Origin.Bucket != "b" || e.Origin.Key != "k" || e.Origin.LogType != "t" || e.Origin.Offset != e.Origin.Index*10 {
					t.Fatalf("entry %+v", e)
				}
			}
			a.mu.Lock()
			defer a.mu.Unlock()
			for i, n := range a.ok {
				if n != 1 || seen[i] != 1 {
					t.Fatalf("record %d acknowledged %d times, stored %d times", i, n, seen[i])
				}
			}
			if len(got) != 20 {
				t.Fatalf("%d entries stored, want the 20 acknowledged", len(got))
			}
		})
	}
}

// TestPutAndFlush: Put returns only when its entry is durable (without
// waiting for MaxAge); Flush writes what Quarantine queued; Close writes
// the rest, after which both fail with ErrClosed.
func TestPutAndFlush(t *testing.T) {
	t.Parallel()
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store := mk(t)
			w, err := New(store, "", func(o *Options) { o.MaxAge = time.Hour })
			if err != nil {
				t.Fatal(err)
			}
			a := newAcks()
			w.Quarantine(a.record(0, "queued"), errors.New("r0"))
			if err := w.Put(lakerelay.Record{Data: []byte("put"), Origin: lakerelay.Origin{Index: 1}}, errors.New("r1")); err != nil {
				t.Fatal(err)
			}
			if n := len(entries(t, store, "")); n != 2 {
				t.Fatalf("%d entries after Put, want 2 (Put writes what is queued with it)", n)
			}
			w.Quarantine(a.record(2, "flushed"), errors.New("r2"))
			ctx := context.Background()
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if ok, _ := a.counts(); ok != 2 || len(entries(t, store, "")) != 3 {
				t.Fatalf("after Flush: %d acked, %d entries", ok, len(entries(t, store, "")))
			}
			w.Quarantine(a.record(3, "closed"), errors.New("r3"))
			if err := w.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(ctx); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if ok, _ := a.counts(); ok != 3 || len(entries(t, store, "")) != 4 {
				t.Fatalf("after Close: %d acked, %d entries", ok, len(entries(t, store, "")))
			}
			w.Quarantine(a.record(4, "late"), errors.New("r4"))
			if err := w.Put(lakerelay.Record{}, errors.New("late")); !errors.Is(err, lakerelay.ErrClosed) {
				t.Fatalf("Put after Close = %v, want ErrClosed", err)
			}
			a.mu.Lock()
			defer a.mu.Unlock()
			if len(a.errs[4]) != 1 || !errors.Is(a.errs[4][0], lakerelay.ErrClosed) {
				t.Fatalf("Quarantine after Close settled with %v, want ErrClosed", a.errs[4])
			}
			if st := w.Stats(); st.Entries != 4 || st.Failed != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// TestBatchLimits: entries are grouped into objects of at most MaxEntries
// entries and MaxBytes bytes, and an entry waits at most MaxAge.
func TestBatchLimits(t *testing.T) {
	t.Parallel()
	st, err := sink.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(st, "p", func(o *Options) { o.MaxEntries, o.MaxBytes, o.MaxAge = 4, 1000, 50*time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	a := newAcks()
	start := time.Now()
	for i := range int64(10) {
		w.Quarantine(a.record(i, strings.Repeat("x", 300)), errors.New("big"))
	}
	waitFor(t, 5*time.Second, "all acknowledged", func() bool { ok, _ := a.counts(); return ok == 10 })
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v, MaxAge is 50ms", d)
	}
	objects := 0
	_ = st.List(context.Background(), "p/", func(o sink.ObjectInfo) error {
		objects++
		if o.Size > 1000+500 {
			t.Errorf("object %s of %d bytes: MaxBytes is 1000 (plus at most one entry)", o.Key, o.Size)
		}
		return nil
	})
	if objects < 4 {
		t.Fatalf("%d objects for 10 entries of ~450 bytes with MaxBytes 1000", objects)
	}
	// The Writer keeps its batch buffer (acknowledging came after it was
	// set), unless one entry larger than MaxBytes grew it.
	if w.lines == nil || cap(w.lines) > 2000 {
		t.Fatalf("kept buffer of %d bytes, want one of a batch", cap(w.lines))
	}
	w.Quarantine(a.record(10, strings.Repeat("x", 5000)), errors.New("bigger than MaxBytes"))
	waitFor(t, 5*time.Second, "the large entry acknowledged", func() bool { ok, _ := a.counts(); return ok == 11 })
	if w.lines != nil {
		t.Fatalf("kept a buffer of %d bytes after an entry over MaxBytes (1000)", cap(w.lines))
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// s3Writer is a Writer to prefix q of bucket through c, with few retries.
func s3Writer(t *testing.T, c *s3.Client, bucket string) *Writer {
	st, err := sink.NewS3(c, bucket, fastRetries)
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(st, "q", func(o *Options) { o.MaxAge = 10 * time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestStoreFailures: when the store cannot take the entries (S3 down,
// access denied, disk full), the records are negatively acknowledged with an
// *Error naming the location and the cause; nothing is reported
// quarantined.
func TestStoreFailures(t *testing.T) {
	t.Parallel()
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	const readOnly = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::*"]}]}`
	for _, tc := range []struct {
		name      string
		open      func(t *testing.T) *Writer
		permanent bool
		where     string
	}{
		{"s3 down", func(t *testing.T) *Writer {
			return s3Writer(t, clientAt(m.Config(t), testenv.ClosedEndpoint(t)), bucket)
		}, false, "s3://" + bucket + "/q/"},
		{"access denied", func(t *testing.T) *Writer {
			return s3Writer(t, clientAt(m.RestrictedConfig(t, readOnly), m.Endpoint), bucket)
		}, true, "s3://" + bucket + "/q/"},
		{"disk full", func(t *testing.T) *Writer {
			w, err := OpenFile("/dev/full", func(o *Options) { o.MaxAge = 10 * time.Millisecond })
			if err != nil {
				t.Fatal(err)
			}
			return w
		}, false, "/dev/full"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := tc.open(t)
			a := newAcks()
			for i := range int64(3) {
				w.Quarantine(a.record(i, `{"x":1}`), errors.New("invalid"))
			}
			waitFor(t, 30*time.Second, "all settled", func() bool { ok, failed := a.counts(); return ok+failed == 3 })
			a.mu.Lock()
			for i := range int64(3) {
				errs := a.errs[i]
				var qe *Error
				if a.ok[i] != 0 || len(errs) != 1 || !errors.As(errs[0], &qe) || !strings.HasPrefix(qe.Location, tc.where) ||
					lakerelay.IsPermanent(errs[0]) != tc.permanent {
					t.Fatalf("record %d: acked %d, errors %v; want one *Error at %s (permanent %v)", i, a.ok[i], errs, tc.where, tc.permanent)
				}
			}
			a.mu.Unlock()
			if err := w.Put(lakerelay.Record{Data: []byte("x")}, errors.New("r")); err == nil {
				t.Fatal("Put succeeded on a failing store")
			}
			if st := w.Stats(); st.Entries != 0 || st.Failed != 4 {
				t.Fatalf("stats %+v", st)
			}
			_ = w.Close(context.Background())
		})
	}
}

// TestCloseGivesUp: Close on a store that hangs returns when its ctx ends and
// negatively acknowledges what was not written.
func TestCloseGivesUp(t *testing.T) {
	t.Parallel()
	m := testenv.StartMinIO(t)
	p := testenv.NewFaultProxy(t, m.Endpoint)
	p.FailNext(1000, 503, "SlowDown")
	st, err := sink.NewS3(clientAt(m.Config(t), p.URL()), m.NewBucket(t), func(o *sink.S3Options) { o.MaxAttempts, o.MaxBackoff = 1000, 100*time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(st, "", func(o *Options) { o.MaxAge = time.Hour })
	if err != nil {
		t.Fatal(err)
	}
	a := newAcks()
	w.Quarantine(a.record(0, "x"), errors.New("r"))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := w.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want DeadlineExceeded", err)
	}
	if ok, failed := a.counts(); ok != 0 || failed != 1 {
		t.Fatalf("%d acked, %d nacked; want the record nacked", ok, failed)
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		location, want string
	}{
		{"s3://" + bucket + "/quarantine/x", "s3://" + bucket + "/quarantine/x"},
		{"s3://" + bucket, "s3://" + bucket},
		{dir, dir},
		{filepath.Join(dir, "new") + "/", filepath.Join(dir, "new")},
		{filepath.Join(dir, "q.ndjson"), filepath.Join(dir, "q.ndjson")},
	} {
		w, err := Open(tc.location, m.S3(t))
		if err != nil {
			t.Fatalf("Open(%q): %v", tc.location, err)
		}
		if err := w.Put(lakerelay.Record{Data: []byte(`{"a":1}`)}, errors.New("r")); err != nil {
			t.Fatalf("Open(%q): Put: %v", tc.location, err)
		}
		if got := strings.TrimSuffix(w.Location(), "/"); got != strings.TrimSuffix(tc.want, "/") {
			t.Errorf("Open(%q).Location() = %q, want %q", tc.location, got, tc.want)
		}
		if err := w.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(entries(t, nil, filepath.Join(dir, "q.ndjson"))); n != 1 {
		t.Fatalf("%d entries in the file", n)
	}
	for _, bad := range []string{"", "s3://", "s3:///x", "http://example.com/x", "s3://" + bucket + "/a/../b", "s3://" + bucket + "/a//b", "s3://" + bucket + "/a\x00b"} {
		if _, err := Open(bad, m.S3(t)); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
	if _, err := Open("s3://b/p", nil); err == nil || !strings.Contains(err.Error(), "S3 client") {
		t.Errorf("Open without a client = %v", err)
	}
	if _, err := New(nil, ""); err == nil {
		t.Error("New(nil) succeeded")
	}
	if _, err := OpenFile(filepath.Join(dir, "x"), func(o *Options) { o.MaxEntries = -1 }); err == nil || !strings.Contains(err.Error(), "MaxEntries") {
		t.Errorf("invalid options: %v", err)
	}
}

// isDocument reports whether the entry of a record of data keeps data as a
// JSON document.
func isDocument(data []byte) bool {
	return isDocumentStart(data) && jsonscan.Valid(data, jsonscan.DefaultMaxDepth)
}

// TestEntryOneAllocation: an entry is built in the one buffer it starts
// with, the longest origin numbers and a reason of a few hundred bytes
// included, unless its data needs escaping or base64.
func TestEntryOneAllocation(t *testing.T) {
	st, err := sink.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(st, "", func(o *Options) { o.MaxAge = time.Hour })
	if err != nil {
		t.Fatal(err)
	}
	reason := errors.New(strings.Repeat("why ", 80))
	for name, r := range map[string]lakerelay.Record{
		"json":  {Data: []byte(`{"a":[1,2,3],"b":"c"}`), JSON: true},
		"text":  {Data: []byte("a line of text")},
		"large": {Data: []byte(`{"k":"` + strings.Repeat("v", 5000) + `"}`), JSON: true},
		"origin": {Data: []byte(`{}`), JSON: true, Origin: lakerelay.Origin{Bucket: "b", Key: "k/e/y.json.gz",
			VersionID: "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", Index: math.MinInt64, Offset: math.MinInt64, LogType: "t"}},
	} {
		var line []byte
		allocs := testing.AllocsPerRun(20, func() { line = w.pending(r, reason, nil).line })
		if allocs != 1 {
			t.Errorf("%s: %v allocations for an entry, want 1", name, allocs)
		}
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil || e.Reason != reason.Error() || e.Origin.Key != r.Origin.Key || e.Origin.Index != r.Origin.Index {
			t.Errorf("%s: entry %s: %v", name, line, err)
		}
	}
}

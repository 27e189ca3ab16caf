package sink

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/testenv"
	"github.com/lakerelay/lakerelay/partition"
)

// objectLines reads every object under prefix, decompresses it according to
// its name and returns key -> lines.
func objectLines(t *testing.T, s Store, prefix string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	out := map[string][]string{}
	var keys []string
	if err := s.List(ctx, prefix, func(o ObjectInfo) error { keys = append(keys, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		rc, err := s.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = rc
		switch {
		case strings.HasSuffix(k, ".json.gz"):
			zr, err := gzip.NewReader(rc)
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			r = zr
		case strings.HasSuffix(k, ".json.zst"):
			zr, err := zstd.NewReader(rc)
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			defer zr.Close()
			r = zr
		}
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 16<<20)
		lines := []string{}
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		rc.Close()
		out[k] = lines
	}
	return out
}

func records(lines ...string) []lakerelay.Record {
	rs := make([]lakerelay.Record, len(lines))
	for i, l := range lines {
		rs[i] = lakerelay.Record{Data: []byte(l)}
	}
	return rs
}

// stores returns a dir store and an S3 store on MinIO, for tests that run
// against both.
func stores(t *testing.T) map[string]Store {
	dir, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := testenv.StartMinIO(t)
	s3s, err := NewS3(m.S3(t), m.NewBucket(t))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]Store{"dir": dir, "s3": s3s}
}

var objectName = `\d{8}T\d{6}Z-[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`

func TestJSONLLayouts(t *testing.T) {
	ctx := context.Background()
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("connector", func(t *testing.T) {
				layout, err := partition.ConnectorTemplate().Bind(map[string]string{
					"prefix": "exports/prod", "connector_type": "s3", "connector_id": "conn-1",
					"flow_run_id": "run-42", "stream_name": "users",
				})
				if err != nil {
					t.Fatal(err)
				}
				s, err := NewJSONL(store, func(o *JSONLOptions) { o.Layout = layout })
				if err != nil {
					t.Fatal(err)
				}
				in := []string{`{"id":1,"name":"a"}`, `{"id":2,"name":"b","nested":{"x":[1,2]}}`, `[1,2,3]`, `"str"`, `42`}
				rs := records(in...)
				p, err := s.Partition(rs[0])
				if err != nil || p != "exports/prod/s3/conn-1/run-42/users/" {
					t.Fatalf("Partition = %q, %v", p, err)
				}
				if err := s.WriteBatch(ctx, p, rs); err != nil {
					t.Fatal(err)
				}
				objs := objectLines(t, store, "exports/")
				if len(objs) != 1 {
					t.Fatalf("objects: %v", objs)
				}
				for k, lines := range objs {
					if !regexp.MustCompile(`^exports/prod/s3/conn-1/run-42/users/` + objectName + `\.json\.gz$`).MatchString(k) {
						t.Errorf("key %q does not follow the connector layout", k)
					}
					if !slices.Equal(lines, in) {
						t.Errorf("content %q, want %q", lines, in)
					}
				}
				st := s.Stats()
				if st.Objects != 1 || st.Records != int64(len(in)) || st.Bytes == 0 || st.RawBytes != int64(len(strings.Join(in, "\n"))+1) {
					t.Errorf("Stats = %+v", st)
				}
			})
			t.Run("vendor", func(t *testing.T) {
				layout, err := partition.VendorTemplate().Bind(map[string]string{"vendor": "Acme", "event_type": "findings", "account": "123456789012"})
				if err != nil {
					t.Fatal(err)
				}
				now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
				s, err := NewJSONL(store, func(o *JSONLOptions) {
					o.Layout = layout
					o.Now = func() time.Time { return now }
				})
				if err != nil {
					t.Fatal(err)
				}
				in := []string{
					`{"time":1764547200000,"id":1}`,               // 2025-12-01 00:00 UTC, epoch ms
					`{"id":2,"time":"2025-11-30T23:59:59-01:00"}`, // 2025-12-01 00:59:59 UTC
					`{"time":"2024-02-29T12:00:00Z","id":3}`,
					`{"id":4}`,                    // no time: now
					`not json at all`,             // not JSON: now
					`{"time":"yesterday","id":6}`, // unparseable: now
				}
				byPart := map[string][]lakerelay.Record{}
				for _, r := range records(in...) {
					p, err := s.Partition(r)
					if err != nil {
						t.Fatal(err)
					}
					byPart[p] = append(byPart[p], r)
				}
				for p, rs := range byPart {
					if err := s.WriteBatch(ctx, p, rs); err != nil {
						t.Fatal(err)
					}
				}
				got := map[string][]string{}
				for k, lines := range objectLines(t, store, "Acme/") {
					m := regexp.MustCompile(`^(Acme/findings/\d{4}-\d{2}-\d{2}/123456789012/)` + objectName + `\.json\.gz$`).FindStringSubmatch(k)
					if m == nil {
						t.Fatalf("key %q does not follow the vendor layout", k)
					}
					got[m[1]] = lines
				}
				want := map[string][]string{
					"Acme/findings/2025-12-01/123456789012/": {in[0], in[1]},
					"Acme/findings/2024-02-29/123456789012/": {in[2]},
					"Acme/findings/2026-12-01/123456789012/": {in[3], `"not json at all"`, in[5]},
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("objects\n got %q\nwant %q", got, want)
				}
			})
		})
	}
}

func TestJSONLEncoding(t *testing.T) {
	ctx := context.Background()
	in := []string{
		"{\n  \"pretty\": true,\n  \"list\": [1, 2]\n}", // multi-line JSON: compacted
		"  {\"padded\":1}\r",                            // surrounding whitespace trimmed
		"plain <text> & \"quotes\"",                     // not JSON: a JSON string
		"bad utf8 \xff here",
		"",
		"line one\nline two",
		"  spaced text\t",
	}
	want := []string{
		`{"pretty":true,"list":[1,2]}`,
		`{"padded":1}`,
		`"plain <text> & \"quotes\""`,
		`"bad utf8 \ufffd here"`,
		`""`,
		`"line one\nline two"`,
		`"  spaced text\t"`,
	}
	for _, c := range []Compression{Gzip, Zstd, None} {
		t.Run(string(c), func(t *testing.T) {
			store, err := NewDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			s, err := NewJSONL(store, func(o *JSONLOptions) { o.Compression = c; o.Prefix = "p/" })
			if err != nil {
				t.Fatal(err)
			}
			if err := s.WriteBatch(ctx, "p/", records(in...)); err != nil {
				t.Fatal(err)
			}
			objs := objectLines(t, store, "")
			if len(objs) != 1 {
				t.Fatalf("objects %v", objs)
			}
			for k, lines := range objs {
				if !strings.HasSuffix(k, c.Extension()) {
					t.Errorf("key %q lacks %s", k, c.Extension())
				}
				if !slices.Equal(lines, want) {
					t.Errorf("lines\n got %q\nwant %q", lines, want)
				}
				for _, l := range lines {
					if !json.Valid([]byte(l)) {
						t.Errorf("line %q is not JSON", l)
					}
				}
			}
		})
	}
}

// A record whose source checked that it is compact JSON (Record.JSON) is
// written as it is, byte for byte, without a second validation; the same
// bytes without the flag are checked, and kept as they are because they are
// valid and compact.
func TestJSONLTrustsCheckedJSON(t *testing.T) {
	ctx := context.Background()
	in := []string{`{"a":[1,{"b":"\u00e9"}]}`, `"s"`, `12`}
	for _, checked := range []bool{true, false} {
		store, err := NewDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewJSONL(store, func(o *JSONLOptions) { o.Compression = None; o.Prefix = "p/" })
		if err != nil {
			t.Fatal(err)
		}
		recs := records(in...)
		for i := range recs {
			recs[i].JSON = checked
		}
		if err := s.WriteBatch(ctx, "p/", recs); err != nil {
			t.Fatal(err)
		}
		for _, lines := range objectLines(t, store, "") {
			if !slices.Equal(lines, in) {
				t.Errorf("JSON %v: lines\n got %q\nwant %q", checked, lines, in)
			}
		}
	}
}

func TestJSONLOptionsValidate(t *testing.T) {
	store, _ := NewDir(t.TempDir())
	unbound, _ := partition.Compile("{tenant}/{yyyy}/")
	tests := []struct {
		name string
		opt  func(*JSONLOptions)
	}{
		{"compression", func(o *JSONLOptions) { o.Compression = "lz4" }},
		{"gzip level", func(o *JSONLOptions) { o.Compression = Gzip; o.Level = 10 }},
		{"zstd level", func(o *JSONLOptions) { o.Compression = Zstd; o.Level = 7 }},
		{"unbound fields", func(o *JSONLOptions) { o.Layout = unbound }},
		{"prefix without slash", func(o *JSONLOptions) { o.Prefix = "a" }},
		{"bad prefix", func(o *JSONLOptions) { o.Prefix = "../a/" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewJSONL(store, tt.opt); err == nil {
				t.Fatal("NewJSONL accepted invalid options")
			}
		})
	}
	if _, err := NewJSONL(nil); err == nil {
		t.Fatal("NewJSONL accepted a nil store")
	}
	s, _ := NewJSONL(store)
	err := s.WriteBatch(context.Background(), "../x/", records(`{}`))
	if !errors.Is(err, partition.ErrInvalidKey) || !lakerelay.IsPermanent(err) {
		t.Fatalf("WriteBatch with a bad partition: %v", err)
	}
	if err := s.WriteBatch(context.Background(), "x/", nil); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
	if objs := objectLines(t, store, ""); len(objs) != 0 {
		t.Fatalf("stored %v", objs)
	}
}

// TestJSONLConcurrentWriters runs many writers, each with its own sink and
// store client, into one prefix of one bucket: no two objects collide and
// every record is stored exactly once.
func TestJSONLConcurrentWriters(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	const writers, batches, perBatch = 16, 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			store, err := NewS3(m.S3(t), bucket)
			if err != nil {
				errs <- err
				return
			}
			s, err := NewJSONL(store, func(o *JSONLOptions) { o.Prefix = "shared/" })
			if err != nil {
				errs <- err
				return
			}
			for b := range batches {
				rs := make([]lakerelay.Record, perBatch)
				for i := range rs {
					rs[i].Data = fmt.Appendf(nil, `{"w":%d,"b":%d,"i":%d}`, w, b, i)
				}
				if err := s.WriteBatch(context.Background(), "shared/", rs); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	store, _ := NewS3(m.S3(t), bucket)
	objs := objectLines(t, store, "shared/")
	if len(objs) != writers*batches {
		t.Fatalf("%d objects, want %d (names collided?)", len(objs), writers*batches)
	}
	seen := map[string]bool{}
	for _, lines := range objs {
		if len(lines) != perBatch {
			t.Fatalf("object with %d lines, want %d", len(lines), perBatch)
		}
		for _, l := range lines {
			if seen[l] {
				t.Fatalf("record %s stored twice", l)
			}
			seen[l] = true
		}
	}
	if len(seen) != writers*batches*perBatch {
		t.Fatalf("%d distinct records, want %d", len(seen), writers*batches*perBatch)
	}
}

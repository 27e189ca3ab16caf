package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/partition"
)

// vendorByType is the vendor layout with its event type taken from each
// record's "type" field.
func vendorByType(t testing.TB, store Store) *JSONL {
	t.Helper()
	layout, err := partition.VendorTemplate().Bind(map[string]string{"vendor": "Acme", "account": "123456789012"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewJSONL(store, func(o *JSONLOptions) {
		o.Layout = layout
		o.RecordFields = map[string]string{"event_type": "type"}
		o.Now = func() time.Time { return time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC) }
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestJSONLRecordFieldsVendor sends records of three event types, and some
// whose type cannot be a key segment, through a batcher into one sink: each
// type lands under its own vendor-layout prefix (read back), and every
// rejected record is quarantined (stored, read back) with an error that
// names the field, never under another key.
func TestJSONLRecordFieldsVendor(t *testing.T) {
	ctx := context.Background()
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			s := vendorByType(t, store)
			quarantine, err := NewJSONL(store, func(o *JSONLOptions) { o.Prefix = "quarantine/" })
			if err != nil {
				t.Fatal(err)
			}
			b, err := batch.New(s, func(o *batch.Options) { o.MaxRecords = 3 })
			if err != nil {
				t.Fatal(err)
			}
			good := []string{
				`{"type":"finding","id":1,"time":"2026-12-01T10:00:00Z"}`,
				`{"id":2,"type":"audit","time":1796119200000}`,
				`{"type":"finding","id":3,"time":"2026-12-01T23:59:59Z"}`,
				`{"type":"login","id":4,"time":"2026-12-02T00:00:00Z"}`,
				`{"type":"audit","id":5,"time":"2026-12-01T12:00:00Z"}`,
				`{"type":"finding","id":6,"time":"2026-12-01T01:00:00Z","nested":{"type":"x"}}`,
				`{"type":"fi\u006eding","id":7,"time":"2026-12-01T02:00:00Z"}`,
			}
			bad := []string{
				`{"id":8}`,
				`{"type":"..","id":9}`,
				`{"type":"a/b","id":10}`,
				`{"type":"","id":11}`,
				`{"type":"x\u0001y","id":12}`,
				`{"type":null,"id":13}`,
				`["type","finding"]`,
				`not json`,
			}
			var mu sync.Mutex
			settled := map[int]error{}
			var quarantined []string
			var reasons []error
			for i, line := range append(slices.Clone(good), bad...) {
				r := lakerelay.Record{Data: []byte(line), Origin: lakerelay.Origin{Key: "in.ndjson", Index: int64(i)}}
				r.Ack = func(err error) { mu.Lock(); settled[i] = err; mu.Unlock() }
				p, err := s.Partition(r)
				if err != nil {
					if qerr := quarantine.WriteBatch(ctx, "quarantine/", []lakerelay.Record{r}); qerr != nil {
						r.Settle(qerr)
						continue
					}
					quarantined = append(quarantined, line)
					reasons = append(reasons, err)
					r.Settle(nil)
					continue
				}
				if err := b.Add(ctx, p, r); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.Close(ctx); err != nil {
				t.Fatal(err)
			}
			for i := range len(good) + len(bad) {
				if err, ok := settled[i]; !ok || err != nil {
					t.Errorf("record %d settled %v (%v)", i, err, ok)
				}
			}
			got := map[string][]string{}
			for k, lines := range objectLines(t, store, "Acme/") {
				m := regexp.MustCompile(`^(Acme/[a-z]+/\d{4}-\d{2}-\d{2}/123456789012/)` + objectName + `\.json\.gz$`).FindStringSubmatch(k)
				if m == nil {
					t.Fatalf("key %q does not follow the vendor layout", k)
				}
				got[m[1]] = append(got[m[1]], lines...)
			}
			for _, lines := range got {
				slices.Sort(lines)
			}
			want := map[string][]string{
				"Acme/finding/2026-12-01/123456789012/": {good[0], good[2], good[5], good[6]},
				"Acme/audit/2026-12-01/123456789012/":   {good[1], good[4]},
				"Acme/login/2026-12-02/123456789012/":   {good[3]},
			}
			for _, lines := range want {
				slices.Sort(lines)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("objects\n got %q\nwant %q", got, want)
			}
			if len(quarantined) != len(bad) {
				t.Fatalf("quarantined %q, want %q", quarantined, bad)
			}
			var stored []string
			for _, lines := range objectLines(t, store, "quarantine/") {
				stored = append(stored, lines...)
			}
			if len(stored) != len(bad) {
				t.Fatalf("quarantine holds %q, want the %d rejected records", stored, len(bad))
			}
			for i, err := range reasons {
				if !errors.Is(err, lakerelay.ErrInvalidRecord) || !errors.Is(err, partition.ErrInvalidKey) {
					t.Errorf("%s: error %v does not wrap ErrInvalidRecord and ErrInvalidKey", bad[i], err)
				}
				if !strings.Contains(err.Error(), `record field "type"`) || !strings.Contains(err.Error(), "in.ndjson#") {
					t.Errorf("%s: error %q does not name the record and the field", bad[i], err)
				}
			}
		})
	}
}

func TestJSONLRecordFieldErrors(t *testing.T) {
	store, _ := NewDir(t.TempDir())
	s := vendorByType(t, store)
	for _, tt := range []struct {
		data, reason string
	}{
		{`{"id":1}`, "missing"},
		{`{"type":"..","secret":1}`, `segment is "." or ".."`},
		{`{"type":"."}`, `segment is "." or ".."`},
		{`{"type":"a/b"}`, `contains "/"`},
		{`{"type":""}`, "empty segment"},
		{`{"type":"tab\there"}`, "control character U+0009"},
		{`{"type":true}`, "not a string or a number"},
		{`{"type":{"a":1}}`, "not a string or a number"},
		{`{"type":["a"]}`, "not a string or a number"},
		{`{"type":"` + strings.Repeat("x", 1100) + `"}`, "longer than 1024"},
		{`[1]`, "not a JSON object"},
		{`{"type":"x"`, "not a JSON object"},
	} {
		_, err := s.Partition(lakerelay.Record{Data: []byte(tt.data), Origin: lakerelay.Origin{Bucket: "b", Key: "k", Index: 3}})
		if !errors.Is(err, lakerelay.ErrInvalidRecord) || !errors.Is(err, partition.ErrInvalidKey) {
			t.Errorf("%s: Partition error %v", tt.data, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, `s3://b/k#3: record field "type" (for layout field {event_type})`) || !strings.Contains(msg, tt.reason) {
			t.Errorf("%s: error %q does not say %q about the field", tt.data, msg, tt.reason)
		}
		if strings.Contains(msg, "secret") || strings.Contains(msg, "tab") || strings.Contains(msg, "xxxx") {
			t.Errorf("%s: error %q shows record contents", tt.data, msg)
		}
	}
	// Numbers are used as written; a key too long as a whole is rejected.
	p, err := s.Partition(lakerelay.Record{Data: []byte(`{"type":4625,"time":"2026-12-01T00:00:00Z"}`)})
	if err != nil || p != "Acme/4625/2026-12-01/123456789012/" {
		t.Fatalf("numeric field: %q, %v", p, err)
	}
	long, _ := partition.Compile(strings.Repeat("x", 1000) + "/{a}/{b}/")
	ls, err := NewJSONL(store, func(o *JSONLOptions) { o.Layout = long; o.RecordFields = map[string]string{"a": "a", "b": "b"} })
	if err != nil {
		t.Fatal(err)
	}
	_, err = ls.Partition(lakerelay.Record{Data: []byte(`{"a":"` + strings.Repeat("y", 20) + `","b":"` + strings.Repeat("z", 20) + `"}`)})
	if !errors.Is(err, partition.ErrInvalidKey) || !strings.Contains(err.Error(), "record fields a, b") || strings.Contains(err.Error(), "yyyy") {
		t.Fatalf("too long a key: %v", err)
	}
}

// TestJSONLRecordFieldsConnector takes the connector layout's stream from
// each record's "stream" field.
func TestJSONLRecordFieldsConnector(t *testing.T) {
	store, _ := NewDir(t.TempDir())
	layout, err := partition.ConnectorTemplate().Bind(map[string]string{"prefix": "syncs", "connector_type": "s3", "connector_id": "c1", "flow_run_id": "r1"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewJSONL(store, func(o *JSONLOptions) {
		o.Layout = layout
		o.RecordFields = map[string]string{"stream_name": "stream"}
	})
	if err != nil {
		t.Fatal(err)
	}
	for data, want := range map[string]string{
		`{"stream":"users","id":1}`:  "syncs/s3/c1/r1/users/",
		`{"id":2,"stream":"orders"}`: "syncs/s3/c1/r1/orders/",
	} {
		if p, err := s.Partition(lakerelay.Record{Data: []byte(data)}); err != nil || p != want {
			t.Errorf("%s: Partition = %q, %v; want %q", data, p, err, want)
		}
	}
}

func TestJSONLRecordFieldsValidate(t *testing.T) {
	store, _ := NewDir(t.TempDir())
	vendor, _ := partition.VendorTemplate().Bind(map[string]string{"vendor": "Acme"})
	for name, opt := range map[string]func(*JSONLOptions){
		"field left unbound": func(o *JSONLOptions) { o.Layout = vendor; o.RecordFields = map[string]string{"event_type": "type"} },
		"no such layout field": func(o *JSONLOptions) {
			o.Layout = vendor
			o.RecordFields = map[string]string{"event_type": "type", "account": "acct", "stream": "s"}
		},
		"bound field": func(o *JSONLOptions) {
			o.Layout = vendor
			o.RecordFields = map[string]string{"event_type": "type", "account": "acct", "vendor": "v"}
		},
		"empty record field": func(o *JSONLOptions) {
			o.Layout = vendor
			o.RecordFields = map[string]string{"event_type": "", "account": "acct"}
		},
		"no layout": func(o *JSONLOptions) { o.RecordFields = map[string]string{"event_type": "type"} },
	} {
		if _, err := NewJSONL(store, opt); err == nil {
			t.Errorf("%s: NewJSONL accepted the options", name)
		}
	}
	if _, err := NewJSONL(store, func(o *JSONLOptions) {
		o.Layout = vendor
		o.RecordFields = map[string]string{"event_type": "type", "account": "account"}
	}); err != nil {
		t.Fatal(err)
	}
}

// FuzzJSONLRecordFields checks Partition with record fields against a
// second implementation (encoding/json): either the record is rejected
// with ErrInvalidRecord and ErrInvalidKey, or its key is the vendor layout
// filled with the field's decoded value, and safe.
func FuzzJSONLRecordFields(f *testing.F) {
	for _, s := range []string{
		`{"type":"finding"}`, `{"type":"a","type":"b"}`, `{"type":12.5e3}`, `{"type":"\u002e\u002e"}`,
		`{"type":"x/y"}`, `{"t\u0079pe":"esc"}`, `{"type":null}`, `[]`, `{"type":"\ud83d\ude00"}`, `{"a":{"type":"in"}}`,
		`{"type":"é","time":"2026-01-02T03:04:05Z"}`, `{"type":-0}`,
	} {
		f.Add([]byte(s))
	}
	store, _ := NewDir(f.TempDir())
	s := vendorByType(f, store)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := s.Partition(lakerelay.Record{Data: data})
		want, reason := referenceType(data)
		if err != nil {
			if !errors.Is(err, lakerelay.ErrInvalidRecord) || !errors.Is(err, partition.ErrInvalidKey) {
				t.Fatalf("error %v does not wrap ErrInvalidRecord and ErrInvalidKey", err)
			}
			if reason == "" && partition.ValidateSegment("type", want) == nil {
				t.Fatalf("rejected %q (type %q): %v", data, want, err)
			}
			return
		}
		if reason != "" {
			t.Fatalf("accepted %q, reference: %s", data, reason)
		}
		if err := partition.ValidateKey(p); err != nil {
			t.Fatalf("unsafe key %q: %v", p, err)
		}
		if parts := strings.Split(p, "/"); len(parts) != 5 || parts[0] != "Acme" || parts[1] != want || parts[3] != "123456789012" {
			t.Fatalf("key %q for %q, want event type %q", p, data, want)
		}
	})
}

// referenceType decodes the top-level "type" field with encoding/json; the
// reason says why the record has no usable one.
func referenceType(data []byte) (string, string) {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return "", "not a JSON object"
	}
	raw, ok := m["type"]
	if !ok {
		return "", "missing"
	}
	if !utf8.Valid(raw) {
		// encoding/json replaces invalid UTF-8; a key never holds it.
		return "", "invalid UTF-8"
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return "", "undecodable"
	}
	switch v := v.(type) {
	case string:
		return v, ""
	case json.Number:
		return string(v), ""
	}
	return "", "not a string or a number"
}

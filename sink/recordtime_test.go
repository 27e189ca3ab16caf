package sink

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/partition"
)

func TestRecordTime(t *testing.T) {
	tests := []struct {
		data string
		want time.Time
		ok   bool
	}{
		{`{"time":1764547200000}`, time.UnixMilli(1764547200000), true},
		{`{"time":1764547200123.9}`, time.UnixMilli(1764547200123), true},
		{`{"time":"2026-12-01T10:00:00Z"}`, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), true},
		{`{"time":"2026-12-01T10:00:00.5+02:00"}`, time.Date(2026, 12, 1, 8, 0, 0, 5e8, time.UTC), true},
		{`{"other":1,"time":-1000}`, time.UnixMilli(-1000), true},
		{`{"nested":{"time":1}}`, time.Time{}, false},
		{`{"time":"yesterday"}`, time.Time{}, false},
		{`{"time":null}`, time.Time{}, false},
		{`{"time":true}`, time.Time{}, false},
		{`{"time":1e300}`, time.Time{}, false},
		{`[1,2]`, time.Time{}, false},
		{`not json`, time.Time{}, false},
		{``, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.data, func(t *testing.T) {
			got, ok := RecordTime([]byte(tt.data), "time")
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Fatalf("RecordTime = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// FuzzPartition feeds arbitrary records to a vendor-layout sink: Partition
// never fails and always yields a valid key prefix, whatever the time field
// holds; RecordTime reports ok exactly when it found a time.
func FuzzPartition(f *testing.F) {
	for _, s := range []string{`{"time":1764547200000}`, `{"time":"2026-12-01T10:00:00Z"}`, `{"time":-62135596800001}`, `{"time":9e14}`, `{"time":`, `x`} {
		f.Add([]byte(s))
	}
	layout, err := partition.VendorTemplate().Bind(map[string]string{"vendor": "V", "event_type": "e", "account": "a"})
	if err != nil {
		f.Fatal(err)
	}
	s, err := NewJSONL(discardStore{}, func(o *JSONLOptions) { o.Layout = layout })
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := RecordTime(data, "time")
		if !ok && !got.IsZero() {
			t.Fatalf("not ok but time %v", got)
		}
		p, err := s.Partition(lakerelay.Record{Data: data})
		if err != nil {
			t.Fatalf("Partition(%q): %v", data, err)
		}
		if err := partition.ValidateKey(p); err != nil || !strings.HasPrefix(p, "V/e/") || !strings.HasSuffix(p, "/a/") {
			t.Fatalf("Partition(%q) = %q (%v)", data, p, err)
		}
	})
}

// recordTimeReference is RecordTime written the obvious way, with
// encoding/json, for FuzzRecordTime to compare against.
func recordTimeReference(data []byte, field string) (time.Time, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return time.Time{}, false
	}
	v, found := m[field]
	if !found || len(v) == 0 {
		return time.Time{}, false
	}
	if v[0] == '"' {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return time.Time{}, false
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		return t, err == nil
	}
	if ms, err := strconv.ParseInt(string(v), 10, 64); err == nil {
		return time.UnixMilli(ms), true
	}
	if f, err := strconv.ParseFloat(string(v), 64); err == nil && f > -1e15 && f < 1e15 {
		return time.UnixMilli(int64(f)), true
	}
	return time.Time{}, false
}

func FuzzRecordTime(f *testing.F) {
	for _, s := range []string{
		`{"time":1764547200000}`, `{"time":"2026-12-01T10:00:00Z"}`, `{"a":{"time":1},"time":2}`, `{"time":1,"time":2}`,
		`{"ti\u006de":3}`, `{"a":"}\"{","time":"2026-12-01T10:00:00\u005a"}`, `{"a":[1,{"b":[]}],"time":-5}`, `null`, `{}`, ` {"time" : 7 } `,
		`{"time":true}`, `{"t\xffime":1}`, `[{"time":1}]`, `{"time":1e20}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := RecordTime(data, "time")
		want, wantOK := recordTimeReference(data, "time")
		if ok != wantOK || !got.Equal(want) {
			t.Fatalf("RecordTime(%q) = %v, %v; encoding/json gives %v, %v", data, got, ok, want, wantOK)
		}
	})
}

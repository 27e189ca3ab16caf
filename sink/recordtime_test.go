package sink

import (
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

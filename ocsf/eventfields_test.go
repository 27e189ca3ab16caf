package ocsf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestEventTime(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		want time.Time
		err  string
	}{
		{`1764547200000`, time.UnixMilli(1764547200000), ""},
		{`-1000`, time.UnixMilli(-1000), ""},
		{`1764547200123.9`, time.UnixMilli(1764547200123), ""},
		{`1.7645472e12`, time.UnixMilli(1764547200000), ""},
		{`9223372036854775807`, time.UnixMilli(9223372036854775807), ""},
		{`"2026-12-01T10:00:00Z"`, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), ""},
		{`"2026-12-01T10:00:00.5+02:00"`, time.Date(2026, 12, 1, 8, 0, 0, 5e8, time.UTC), ""},
		{`"2026-12-01T10:00:00\u005a"`, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), ""},
		{`"yesterday"`, time.Time{}, "got a string of 9 bytes that is neither"},
		{`1e300`, time.Time{}, "epoch milliseconds 1e300 out of range"},
		{`99999999999999999999`, time.Time{}, "out of range"},
		{`null`, time.Time{}, "got null"},
		{`true`, time.Time{}, "got a boolean"},
		{`{}`, time.Time{}, "got an object"},
		{``, time.Time{}, "got nothing"},
	} {
		got, err := EventTime([]byte(tt.raw))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("EventTime(%s) = %v, %v; want an error with %q", tt.raw, got, err, tt.err)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("EventTime(%s) = %v, %v; want %v", tt.raw, got, err, tt.want)
		}
	}
}

func TestEventClassUID(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		want int32
		err  string
	}{
		{`6003`, 6003, ""},
		{`3002.0`, 3002, ""},
		{`2e3`, 2000, ""},
		{`-2147483648`, -2147483648, ""},
		{`2147483648`, 0, "is not an integer in [-2147483648, 2147483647]"},
		{`1.5`, 0, "is not an integer in [-2147483648, 2147483647]"},
		{`"6003"`, 0, "expected an integer, got a string"},
		{`null`, 0, "got null"},
	} {
		got, err := EventClassUID([]byte(tt.raw))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("EventClassUID(%s) = %v, %v; want an error with %q", tt.raw, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("EventClassUID(%s) = %v, %v; want %v", tt.raw, got, err, tt.want)
		}
	}
}

// eventTimeReference is EventTime written the obvious way, with
// encoding/json and strconv.
func eventTimeReference(raw []byte) (time.Time, bool) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return time.Time{}, false
	}
	switch v := v.(type) {
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		return t, err == nil
	case float64:
		if ms, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64); err == nil {
			return time.UnixMilli(ms), true
		}
		if v > -1e15 && v < 1e15 {
			return time.UnixMilli(int64(v)), true
		}
	}
	return time.Time{}, false
}

// FuzzEventTime compares EventTime on valid JSON values with the reference
// and requires an error, never a panic, for everything else.
func FuzzEventTime(f *testing.F) {
	for _, s := range []string{`1764547200000`, `-5`, `1.5`, `1e3`, `"2026-12-01T10:00:00Z"`, `"x\"y"`, `null`, `"`, `-`, `1e400`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := EventTime(raw)
		if !json.Valid(raw) {
			return // values come from parsed documents; only no panic here
		}
		want, ok := eventTimeReference(raw)
		if ok != (err == nil) || ok && !got.Equal(want) {
			t.Fatalf("EventTime(%q) = %v, %v; reference %v, %v", raw, got, err, want, ok)
		}
	})
}

func ExampleEventTime() {
	for _, raw := range []string{`1764583200000`, `1764583200000.9`, `"2025-12-01T10:00:00Z"`, `"soon"`} {
		t, err := EventTime([]byte(raw))
		if err != nil {
			fmt.Println("time:", err)
			continue
		}
		fmt.Println(t.UTC().Format(time.RFC3339Nano))
	}
	// Output:
	// 2025-12-01T10:00:00Z
	// 2025-12-01T10:00:00Z
	// 2025-12-01T10:00:00Z
	// time: expected an RFC 3339 time such as 2006-01-02T15:04:05Z or epoch milliseconds, got a string of 4 bytes that is neither
}

func ExampleEventClassUID() {
	uid, err := EventClassUID([]byte(`6003`))
	fmt.Println(uid, err)
	_, err = EventClassUID([]byte(`"6003"`))
	fmt.Println("class_uid:", err)
	// Output:
	// 6003 <nil>
	// class_uid: expected an integer, got a string
}

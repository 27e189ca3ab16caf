package telemetry_test

import (
	"testing"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/obstest"
	"github.com/lakerelay/lakerelay/internal/telemetry"
)

func records(logTypes ...string) []lakerelay.Record {
	out := make([]lakerelay.Record, len(logTypes))
	for i, lt := range logTypes {
		out[i].Origin.LogType = lt
	}
	return out
}

// OutBatch shares an object's bytes among log types by record count, and
// the shares add up to the object's size.
func TestOutBatch(t *testing.T) {
	rec := obstest.NewRecorder()
	tel := telemetry.New(nil, rec, "", "sink")
	tel.OutBatch(records("a", "b", "a", "c", "a", "b", "a"), "p/", 1001)
	tel.OutBatch(records("a", "a"), "", 10)
	tel.OutBatch(nil, "", 5)
	for _, c := range []struct {
		logType, part  string
		records, bytes int64
	}{
		{"a", "p/", 4, 1001 * 4 / 7},
		{"b", "p/", 2, 1001 * 2 / 7},
		{"c", "p/", 1, 1001 - 1001*4/7 - 1001*2/7},
		{"a", "", 6, 1001*4/7 + 10}, // "" matches both partitions
	} {
		l := lakerelay.Labels{Source: "sink", LogType: c.logType, Partition: c.part}
		if got := rec.Sum(lakerelay.MetricRecordsOut, l); got != c.records {
			t.Errorf("%+v: records out %d, want %d", l, got, c.records)
		}
		if got := rec.Sum(lakerelay.MetricBytesOut, l); got != c.bytes {
			t.Errorf("%+v: bytes out %d, want %d", l, got, c.bytes)
		}
	}
	if got := rec.Sum(lakerelay.MetricBytesOut, lakerelay.Labels{}); got != 1011 {
		t.Errorf("bytes out in all = %d, want 1011", got)
	}
}

// A nil logger and observer are silent; the default name applies.
func TestNew(t *testing.T) {
	tel := telemetry.New(nil, nil, "", "def")
	if tel.Name != "def" || tel.Debug() {
		t.Fatalf("%+v", tel)
	}
	tel.Error(nil)
	tel.Log.Info("nothing")
	if telemetry.New(nil, nil, "mine", "def").Name != "mine" {
		t.Fatal("name not kept")
	}
}

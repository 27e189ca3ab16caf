package quarantine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/obstest"
)

// Entries made durable are counted per log type and class; the log names
// the location and counts but never the records.
func TestLogsAndMetrics(t *testing.T) {
	var log obstest.Log
	rec := obstest.NewRecorder()
	path := filepath.Join(t.TempDir(), "q.ndjson")
	w, err := OpenFile(path, func(o *Options) { o.Logger, o.Observer, o.Name = log.Logger(), rec, "q1" })
	if err != nil {
		t.Fatal(err)
	}
	a := newAcks()
	w.Quarantine(a.record(0, `{"secret":"s3kr1t-value"}`), fmt.Errorf("big: %w", lakerelay.ErrTooLarge))
	w.Quarantine(a.record(1, `not json s3kr1t-value`), fmt.Errorf("bad: %w", lakerelay.ErrInvalidRecord))
	w.Quarantine(a.record(2, `{}`), fmt.Errorf("bad: %w", lakerelay.ErrInvalidRecord))
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ok, failed := a.counts(); ok != 3 || failed != 0 {
		t.Fatalf("%d acked, %d nacked", ok, failed)
	}
	// The entries are the quarantine's records out; the records set aside
	// are counted as quarantined by whoever set them aside, not here.
	if n := rec.Sum(lakerelay.MetricRecordsOut, lakerelay.Labels{Source: "q1", LogType: "t"}); n != 3 {
		t.Errorf("records out = %d, want 3", n)
	}
	if n := rec.Sum(lakerelay.MetricBytesOut, lakerelay.Labels{Source: "q1", LogType: "t"}); n < 3*int64(len(`{"time":""}`)) {
		t.Errorf("bytes out = %d", n)
	}
	if n := rec.Sum(lakerelay.MetricQuarantined, lakerelay.Labels{}); n != 0 {
		t.Errorf("quarantined = %d, want 0 (counted by the component that set the records aside)", n)
	}
	if n := rec.Sum(lakerelay.MetricErrors, lakerelay.Labels{}); n != 0 {
		t.Errorf("errors = %d, want 0", n)
	}
	if len(log.Find(t, "quarantine opened")) != 1 || len(log.Find(t, "quarantine closed")) != 1 {
		t.Errorf("want one opened and one closed line:\n%s", log.String())
	}
	written := 0
	for _, l := range log.Find(t, "quarantine entries written") {
		if l["level"] != "DEBUG" || l["location"] != path {
			t.Errorf("line %v", l)
		}
		written += int(l["entries"].(float64))
	}
	if written != 3 {
		t.Errorf("debug lines report %d entries, want 3:\n%s", written, log.String())
	}
	log.NotContains(t, "s3kr1t")
}

// A write that fails is logged at Warn and counted as an error; its
// records are not counted as quarantined.
func TestLogsAndMetricsOfFailedWrite(t *testing.T) {
	var log obstest.Log
	rec := obstest.NewRecorder()
	w, err := OpenFile("/dev/full", func(o *Options) { o.Logger, o.Observer, o.MaxAge = log.Logger(), rec, 10*time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	a := newAcks()
	w.Quarantine(a.record(0, `{"secret":"s3kr1t-value"}`), errors.New("rejected"))
	waitFor(t, 10*time.Second, "settled", func() bool { _, failed := a.counts(); return failed == 1 })
	warn := log.Find(t, "quarantine write failed, records stay redeliverable")
	if len(warn) != 1 || warn[0]["level"] != "WARN" || warn[0]["location"] != "/dev/full" || warn[0]["entries"] != 1.0 {
		t.Fatalf("want one Warn line for the failed write:\n%s", log.String())
	}
	if n := rec.Sum(lakerelay.MetricErrors, lakerelay.Labels{Source: DefaultName}); n != 1 {
		t.Errorf("errors = %d, want 1", n)
	}
	if n := rec.Sum(lakerelay.MetricRecordsOut, lakerelay.Labels{}); n != 0 {
		t.Errorf("records out = %d, want 0", n)
	}
	log.NotContains(t, "s3kr1t")
}

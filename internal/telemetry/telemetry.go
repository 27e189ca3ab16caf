// Package telemetry holds what every component needs to log and measure
// through the Logger, Observer and Name of its options: a logger that is
// silent when none was given and names the component, an Observer that does
// nothing when none was given, and the error count by problem class.
package telemetry

import (
	"context"
	"log/slog"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/awserr"
)

// T is a component's logger and observer under its name.
type T struct {
	// Log is never nil; its lines carry the attribute component=Name.
	Log *slog.Logger
	// Obs is never nil.
	Obs lakerelay.Observer
	// Name is the Source label of the measurements.
	Name string
}

// New returns the telemetry of a component named name (def when empty)
// logging to l (nil: nowhere) and measuring into o (nil: nothing).
func New(l *slog.Logger, o lakerelay.Observer, name, def string) T {
	if name == "" {
		name = def
	}
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return T{Log: l.With("component", name), Obs: lakerelay.ObserverOrNop(o), Name: name}
}

// Error counts one failed operation in [lakerelay.MetricErrors] with the
// problem class of err.
func (t T) Error(err error) {
	t.Obs.Count(lakerelay.MetricErrors, 1, lakerelay.Labels{Source: t.Name, Class: awserr.ProblemClass(err)})
}

// Debug reports whether Debug lines are written, so that a hot path builds
// their attributes only then.
func (t T) Debug() bool { return t.Log.Enabled(context.Background(), slog.LevelDebug) }

// Out counts records and bytes a sink stored, for one log type and (when
// non-empty) partition.
func (t T) Out(logType, partition string, records, bytes int64) {
	l := lakerelay.Labels{Source: t.Name, LogType: logType, Partition: partition}
	t.Obs.Count(lakerelay.MetricRecordsOut, records, l)
	t.Obs.Count(lakerelay.MetricBytesOut, bytes, l)
}

// OutBatch counts a stored batch in [lakerelay.MetricRecordsOut] and
// [lakerelay.MetricBytesOut] per log type (Origin.LogType) of its records.
// objectBytes is what the sink stored for the batch: when the records are
// of several log types it is shared among them in proportion to their
// numbers of records, so that the bytes out of all log types add up to it.
// partition is the Partition label ("" when the sink did not opt in).
func (t T) OutBatch(records []lakerelay.Record, partition string, objectBytes int64) {
	if len(records) == 0 {
		return
	}
	first := records[0].Origin.LogType
	mixed := false
	for i := range records {
		if records[i].Origin.LogType != first {
			mixed = true
			break
		}
	}
	if !mixed {
		t.Out(first, partition, int64(len(records)), objectBytes)
		return
	}
	counts := map[string]int64{}
	var order []string
	for i := range records {
		lt := records[i].Origin.LogType
		if counts[lt] == 0 {
			order = append(order, lt)
		}
		counts[lt]++
	}
	left := objectBytes
	for i, lt := range order {
		b := objectBytes * counts[lt] / int64(len(records))
		if i == len(order)-1 {
			b = left
		}
		left -= b
		t.Out(lt, partition, counts[lt], b)
	}
}

package lakerelay

import "time"

// Observer receives the measurements of sources, the batcher, stores and
// sinks. It is the one seam between the library and a metrics system: the
// metrics package provides a Prometheus registry and an OpenTelemetry
// adapter; a program may write its own.
//
// Contract for implementations:
//   - safe for concurrent use by any number of goroutines;
//   - must not block and must not do I/O on the calling goroutine (callers
//     invoke it on the data path, once per record batch or SQS call);
//   - must not retain or modify anything but the values passed;
//   - should not allocate for a name and label set seen before.
//
// Callers use the Metric* constants as names, so that every component reports
// the same thing under the same name. A nil Observer is valid in every
// options struct and means "observe nothing"; components call [ObserverOrNop]
// once when they are built.
type Observer interface {
	// Count adds n (≥ 0) to the counter name for the label set l.
	Count(name string, n int64, l Labels)
	// Gauge sets the gauge name for the label set l to v.
	Gauge(name string, v float64, l Labels)
	// Duration records one observation of d in the histogram name for l.
	Duration(name string, d time.Duration, l Labels)
}

// Labels is the label set of a measurement. The keys are fixed so that the
// cardinality of every metric stays bounded by construction: a value is a
// configured name (a source, a log type, a store) or a small closed set (an
// error class), never an object key, a message id or record contents. An
// empty field is absent.
//
// Labels is a small comparable value: passing it costs no allocation, and
// implementations can use it directly as a map key.
type Labels struct {
	// Source names the configured source or component, e.g. "sqs",
	// "list", "dir", "batch", "sink", or a name the program gave it.
	Source string
	// LogType is the record's log type (Origin.LogType), a configured name.
	LogType string
	// Partition is the partition key a record went to. Partitions grow with
	// time (one per day and account in Security Lake), so implementations
	// drop this label unless the program opted in (see the metrics package).
	Partition string
	// Class is a closed set of problem classes: one of the Class* constants.
	Class string
}

// Problem classes for the Class label of [MetricErrors] and
// [MetricQuarantined]. The set is closed so that the label stays bounded.
const (
	ClassDecode     = "decode"      // an object or notification could not be decoded
	ClassInvalid    = "invalid"     // a record violates the format or schema (ErrInvalidRecord)
	ClassTooLarge   = "too_large"   // beyond a size limit (ErrTooLarge)
	ClassPartition  = "partition"   // the Partitioner rejected the record
	ClassAccess     = "access"      // access denied, missing bucket or queue, wrong region
	ClassThrottled  = "throttled"   // the service throttled the request (429, SlowDown)
	ClassTransient  = "transient"   // network error, timeout, 5xx: retried
	ClassMaxReceive = "max_receive" // an SQS message passed MaxReceiveCount
	ClassOther      = "other"       // anything else
)

// Metric names. Counters end in _total, durations in _seconds; the labels
// each carries are listed; "partition" is present only where a program opted
// in. Components report under these names only.
const (
	// MetricRecordsIn counts records a source produced. Labels: Source, LogType.
	MetricRecordsIn = "lakerelay_records_in_total"
	// MetricBytesIn counts bytes of records a source produced (decoded record
	// bytes, not object bytes). Labels: Source, LogType.
	MetricBytesIn = "lakerelay_bytes_in_total"
	// MetricRecordsOut counts records a sink stored durably. Labels: Source
	// (the sink's name), LogType, Partition (opt-in).
	MetricRecordsOut = "lakerelay_records_out_total"
	// MetricBytesOut counts bytes of the objects a sink stored (after
	// encoding and compression). Labels: Source, LogType, Partition (opt-in).
	MetricBytesOut = "lakerelay_bytes_out_total"
	// MetricQuarantined counts records set aside in the quarantine, once,
	// by the component that set them aside (a source, batch.Run, a sink);
	// the quarantine writer counts the entries it stored as records out.
	// Labels: Source, LogType, Class.
	MetricQuarantined = "lakerelay_records_quarantined_total"
	// MetricErrors counts failed operations (each failed attempt once).
	// Labels: Source, Class.
	MetricErrors = "lakerelay_errors_total"
	// MetricFlushDuration is the time a sink took to store one batch,
	// retries included. Labels: Source (the sink), Partition (opt-in).
	MetricFlushDuration = "lakerelay_flush_duration_seconds"
	// MetricFlushRetries counts retried flush attempts. Labels: Source.
	MetricFlushRetries = "lakerelay_flush_retries_total"
	// MetricSQSReceived counts SQS messages received. Labels: Source.
	MetricSQSReceived = "lakerelay_sqs_messages_received_total"
	// MetricSQSDeleted counts SQS messages deleted after their data was
	// safe. Labels: Source.
	MetricSQSDeleted = "lakerelay_sqs_messages_deleted_total"
	// MetricSQSRedelivered counts received SQS messages whose
	// ApproximateReceiveCount was above 1. Labels: Source.
	MetricSQSRedelivered = "lakerelay_sqs_messages_redelivered_total"
	// MetricSQSVisibilityExtended counts visibility timeout extensions
	// (one per message extended). Labels: Source.
	MetricSQSVisibilityExtended = "lakerelay_sqs_visibility_extensions_total"
	// MetricSQSLag is now − SentTimestamp of the oldest message the source
	// holds in flight, in seconds; 0 when none is in flight. Labels: Source.
	MetricSQSLag = "lakerelay_sqs_lag_seconds"
	// MetricSinceLastRecord is the number of seconds since the last record
	// of a watched source and log type. Labels: Source, LogType.
	MetricSinceLastRecord = "lakerelay_seconds_since_last_record"
	// MetricDropOff is 1 while a watched source and log type has sent no
	// record for longer than its drop-off limit, else 0. Labels: Source,
	// LogType (empty when the whole source is watched).
	MetricDropOff = "lakerelay_drop_off"
	// MetricSourceUp is 1 while a source runs, 0 once it ended with a fatal
	// error. Labels: Source.
	MetricSourceUp = "lakerelay_source_up"
)

// ObserverOrNop returns o, or an Observer that does nothing when o is nil.
func ObserverOrNop(o Observer) Observer {
	if o == nil {
		return nopObserver{}
	}
	return o
}

type nopObserver struct{}

func (nopObserver) Count(string, int64, Labels)            {}
func (nopObserver) Gauge(string, float64, Labels)          {}
func (nopObserver) Duration(string, time.Duration, Labels) {}

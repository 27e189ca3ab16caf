package batch

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unsafe"

	"github.com/lakerelay/lakerelay"
)

// Defaults used by [New] for every [Options] field an option function leaves
// alone.
const (
	// DefaultMaxRecords is the default [Limits.MaxRecords].
	DefaultMaxRecords = 50_000
	// DefaultMaxBytes is the default [Limits.MaxBytes]: 32 MiB of record data
	// per batch.
	DefaultMaxBytes int64 = 32 << 20
	// DefaultMaxAge is the default [Limits.MaxAge]: 5 minutes, the publish
	// rate Amazon Security Lake asks custom sources for.
	DefaultMaxAge = 5 * time.Minute
	// DefaultMaxPendingBytes is the default [Limits.MaxPendingBytes]:
	// 256 MiB across all partitions.
	DefaultMaxPendingBytes int64 = 256 << 20
	// DefaultMaxRetries is the default [Options.MaxRetries].
	DefaultMaxRetries = 5
	// DefaultRetryBackoff is the default [Options.RetryBackoff].
	DefaultRetryBackoff = 500 * time.Millisecond
	// DefaultMaxRetryBackoff is the default [Options.MaxRetryBackoff].
	DefaultMaxRetryBackoff = 30 * time.Second
	// DefaultFlushConcurrency is the default [Options.FlushConcurrency].
	DefaultFlushConcurrency = 4
	// DefaultName is the default [Options.Name].
	DefaultName = "batch"
)

// RecordOverhead is what every buffered record costs against
// [Limits.MaxPendingBytes] in addition to len(Record.Data): the
// [lakerelay.Record] value the batcher holds for it (160 bytes on 64-bit
// platforms) plus a quarter for the spare capacity of a growing batch. It
// keeps memory bounded even for empty or tiny records. It does not count
// against [Limits.MaxBytes], which is about record data only.
const RecordOverhead = int64(unsafe.Sizeof(lakerelay.Record{})) * 5 / 4

// Limits bound the batches a [Batcher] builds. A batch is flushed as soon as
// the first of MaxRecords, MaxBytes or MaxAge is reached, so no batch ever
// holds more than MaxRecords records or more than MaxBytes bytes of data.
//
// Every field must be positive; [DefaultLimits] returns the defaults.
type Limits struct {
	// MaxRecords is the most records one partition's batch holds.
	MaxRecords int
	// MaxBytes is the most record data (the sum of len(Record.Data)) one
	// partition's batch holds. A record larger than MaxBytes on its own is
	// rejected by [Batcher.Add] with an error wrapping
	// [lakerelay.ErrTooLarge].
	MaxBytes int64
	// MaxAge is the longest a record waits in an open batch: a batch is
	// flushed MaxAge after its oldest record was added. It is the publish
	// rate of a partition.
	MaxAge time.Duration
	// MaxPendingBytes bounds the memory of all records the batcher holds,
	// across all partitions and including batches being flushed or retried.
	// Each record costs len(Record.Data) + [RecordOverhead]. Add blocks
	// (backpressure) while a record would take the total beyond it; records
	// are never dropped. It must be at least MaxBytes.
	MaxPendingBytes int64
}

// DefaultLimits returns the default limits.
func DefaultLimits() Limits {
	return Limits{
		MaxRecords:      DefaultMaxRecords,
		MaxBytes:        DefaultMaxBytes,
		MaxAge:          DefaultMaxAge,
		MaxPendingBytes: DefaultMaxPendingBytes,
	}
}

// ErrInvalidOptions is wrapped by every [*FieldError], so that
// errors.Is(err, ErrInvalidOptions) tells a configuration error from others.
var ErrInvalidOptions = errors.New("batch: invalid options")

// FieldError is one problem found by [Limits.Validate] or
// [Options.Validate]. Field names the offending field as it is written in Go
// ("Limits.MaxBytes", "Options.MaxRetries"). Validate joins several with
// [errors.Join]; use errors.As to get the first, or unwrap the joined error
// (interface{ Unwrap() []error }) to get all of them.
type FieldError struct {
	Field  string
	Reason string
}

// Error returns "batch: <Field>: <Reason>".
func (e *FieldError) Error() string { return "batch: " + e.Field + ": " + e.Reason }

// Unwrap returns [ErrInvalidOptions].
func (e *FieldError) Unwrap() error { return ErrInvalidOptions }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Validate reports every problem with l, joined with [errors.Join]; each is a
// [*FieldError] naming the field. It returns nil when l is usable.
func (l Limits) Validate() error {
	var errs []error
	if l.MaxRecords <= 0 {
		errs = append(errs, fieldErr("Limits.MaxRecords", "must be > 0 (got %d)", l.MaxRecords))
	}
	if l.MaxBytes <= 0 {
		errs = append(errs, fieldErr("Limits.MaxBytes", "must be > 0 (got %d)", l.MaxBytes))
	}
	if l.MaxAge <= 0 {
		errs = append(errs, fieldErr("Limits.MaxAge", "must be > 0 (got %s)", l.MaxAge))
	}
	switch {
	case l.MaxPendingBytes <= 0:
		errs = append(errs, fieldErr("Limits.MaxPendingBytes", "must be > 0 (got %d)", l.MaxPendingBytes))
	case l.MaxBytes > 0 && l.MaxPendingBytes < l.MaxBytes:
		errs = append(errs, fieldErr("Limits.MaxPendingBytes",
			"must be >= Limits.MaxBytes (%d) so that a full batch fits (got %d)", l.MaxBytes, l.MaxPendingBytes))
	}
	return errors.Join(errs...)
}

// Options configure a [Batcher]. [New] starts from the defaults (the Default*
// constants, [DefaultLimits] and the system clock) and applies the option
// functions it is given in order, so an option function only sets what it
// wants to change:
//
//	b, err := batch.New(sink, func(o *batch.Options) {
//		o.MaxAge = time.Minute
//		o.MaxRetries = 0 // no retries
//	})
type Options struct {
	Limits

	// MaxRetries is how often a failed flush is retried before its records
	// are negatively acknowledged: a batch gets at most MaxRetries+1
	// attempts. 0 disables retries. Errors marked with
	// [lakerelay.Permanent] (see [lakerelay.IsPermanent]) are never
	// retried.
	MaxRetries int
	// RetryBackoff is the wait before the first retry. The wait doubles with
	// every further retry, up to MaxRetryBackoff, and is jittered: the
	// actual wait is uniformly drawn from [d/2, d) for the computed d.
	RetryBackoff time.Duration
	// MaxRetryBackoff caps the wait between two attempts.
	MaxRetryBackoff time.Duration

	// FlushConcurrency is how many batches are written to the sink at the
	// same time. With 1, batches are written in the order they were
	// completed.
	FlushConcurrency int

	// OnFlush, if set, is called once per batch after its records were
	// settled, from the goroutine that flushed it. With FlushConcurrency >
	// 1 it is called concurrently. It must not block for long and must not
	// call Add, Flush or Close, which may wait for the flush that calls it.
	OnFlush func(FlushResult)

	// Clock is the source of time for MaxAge, retry backoff and
	// FlushResult.Duration. nil means the system clock. Tests inject a
	// manual clock to make age and retry behaviour deterministic.
	Clock Clock

	// Logger receives the batcher's structured log: Info when it starts
	// and closes, Warn for each failed flush attempt that will be retried
	// (with the attempt) and for each batch negatively acknowledged, Debug
	// for each stored batch (partition, records, bytes, attempts,
	// duration). Lines carry partitions and counts, never record contents.
	// nil means no log.
	Logger *slog.Logger
	// Observer receives the batcher's measurements, labelled with Source
	// Name: [lakerelay.MetricFlushDuration] per batch (stored or not),
	// [lakerelay.MetricFlushRetries] per retried attempt and
	// [lakerelay.MetricErrors] per failed attempt, with the problem class
	// of its error. [Run] adds [lakerelay.MetricQuarantined] (Source Name,
	// the record's LogType, Class [lakerelay.ClassPartition] or
	// [lakerelay.ClassTooLarge]) for each record the quarantine stored.
	// Records and bytes out are the sink's to count, since only it knows
	// what it wrote. nil means none.
	Observer lakerelay.Observer
	// Name is the Source label of the measurements and the "component"
	// attribute of the log lines; default [DefaultName].
	Name string
	// PartitionLabel fills the Partition label of
	// [lakerelay.MetricFlushDuration]. Partitions grow with time; the
	// metrics package drops the label unless the program opted in there
	// too (metrics.RegistryOptions.Partitions). Off by default.
	PartitionLabel bool
}

// Validate reports every problem with o, including those of o.Limits,
// joined with [errors.Join]; each is a [*FieldError] naming the field.
func (o Options) Validate() error {
	errs := []error{o.Limits.Validate()}
	if o.MaxRetries < 0 {
		errs = append(errs, fieldErr("Options.MaxRetries", "must be >= 0 (got %d)", o.MaxRetries))
	}
	if o.RetryBackoff < 0 || (o.RetryBackoff == 0 && o.MaxRetries > 0) {
		errs = append(errs, fieldErr("Options.RetryBackoff", "must be > 0 when Options.MaxRetries > 0 (got %s)", o.RetryBackoff))
	}
	if o.MaxRetryBackoff < o.RetryBackoff {
		errs = append(errs, fieldErr("Options.MaxRetryBackoff",
			"must be >= Options.RetryBackoff (%s) (got %s)", o.RetryBackoff, o.MaxRetryBackoff))
	}
	if o.FlushConcurrency <= 0 {
		errs = append(errs, fieldErr("Options.FlushConcurrency", "must be > 0 (got %d)", o.FlushConcurrency))
	}
	return errors.Join(errs...)
}

func defaultOptions() Options {
	return Options{
		Limits:           DefaultLimits(),
		MaxRetries:       DefaultMaxRetries,
		RetryBackoff:     DefaultRetryBackoff,
		MaxRetryBackoff:  DefaultMaxRetryBackoff,
		FlushConcurrency: DefaultFlushConcurrency,
		Name:             DefaultName,
	}
}

package lakerelay

import (
	"context"
	"strconv"
	"sync/atomic"
)

// Record is one event.
//
// Data is one JSON document or, for line-oriented input, one raw line without
// its line terminator. A record owns Data: producers must not reuse the slice
// after handing out the record, and consumers must not modify it. (A
// consumer may allow a source to reuse it once the record is settled; see
// source.DecodeOptions.ReuseData.)
type Record struct {
	// Data is the event itself.
	Data []byte
	// Origin says where the event came from. It is informational: sinks may
	// use it to build keys or error messages, never to decide delivery.
	Origin Origin
	// Ack settles the record; see [AckFunc]. It may be nil, meaning there is
	// nothing to settle (records built by hand, tests).
	Ack AckFunc
	// JSON reports that Data is one valid JSON value without insignificant
	// whitespace, as checked by the source that decoded it (the JSON stream
	// types set it). Consumers that need such a value may then use Data as
	// it is instead of validating it again. Whoever replaces Data must clear
	// it; the zero value promises nothing.
	JSON bool
}

// Settle calls r.Ack with err if r.Ack is not nil. It is the way consumers
// should acknowledge (err == nil) or negatively acknowledge (err != nil) a
// record.
func (r Record) Settle(err error) {
	if r.Ack != nil {
		r.Ack(err)
	}
}

// AckFunc settles one record. nil means the record is safe (stored, or
// deliberately handled such as quarantined); a non-nil error means it is not,
// and the source must leave its data redeliverable.
//
// An AckFunc is called exactly once per record, from any goroutine. It must
// not block for long: sources only record the outcome and act on it elsewhere.
type AckFunc func(err error)

// Once returns an AckFunc that forwards only its first call to f and ignores
// the rest. Use it where a code path cannot otherwise prove that it settles a
// record exactly once.
func Once(f AckFunc) AckFunc {
	if f == nil {
		return nil
	}
	var done atomic.Bool
	return func(err error) {
		if done.CompareAndSwap(false, true) {
			f(err)
		}
	}
}

// Origin says where a record came from.
type Origin struct {
	// Bucket and Key name the S3 object (or, for local files, Bucket is empty
	// and Key is the file path).
	Bucket string
	Key    string
	// VersionID is the object version, when the notification named one.
	VersionID string
	// Index is the 0-based position of the record in its object.
	Index int64
	// Offset is the byte offset of the record's first byte in the
	// decompressed object, or -1 when unknown.
	Offset int64
	// LogType is the log type the source assigned (for example from a key
	// prefix mapping or a source preset, in msg_class style such as
	// "generic_s3_crowdstrike_log"); empty when none applies.
	LogType string
	// Vendor and Category name the product vendor ("CrowdStrike") and the
	// kind of data ("endpoint") of the log source, as a source preset sets
	// them; empty when none applies. Like LogType they are labels for
	// routing and keys, never read from the record itself.
	Vendor, Category string
	// CloudWatch is set for records taken from CloudWatch Logs subscription
	// data.
	CloudWatch *CloudWatchOrigin
}

// CloudWatchOrigin describes a CloudWatch Logs event delivered through a
// subscription (for example by Amazon Data Firehose to S3).
type CloudWatchOrigin struct {
	Owner     string `json:"owner"`
	LogGroup  string `json:"log_group"`
	LogStream string `json:"log_stream"`
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"` // epoch milliseconds
}

// String formats the origin for error messages: s3://bucket/key#index, or
// path#index for local files. It never includes record contents.
func (o Origin) String() string {
	b := make([]byte, 0, len("s3://")+len(o.Bucket)+1+len(o.Key)+len("?versionId=")+len(o.VersionID)+21)
	if o.Bucket != "" {
		b = append(b, "s3://"...)
		b = append(b, o.Bucket...)
		b = append(b, '/')
	}
	b = append(b, o.Key...)
	if o.VersionID != "" {
		b = append(b, "?versionId="...)
		b = append(b, o.VersionID...)
	}
	b = append(b, '#')
	return string(strconv.AppendInt(b, o.Index, 10))
}

// Source hands out records.
type Source interface {
	// Read returns the next record. It blocks until one is available or ctx
	// ends (then it returns ctx's error). Finite sources return io.EOF once
	// every record was handed out; a closed source returns ErrClosed.
	// Read may be called from several goroutines.
	Read(ctx context.Context) (Record, error)
	// Close stops the source. Records already handed out can still be
	// settled; data of records that were not acknowledged stays
	// redeliverable. Close is idempotent.
	Close() error
}

// Sink stores batches of records.
type Sink interface {
	// WriteBatch stores records, all of one partition, as one unit and
	// returns nil only when the store has them durably. On error nothing may
	// be assumed stored; the caller retries or negatively acknowledges.
	// WriteBatch does not settle the records and must not retain the slice.
	// It is safe for concurrent use.
	WriteBatch(ctx context.Context, partition string, records []Record) error
}

// SinkFunc adapts a function to a [Sink].
type SinkFunc func(ctx context.Context, partition string, records []Record) error

// WriteBatch calls f.
func (f SinkFunc) WriteBatch(ctx context.Context, partition string, records []Record) error {
	return f(ctx, partition, records)
}

// Partitioner computes the partition a record belongs to. Sinks whose object
// keys depend on record contents (dates, accounts) implement it; a batcher
// groups records by the value it returns. An error means the record can never
// be written by that sink (it should be quarantined); it wraps
// [ErrInvalidRecord].
type Partitioner interface {
	Partition(r Record) (string, error)
}

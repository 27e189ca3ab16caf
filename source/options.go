package source

import (
	"errors"
	"fmt"
)

// StreamType says how the bytes of an object are split into records.
type StreamType string

// The stream types.
const (
	// Auto detects the type from the first bytes of the (decompressed)
	// object: CloudWatch Logs subscription data (a JSON object whose first
	// field is "messageType"), then a document whose first field is a
	// "Records" array (CloudTrail; the array is expanded), then a JSON array
	// (streamed), then newline-delimited or concatenated JSON (the first
	// non-space byte is '{'), then lines. A leading UTF-8 byte order mark is
	// skipped.
	Auto StreamType = "auto"
	// Lines makes every line one record (the raw bytes without the line
	// terminator; "\r\n" and "\n" both end a line). Empty lines are not
	// records.
	Lines StreamType = "lines"
	// NDJSON makes every JSON value one record: newline-delimited JSON, JSON
	// values concatenated without separators, and pretty-printed documents
	// one after the other. A line that is not JSON is an invalid record.
	NDJSON StreamType = "ndjson"
	// JSON makes the whole object one record: exactly one JSON document.
	JSON StreamType = "json"
	// JSONArray streams the elements of a top-level JSON array (or of
	// several arrays one after the other), one record each.
	JSONArray StreamType = "json-array"
	// CloudWatchLogs decodes CloudWatch Logs subscription data as Amazon Data
	// Firehose writes it to S3: concatenated {"messageType":"DATA_MESSAGE"}
	// documents, each of whose logEvents is one record holding the event's
	// message. CONTROL_MESSAGE documents are skipped.
	CloudWatchLogs StreamType = "cloudwatch-logs"
)

// StreamTypes lists the valid stream types.
var StreamTypes = []StreamType{Auto, Lines, NDJSON, JSON, JSONArray, CloudWatchLogs}

// Defaults for [DecodeOptions].
const (
	// DefaultMaxRecordSize bounds one record (1 MiB).
	DefaultMaxRecordSize = 1 << 20
	// DefaultMaxObjectSize bounds the decompressed size of one object
	// (16 GiB), a guard against decompression bombs.
	DefaultMaxObjectSize = 16 << 30
	// maxCloudWatchFactor: a CloudWatch Logs document (a batch of log events)
	// may be this many times MaxRecordSize.
	maxCloudWatchFactor = 8
)

// DecodeOptions says how objects are decoded. The zero value means: detect
// the stream type, 1 MiB records, 16 GiB objects.
type DecodeOptions struct {
	// StreamType selects the decoder; "" means Auto.
	StreamType StreamType
	// ExpandField, when set, names a top-level field of each JSON document
	// (for example "Records" for CloudTrail) that holds an array; each
	// element becomes one record, streamed without holding the array in
	// memory. Every other field of the document must fit in MaxRecordSize.
	// It applies to the Auto, NDJSON and JSON stream types.
	ExpandField string
	// ExpandFields names further fields to expand like ExpandField (with
	// it, or alone): every one of them a document holds is expanded, in
	// document order, and a document must hold at least one. Proofpoint
	// TAP's SIEM API responses, for example, hold four arrays of events.
	// A field named twice in one document is expanded the first time only.
	ExpandFields []string
	// MaxRecordSize bounds one record in bytes; 0 means
	// DefaultMaxRecordSize. A larger record fails its object with an error
	// wrapping lakerelay.ErrTooLarge.
	MaxRecordSize int64
	// MaxObjectSize bounds the decompressed size of one object; 0 means
	// DefaultMaxObjectSize. A larger object fails with an error wrapping
	// lakerelay.ErrTooLarge.
	MaxObjectSize int64
	// ReuseData lets the source reuse the memory of a record's Data once
	// the record is settled. Records are then cut from blocks of 64 KiB
	// that are used again once every record cut from them is settled,
	// instead of each having an allocation of its own (the records of an
	// object's first 64 KiB, and any record larger than 16 KiB, still have
	// one, so that a small object does not hold a block). A long run then
	// touches the same memory again instead of fresh pages, which saves a
	// page fault for every 4 KiB read and much of the collector's work:
	// collect --dir runs about a fifth faster (see BENCHMARKS.md).
	//
	// Records cut from a block have an Ack (with every source), and their
	// Data is valid only until that Ack is called. Set ReuseData only when
	// whoever reads the records (and the Quarantine, which gets the invalid
	// ones) is done with Data by the time a record is settled, settles each
	// record exactly once, and settles records in about the order it read
	// them: batch.Run with a sink that copies what it writes (to a stream,
	// a file, a compressed object) is such a reader. A record settled twice
	// may let the memory of another record still held be reused: its Data
	// then changes; once the source can tell (a block settled more times
	// than records were cut from it), it panics saying so. A record held
	// long keeps its block in memory, so a reader that holds a few records
	// of many blocks for long (partitions of very different pace) holds
	// more memory than their bytes. A record never settled costs no
	// correctness: its block is simply not reused.
	ReuseData bool
}

// Validate reports every problem with o.
func (o DecodeOptions) Validate() error {
	var errs []error
	switch o.StreamType {
	case "", Auto, Lines, NDJSON, JSON, JSONArray, CloudWatchLogs:
	default:
		errs = append(errs, fmt.Errorf("source: StreamType %q: want one of %v", o.StreamType, StreamTypes))
	}
	if o.ExpandField != "" || len(o.ExpandFields) > 0 {
		switch o.StreamType {
		case "", Auto, NDJSON, JSON:
		default:
			errs = append(errs, fmt.Errorf("source: fields to expand (ExpandField %q, ExpandFields %q): not possible with StreamType %q", o.ExpandField, o.ExpandFields, o.StreamType))
		}
	}
	for i, f := range o.ExpandFields {
		if f == "" {
			errs = append(errs, fmt.Errorf("source: ExpandFields[%d]: empty", i))
		}
	}
	if o.MaxRecordSize < 0 {
		errs = append(errs, fmt.Errorf("source: MaxRecordSize %d: must not be negative", o.MaxRecordSize))
	}
	if o.MaxObjectSize < 0 {
		errs = append(errs, fmt.Errorf("source: MaxObjectSize %d: must not be negative", o.MaxObjectSize))
	}
	return errors.Join(errs...)
}

func (o DecodeOptions) withDefaults() DecodeOptions {
	if o.StreamType == "" {
		o.StreamType = Auto
	}
	if o.MaxRecordSize == 0 {
		o.MaxRecordSize = DefaultMaxRecordSize
	}
	if o.MaxObjectSize == 0 {
		o.MaxObjectSize = DefaultMaxObjectSize
	}
	return o
}

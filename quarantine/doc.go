// Package quarantine sets aside, durably, the records that can never be
// processed: invalid JSON, a schema violation, a partition the sink cannot
// build, a message received too often. Every program writes the same
// format, so one tool reads them all.
//
// # Format
//
// A quarantine is newline-delimited JSON, one [Entry] per record:
//
//	{"time":"2026-01-02T03:04:05.123Z","reason":"source: s3://b/k line 3: ...",
//	 "origin":{"bucket":"b","key":"k","index":2,"offset":120,"log_type":"cloudtrail"},
//	 "data":{"the":"record"}}
//
// data holds the record itself when it is a JSON object or array
// (compacted onto one line), else the record as a JSON string; a record that is not valid UTF-8
// is kept byte for byte in data_base64 instead.
//
// # Where
//
// [New] writes entries to a [sink.Store] (an S3 bucket or a directory) as
// objects {prefix}/{yyyy}/{mm}/{dd}/{time}-{random}.ndjson, a batch of
// entries per object, flushed at the first of Options.MaxEntries,
// Options.MaxBytes or Options.MaxAge. [OpenFile] appends entries to one
// local file and fsyncs it. [Open] takes a location string, as a program's
// --quarantine flag gives it: s3://bucket/prefix, a directory, or a file.
//
// # Delivery
//
// A quarantined record counts as handled (its source may delete it) only
// once its entry is durable: the object holding it was stored, or the file
// was fsynced. [Writer.Quarantine] takes a record over and settles it then:
// with nil once durable, or with an [*Error] when the store failed, so that
// the source keeps the record redeliverable. [Writer.Put] is the same as a
// [lakerelay.Quarantine] func: it returns only once the entry is durable.
// An entry is never reported durable before it is, so a crash (kill -9) at
// any moment loses no acknowledged record; entries not yet durable then are
// redelivered by their source and quarantined again (duplicates are
// possible, losses are not).
//
// # Concurrency
//
// A Writer is safe for concurrent use. One goroutine, started by the
// constructor and stopped by Close, writes the batches, one at a time.
package quarantine

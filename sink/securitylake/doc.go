// Package securitylake delivers OCSF events to an Amazon Security Lake custom
// source: zstd Parquet objects, one OCSF class per source, under
//
//	{source location}/region=<region>/accountId=<account>/eventDay=<yyyyMMdd>/<time>-<uuidv7>.parquet
//
// where the source location is given exactly as Security Lake reports it
// ("s3://aws-security-data-lake-…/ext/<source>/", possibly with a version
// segment such as ".../ext/<source>/1.0/"). It is a subpackage of sink so
// that users of the JSONL sinks do not compile Arrow and Parquet.
//
// A [Sink] is a [lakerelay.Sink] and a [lakerelay.Partitioner]; put a
// [batch.Batcher] in front of it, configured with [BatchOptions]:
//
//	s, _ := securitylake.New(store, "s3://aws-security-data-lake-us-east-1-x/ext/myapp/1.0/", 6003,
//		func(o *securitylake.Options) { o.Quarantine = q })
//	b, _ := batch.New(s, securitylake.BatchOptions)
//	for each record r:
//		p, err := s.Partition(r)   // err: quarantine r
//		b.Add(ctx, p, r)           // acknowledged once its object is stored
//
// The partition comes from each event's cloud.region and cloud.account.uid
// (or [Options.Region] / [Options.AccountID]) and the UTC day of its time
// (read by [ocsf.EventTime]: epoch milliseconds, or an RFC 3339 string).
// Rows are sorted by time within each object. Lint checks an existing
// location against the same rules.
//
// # Conversion
//
// JSON events become Arrow data through a scanner that fills the builders of
// any *arrow.Schema directly, following the conventions of package ocsf:
// integers, floats and booleans from JSON numbers and literals; timestamp
// columns, and the int64 time column, in the forms [ocsf.EventTime] reads
// (RFC 3339 strings or epoch milliseconds); utf8 columns take a
// string's contents, or the compact JSON text of any other value (json_t,
// free-form objects); structs from objects, lists from arrays; null or
// absent fields are null. Object keys match column names exactly, else
// ignoring ASCII case. Fields of an event that the schema has no column for
// are not dropped silently: they are merged, as JSON keyed by their path
// ("actor.user.mfa", "resources[1].zone"), into the top-level utf8
// "unmapped" column (next to the event's own unmapped members). An event
// that does not fit (a type mismatch, an integer out of range, a duplicate
// key, invalid JSON or UTF-8, an unknown field without an unmapped column)
// is reported with a [*FieldError] naming the field path. For a schema
// without an unmapped column (a tag-format schema, typically) the user may
// opt in to Options.DropUnknownFields: such fields are then left out of the
// stored event, counted in [Sink.Stats] and reported by path (never by
// value) to Options.OnDroppedField, instead of rejecting the event.
//
// # Parquet
//
// Objects are Parquet 2.6 with V1 data pages, PLAIN encoding (no dictionary
// or delta encodings, which some engines mishandle and which do not pay off
// against zstd on OCSF data), zstd on every column chunk, timestamps as
// TIMESTAMP(MILLIS, UTC): what Athena, Glue and DuckDB read. Statistics are
// written for every column, including those inside lists (arrow-go before
// v18.9.0 recorded min > max there for chunks without values, which DuckDB
// refuses; [Lint] reports such files, written earlier or by other tools, as
// CodeStatistics).
// Data pages stay well under [MaxDataPageBytes] uncompressed; no row group
// exceeds [Options.RowGroupBytes] compressed (at most [MaxRowGroupBytes]):
// record batches are written in slices, and a row group is closed before a
// slice would take its estimated compressed size beyond about 80% of the
// bound (the estimate learns from each closed row group).
//
// # Delivery
//
// [Sink.WriteBatch] streams one object to the store through a pipe while it
// converts, and returns nil only after the store acknowledged the object.
// On any error the upload is aborted, so no partial object is ever visible
// (see sink.Store), and the error says which object failed; store errors
// keep their classification ([lakerelay.Permanent] for access denied, a
// missing bucket, bad credentials), so a batcher retries only what can
// succeed and then negatively acknowledges the batch's records, which stay
// redeliverable.
//
// # Errors
//
// [Sink.Partition] rejects an event that is not a JSON object, lacks
// class_uid or time, is of another class than the sink's (wrapping
// [ErrClass]), or has no usable region or account; the error is a
// [*RecordError] wrapping [lakerelay.ErrInvalidRecord] and naming the
// record's origin. WriteBatch checks every event again, fully, and hands
// misfits to [Options.Quarantine] after the object is stored (without a
// quarantine, a misfit fails the whole batch with a permanent error). When
// the quarantine fails, WriteBatch fails too, so nothing is acknowledged
// that was not set aside.
//
// # Concurrency
//
// A Sink is safe for concurrent use; each WriteBatch converts on its own
// goroutine and the object's upload runs on one more.
//
// # Performance
//
// Conversion does not allocate per value, and the converted columns are not
// copied: each chunk's Arrow record batch is built on the converter's own
// buffers, which the next chunk reuses. Memory per WriteBatch is the
// Arrow data of one chunk ([Options.ChunkBytes] of input) plus the
// compressed row group being built; the batch itself is held by the
// batcher ([batch.Limits.MaxPendingBytes]). BENCHMARKS.md compares the
// throughput with arrow-go's generic JSON reader and the Parquet writer
// alone.
//
// Importing this package replaces arrow-go's zstd codec, in arrow-go's
// process-wide codec registry, with one that compresses the same bytes but
// keeps up to eight encoders per level between pages (arrow-go's are made
// anew after garbage collections: 18 MiB of fresh memory each, 4 MiB for
// the kept ones, whose window is the 1 MiB a page can use). Every Parquet
// writer of the program uses it from then on.
package securitylake

// Package source reads security records from S3 objects and local files:
// objects announced by S3 event notifications through SQS ([NewSQS]), every
// object under a bucket prefix ([NewList]), files and directories
// ([NewDir]) and single streams such as standard input ([NewReader]). Each
// is a [lakerelay.Source].
//
// Objects are decompressed by their magic bytes, whatever their name or
// Content-Type says: gzip (including files of several gzip members), zstd,
// or none. They are split into records by a stream type ([DecodeOptions]):
// lines, newline-delimited or concatenated JSON, one JSON document, the
// elements of a JSON array, the elements of an array field such as
// CloudTrail's "Records", or CloudWatch Logs subscription data as Amazon
// Data Firehose writes it; [Auto] chooses from the first bytes. JSON records
// are validated and compacted (pretty-printed input becomes one line).
// [DecodeNotification] decodes SQS message bodies: S3 event notifications,
// the same inside SNS envelopes, EventBridge events, CloudTrail's SNS notice,
// CrowdStrike Falcon Data Replicator's notice and s3:TestEvent.
//
// # Presets
//
// A [Preset] says how to read one vendor's logs: stream type, fields to
// expand and the tags every record carries in its origin (log type in
// msg_class style such as "generic_s3_crowdstrike_log", vendor, category).
// [Presets] lists AWS CloudTrail, CrowdStrike Falcon Data Replicator,
// Proofpoint TAP, Teleport and generic JSON; apply one with its SQS, List or
// Dir method (source.NewSQS(s3c, sqsc, url, source.PresetCrowdStrikeFDR.SQS)).
//
// # Delivery
//
// The SQS source delivers at least once. It deletes a message only when every
// object the message names was read to its end and every record from them was
// acknowledged with nil. A negative acknowledgement, a fetch error (403, 404,
// 5xx after the SDK's retries), a decode error or a failed quarantine leaves
// the message in the queue: it becomes visible again when its visibility
// timeout runs out and, after the queue's maxReceiveCount, moves to its
// dead-letter queue. While records of a message are in flight the source
// extends the message's visibility; on Close, messages abandoned half way are
// made visible again at once. Duplicates are possible (a message whose
// object failed half way is read again from the start); losses are not.
//
// Invalid records inside an otherwise good object (a line of NDJSON that is
// not JSON, an invalid JSON document) go to the Quarantine handler with the
// reason, are counted, and count as settled; the rest of the object flows.
// Without a quarantine, an invalid record fails its object.
//
// [Reader], [Dir] and [List] hand out records with a nil Ack: they keep no
// state, so a crash means reading again. With [DecodeOptions.ReuseData]
// every source's records have an Ack that also lets the source reuse the
// record's memory.
//
// # Errors
//
// Failures of one object are *[ObjectError] values naming the bucket, the key
// (or file), the byte offset in the decompressed object and, for a single
// record, its index. They wrap the cause: [ErrNotFound] for a missing object,
// lakerelay.ErrTooLarge for a record beyond DecodeOptions.MaxRecordSize or an
// object beyond DecodeOptions.MaxObjectSize, lakerelay.ErrInvalidRecord for
// invalid input, and the SDK's error (reachable with errors.As, e.g.
// smithy.APIError) for fetch failures. Message bodies that are no known
// notification are errors wrapping [ErrInvalidNotification]. The SQS source
// reports failures to SQSOptions.OnError and counts them in [Stats]; record
// contents never appear in errors.
//
// A queue error that waiting cannot heal (the queue does not exist, access
// denied, invalid credentials or signature, an invalid queue URL, other
// client errors) ends the SQS source: Read returns it wrapped with
// lakerelay.Permanent, naming the queue URL and what to check, and [SQS.Err]
// reports it. Throttling, server (5xx) and network errors are reported and
// retried with backoff, without end.
//
// # Logs
//
// SQSOptions, ListOptions and DirOptions take a *slog.Logger (nil logs
// nothing). Every line carries the attribute source (the Name option) and
// uses attributes, not formatted text: queue_url, bucket, prefix, key,
// version_id, message_id, records, class (a lakerelay.Class* value) and
// error.
//
//   - Info: a source started (queue URL, or bucket and prefix, or path; the
//     archive location) and stopped or reached its end, with its counts.
//   - Error: the permanent error that ended the SQS source.
//   - Warn: every failure that leaves a message or object to be read
//     again — the errors that reach SQSOptions.OnError (a failed object,
//     an undecodable body, a negative acknowledgement, a failed archive
//     copy, a failed delete or visibility change, a receive error with the
//     backoff before the next try), the errors List and Dir return from
//     Read, and SQS messages set aside past MaxReceiveCount.
//   - Debug: per message and object: message received (with its receive
//     count), object archived, object read (with its record count), record
//     quarantined (bucket, key, index, offset, class), message deleted.
//
// Record contents are never logged, at any level: lines name objects and
// messages by bucket, key and message id. Credentials never appear.
//
// # Metrics
//
// SQSOptions, ListOptions and DirOptions take a lakerelay.Observer (nil
// observes nothing, see the metrics package for a Prometheus registry and an
// OpenTelemetry adapter) and a Name, the Source label (default "sqs",
// "list", "dir"). The sources report, under the lakerelay.Metric* names:
//
//   - MetricRecordsIn and MetricBytesIn (the records' decoded bytes), by
//     LogType: records handed out by Read. They are counted per object and
//     reported every 1024 records and when the object ends, not per record.
//   - MetricQuarantined, by LogType and Class: invalid records the source
//     handed to its Quarantine (ClassInvalid), messages set aside past
//     MaxReceiveCount (ClassMaxReceive).
//   - MetricErrors, by Class: every failure counted in Stats.Errors, plus
//     failed attempts of SQS batch calls that were retried. Classes: a record
//     or object beyond a size limit ClassTooLarge, invalid input
//     ClassInvalid, an object or message body that cannot be decoded
//     ClassDecode, a message past MaxReceiveCount ClassMaxReceive, AWS errors
//     by kind (denied, missing bucket, object or queue, rejected credentials,
//     wrong region: ClassAccess; ClassThrottled; network and 5xx:
//     ClassTransient), else ClassOther (a negative acknowledgement whose
//     error tells nothing more, for example).
//   - SQS only: MetricSQSReceived, MetricSQSDeleted, MetricSQSRedelivered
//     (ApproximateReceiveCount above 1), MetricSQSVisibilityExtended (per
//     message extended), and the gauge MetricSQSLag: now − SentTimestamp of
//     the oldest message in flight, updated at every visibility check
//     (every quarter of the visibility timeout, at most every 250ms) and
//     set to 0 as soon as no message is in flight.
//   - MetricSourceUp: 1 from the start; the SQS source sets 0 when it ends
//     with a permanent error (SQS.Err), a List while its listing fails with
//     an error that waiting cannot heal (denied, missing bucket), and 1 again
//     once a listing succeeds.
//
// # Archive
//
// An [Archive] in SQSOptions.Archive or ListOptions.Archive keeps a raw
// copy of every selected object — the stored bytes, still compressed — at
// {prefix}/{bucket}/{key} of an archive location, as Panther's raw data
// backup or Filebeat's backup_to_bucket do. The copy is made before the
// object is read, so it exists before its SQS message is deleted; a failed
// copy fails the object like a failed fetch (an *[ObjectError] naming the
// bucket and key, wrapping [ErrArchive] and the cause, reported to OnError,
// logged at Warn and counted in MetricErrors): its message stays in the
// queue, and a List's Read returns the error with none of its records.
// [NewS3Archive] copies server-side within S3 (CopyObject, or UploadPartCopy
// parts beyond 5 GiB); [NewArchive] streams each object to any sink.Store,
// such as a directory. Archive keys are validated with the partition
// package.
//
// # Concurrency
//
// Every source is safe for concurrent use; Read may be called from several
// goroutines. Each record's Data is its own slice, never reused (unless
// [DecodeOptions.ReuseData] allows it once the record is settled). Ack
// functions may be called from any goroutine and do not block.
//
// # Performance
//
// Decoding streams: memory per object is bounded by a buffer of about the
// largest record (MaxRecordSize, 1 MiB by default; CloudWatch Logs documents
// up to 8 times that), whatever the object's size, plus, for a compressed
// object longer than 256 KiB, up to 1.25 MiB of decompressed bytes that a
// goroutine of its own reads ahead of the splitting; an array field is never
// held whole (a 1 GiB gzip object is read through the SQS source with a peak
// heap under 16 MiB). Buffers (the decoder's, the read-ahead's, the
// decompressor's input) and gzip readers come from pools shared by all
// objects and go back once nothing reads them, and an object that fits in
// the first 256 KiB is read without a goroutine: many small objects cost
// about what decompressing them costs (an 8.5 KiB gzip object, 23-28 µs).
// [Dir] and [List] decode the small objects after the current one ahead of
// Read on other goroutines (DirOptions.ReadAhead, ListOptions.ReadAhead),
// so a directory of many small files uses every core, and a backfill of
// many small objects waits for 16 GetObject calls at once instead of one;
// records still come in key order. 400 objects of 8 KiB on MinIO: 2 times
// faster; with 20 ms before each GetObject's answer, as from S3, 13 times.
// JSON is validated and split by a hand-written scanner (checked against
// encoding/json by fuzzing); decompression uses klauspost/compress. Each
// record's Data is an allocation of its own, so a record held downstream
// keeps only its own bytes alive. A reader that settles records soon after
// reading them may set [DecodeOptions.ReuseData]: records are then cut from
// blocks used again once settled, which saves an allocation per record
// and a page fault per 4 KiB of fresh memory (gzip NDJSON decoded in
// memory: 0.41-0.66 of the primitive's speed without it, 0.85-0.88 with
// it; collect --dir about a fifth faster).
package source

// Package sink writes batches of records as objects: newline-delimited JSON,
// compressed with gzip (default), zstd or not at all, under a key layout from
// package partition, to an S3 bucket or a local directory.
//
// The pieces:
//
//   - [Store]: the small seam every destination implements. [S3Store]
//     (streaming multipart uploads through feature/s3/transfermanager, canned ACL,
//     SSE-S3 / SSE-KMS, storage class, tags, expected bucket owner, retries
//     with backoff) and [DirStore] (atomic temp-file-and-rename writes) pass
//     the same conformance suite.
//   - [JSONL]: a [lakerelay.Sink] and [lakerelay.Partitioner] that turns
//     each batch into one object named partition + [partition.ObjectName].
//     Layout fields may come from each record's top-level fields
//     (JSONLOptions.RecordFields: {event_type} of the vendor layout,
//     {stream_name} of the connector layout), so one sink serves many event
//     types or streams.
//   - [CheckConnection]: writes and removes a small test object and tells
//     what is wrong when it cannot.
//
// A pipeline: a source hands out records, the batcher (package batch)
// groups them by [JSONL.Partition] and calls [JSONL.WriteBatch] per batch,
// and acknowledges the records when it returns nil.
//
// # Delivery
//
// [Store.Put] and [JSONL.WriteBatch] return nil only when the object is
// durable: S3 acknowledged the PutObject or CompleteMultipartUpload, or the
// file was synced and renamed into place. On error nothing is visible under
// the key (failed multipart uploads are aborted, also when ctx ended; a
// temporary file is removed) and the caller negatively acknowledges or
// retries. Every write uses a new unique name, so a retry never overwrites,
// and a write that failed after S3 stored it can at worst appear twice: at
// least once, never lost.
//
// # Errors
//
// Store errors are *[StoreError] values naming the operation, bucket and key
// ("sink: put s3://bucket/key: ..."), wrapping the original cause, so
// errors.As(err, &smithy.APIError) works. A missing object wraps
// [ErrNotFound]. Causes that retrying cannot fix (access denied, missing
// bucket, bad credentials, invalid key) are marked with
// [lakerelay.Permanent], so the batcher does not retry them. [ProblemOf]
// tells which kind of failure an error is; [ConnectionError] adds what to
// check.
//
// # Concurrency
//
// Stores and JSONL sinks are safe for concurrent use; any number of writers,
// in one process or on many machines, can share a prefix because object
// names never collide.
//
// # Performance
//
// Objects are streamed: a JSONL write encodes records as the store reads
// them, holding a compressor window and at most 256 KiB of compressed
// output; an S3 Put holds at most (Concurrency+2) × PartSize bytes
// (32 MiB by default) however large the object. JSON validation of each
// record runs at well over 1 GB/s, so the sink reaches about 0.8× the
// speed of bare gzip on the same bytes.
package sink

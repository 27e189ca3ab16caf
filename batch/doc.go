// Package batch groups records by partition and writes each group to a
// [lakerelay.Sink] as one batch.
//
// A [Batcher] keeps one open batch per partition key. It flushes a batch, by
// calling Sink.WriteBatch with its records, as soon as the first of its
// [Limits] is reached:
//
//   - MaxRecords records are in the batch;
//   - MaxBytes bytes of record data (the sum of len(Record.Data)) are in the
//     batch, or the next record would take it beyond;
//   - MaxAge has passed since the batch's oldest record was added (the
//     publish rate).
//
// No batch ever exceeds MaxRecords or MaxBytes: a record whose own data is
// larger than MaxBytes is refused by [Batcher.Add]. Above all partitions,
// MaxPendingBytes bounds the memory of every record held, including batches
// being flushed or retried; beyond it Add blocks.
//
//	b, err := batch.New(sink, func(o *batch.Options) {
//		o.MaxRecords = 10_000
//		o.MaxAge = time.Minute
//	})
//	...
//	if err := b.Add(ctx, partition, rec); err != nil {
//		// not taken: quarantine (ErrTooLarge) or nack (ErrClosed, ctx)
//	}
//	...
//	err = b.Close(ctx) // flushes the rest
//
// # Pipeline
//
// [Run] is the loop every program needs, the io.Copy of this module: it
// reads a [lakerelay.Source] until it ends or ctx ends, partitions each
// record with a [lakerelay.Partitioner], adds it to a Batcher, hands what
// cannot be batched to a [Quarantiner], settles what was not taken, closes
// the Batcher within a shutdown deadline (RunOptions.ShutdownTimeout,
// default 25 s) even after ctx ended, and returns the run's [Totals].
//
//	totals, err := batch.Run(ctx, src, b, partitioner, func(o *batch.RunOptions) {
//		o.Quarantine = q // a *quarantine.Writer
//	})
//
// # Delivery
//
// The batcher settles every record it took exactly once, never before the
// outcome of the batch holding it is known:
//
//   - with nil (ack) only after Sink.WriteBatch returned nil for that batch;
//   - with a [*FlushError] (nack) once the flush failed for good: a
//     permanent error ([lakerelay.IsPermanent]), retries exhausted
//     (Options.MaxRetries), or [Batcher.Close] gave up when its ctx ended.
//
// Failed flushes are retried with exponential backoff and jitter
// (Options.RetryBackoff doubling up to Options.MaxRetryBackoff). Every
// attempt passes the same records in the same order, so a sink that stored a
// batch but reported an error may store it twice. A sink that wants retries
// to overwrite rather than duplicate can derive its object key from the
// batch itself (for example from the first record's Origin); otherwise
// duplicates are possible, losses are not.
//
// Add takes a record only when it returns nil. Otherwise the caller still
// owns the record and must settle it: an error wrapping
// [lakerelay.ErrTooLarge] means it can never be batched (quarantine it);
// [lakerelay.ErrClosed] or a ctx error means it was not admitted (nack it,
// or hand it elsewhere). Records are never dropped: memory pressure blocks
// Add instead.
//
// [Batcher.Close] flushes every open batch and waits. If its ctx ends first,
// it cancels the WriteBatch calls in progress and nacks every record not yet
// stored with an error wrapping ctx's cause, so nothing is left unsettled.
//
// # Errors
//
// [New] returns the problems found by [Options.Validate], joined: each is a
// [*FieldError] whose Field names the offending field ("Limits.MaxBytes",
// "Options.FlushConcurrency") and which wraps [ErrInvalidOptions]. Tests and
// callers check errors.Is(err, ErrInvalidOptions) and inspect the fields
// with errors.As or by unwrapping the joined error; the messages read
// "batch: Limits.MaxBytes: must be > 0 (got 0)".
//
// Add returns an error wrapping [lakerelay.ErrTooLarge] (and so
// [lakerelay.IsPermanent]) for an oversized record, [lakerelay.ErrClosed]
// after Close, or ctx's error. Records that failed to flush are nacked with
// a [*FlushError] naming the partition, record count and attempts, wrapping
// the sink's error (errors.Is/As reach it); Flush and Close return those
// errors joined. No error message contains record data.
//
// # Concurrency
//
// All methods of a Batcher are safe for concurrent use; Add may be called
// from any number of goroutines. Records of one partition are written in
// the order their Adds were admitted; Adds blocked on memory are admitted
// first come, first served. With Options.FlushConcurrency > 1,
// batches (also of the same partition) may be written concurrently and
// complete out of order. Ack functions and Options.OnFlush are called from
// the batcher's flush goroutines and must not block for long.
//
// New starts Options.FlushConcurrency goroutines; each open batch has a
// timer on Options.Clock. Close stops the timers and waits for the
// goroutines to exit, so a closed Batcher leaves nothing running. A Batcher
// that is never closed keeps its goroutines.
//
// # Performance
//
// Add is a mutex-protected append plus, once per batch, a timer; batch
// storage is reused between batches (sinks must not retain the slice, as the
// [lakerelay.Sink] contract says). Record data is never copied. Memory is
// bounded by Limits.MaxPendingBytes, charging each record len(Data) plus
// [RecordOverhead]; when Add has to wait and the open batches alone hold too
// much, the largest are flushed early (FlushResult.Reason [ReasonMemory])
// instead of waiting for their MaxAge. BENCHMARKS.md lists the throughput
// of 1 KiB records through a no-op sink beside a bare slice append.
package batch

package batch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/awserr"
	"github.com/lakerelay/lakerelay/internal/telemetry"
)

// FlushReason says why a batch was flushed.
type FlushReason string

// The reasons a batch is flushed.
const (
	// ReasonRecords: the batch reached Limits.MaxRecords.
	ReasonRecords FlushReason = "records"
	// ReasonBytes: the batch reached Limits.MaxBytes, or the next record of
	// its partition would have taken it beyond.
	ReasonBytes FlushReason = "bytes"
	// ReasonAge: the batch's oldest record reached Limits.MaxAge.
	ReasonAge FlushReason = "age"
	// ReasonMemory: an Add waited for Limits.MaxPendingBytes and open
	// batches had to be flushed early to make room.
	ReasonMemory FlushReason = "memory"
	// ReasonFlush: Batcher.Flush was called.
	ReasonFlush FlushReason = "flush"
	// ReasonClose: Batcher.Close was called.
	ReasonClose FlushReason = "close"
)

// FlushResult describes one flushed batch; see [Options.OnFlush].
type FlushResult struct {
	// Partition is the partition key of every record in the batch.
	Partition string
	// Records is the number of records in the batch.
	Records int
	// Bytes is the sum of len(Record.Data) over the batch.
	Bytes int64
	// Attempts is the number of calls to Sink.WriteBatch (0 when the batch
	// was abandoned by Close before its first attempt).
	Attempts int
	// Reason says why the batch was flushed.
	Reason FlushReason
	// Err is nil when the sink stored the batch (its records were
	// acknowledged), otherwise the [*FlushError] its records were
	// negatively acknowledged with.
	Err error
	// Duration is the time from the first attempt to the outcome,
	// including retry backoff.
	Duration time.Duration
}

// FlushError is the error the records of a batch are negatively acknowledged
// with when the batch could not be stored: after its retries were exhausted,
// on a permanent error, or when [Batcher.Close] gave up. Err is the sink's
// last error, or the cause Close gave up with (wrapping the sink's last error
// when there was one); errors.Is and errors.As see through it.
type FlushError struct {
	Partition string
	Records   int
	Attempts  int
	Err       error
}

// Error names the partition, the batch size and the number of attempts.
// It never includes record contents.
func (e *FlushError) Error() string {
	return fmt.Sprintf("batch: flush partition %q (%d records, %d attempts): %v", e.Partition, e.Records, e.Attempts, e.Err)
}

// Unwrap returns Err.
func (e *FlushError) Unwrap() error { return e.Err }

// Stats is a snapshot of a [Batcher]'s state and counters.
type Stats struct {
	// PendingBytes is the memory charged for all records held (open
	// batches, queued and in-flight flushes): len(Data)+RecordOverhead per
	// record. It never exceeds Limits.MaxPendingBytes, except by a single
	// record admitted into an otherwise empty batcher.
	PendingBytes int64
	// PendingRecords is the number of records held and not yet settled.
	PendingRecords int
	// OpenBatches is the number of partitions with an open batch.
	OpenBatches int
	// FlushingBatches is the number of batches queued for or in a flush.
	FlushingBatches int
	// WaitingAdds is the number of Add calls blocked on MaxPendingBytes now.
	WaitingAdds int
	// BlockedAdds counts Add calls that had to wait for memory.
	BlockedAdds int64
	// Batches counts batches stored by the sink; FailedBatches those whose
	// records were negatively acknowledged.
	Batches, FailedBatches int64
	// Acked and Nacked count records settled with nil and with an error.
	Acked, Nacked int64
	// Retries counts WriteBatch attempts after a batch's first.
	Retries int64
}

// Batcher groups records by partition and writes each group to a
// [lakerelay.Sink] as one batch once a limit is reached. See the package
// documentation for the contract. A Batcher is safe for concurrent use; it
// must be closed with [Batcher.Close] to stop its goroutines.
type Batcher struct {
	sink  lakerelay.Sink
	opts  Options
	clock Clock
	log   *slog.Logger
	obs   lakerelay.Observer

	// runCtx is passed to Sink.WriteBatch; Close cancels it (with the
	// cause its own ctx ended with) when it gives up waiting.
	runCtx    context.Context
	cancelRun context.CancelCauseFunc
	workers   sync.WaitGroup
	// spare holds the record slices of settled batches for new ones (b.mu
	// held), at most spareRecords records of capacity in all; slices lets
	// the others be reused too until a garbage collection takes them. A
	// sync.Pool alone loses them at every second collection, which a busy
	// batcher triggers every few batches: each new batch then grew its
	// slice from scratch, copying it several times into fresh memory.
	spare [][]lakerelay.Record
	// spareCap is the capacity held in spare, in records.
	spareCap int
	slices   sync.Pool // *[]lakerelay.Record

	mu         sync.Mutex
	work       *sync.Cond // signals workers; uses mu
	open       map[string]*batch
	openCharge int64               // part of pending held by open batches
	pending    int64               // charge of all unsettled records
	queue      []*batch            // sealed batches no worker took yet
	flushing   map[*batch]struct{} // sealed and not yet settled
	memFreed   chan struct{}       // closed when memory is freed; nil if nobody waits
	waiters    []*waiter           // Adds waiting for memory, in arrival order
	closed     bool                // no more Add/Flush
	stopping   bool                // workers exit once the queue is empty
	closeDone  chan struct{}
	closeErr   error
	stats      Stats
}

// waiter identifies an Add queued for memory.
type waiter struct{ _ byte }

type batch struct {
	partition string
	records   []lakerelay.Record
	bytes     int64
	charge    int64
	timer     Timer
	reason    FlushReason
	err       error         // outcome; written before done is closed
	done      chan struct{} // closed once every record was settled
}

// New returns a Batcher writing to sink. The option functions are applied in
// order to [Options] preset with the defaults; the result is validated with
// [Options.Validate]. New starts Options.FlushConcurrency goroutines, which
// [Batcher.Close] stops.
func New(sink lakerelay.Sink, opts ...func(*Options)) (*Batcher, error) {
	if sink == nil {
		return nil, fmt.Errorf("batch: New: sink must not be nil: %w", ErrInvalidOptions)
	}
	o := defaultOptions()
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	tel := telemetry.New(o.Logger, o.Observer, o.Name, DefaultName)
	o.Name = tel.Name
	b := &Batcher{
		sink:      sink,
		opts:      o,
		clock:     o.Clock,
		log:       tel.Log,
		obs:       tel.Obs,
		open:      make(map[string]*batch),
		flushing:  make(map[*batch]struct{}),
		closeDone: make(chan struct{}),
	}
	b.work = sync.NewCond(&b.mu)
	b.runCtx, b.cancelRun = context.WithCancelCause(context.Background())
	b.workers.Add(o.FlushConcurrency)
	for range o.FlushConcurrency {
		go b.worker()
	}
	b.log.Info("batcher started", "max_records", o.MaxRecords, "max_bytes", o.MaxBytes, "max_age", o.MaxAge,
		"max_pending_bytes", o.MaxPendingBytes, "max_retries", o.MaxRetries, "flush_concurrency", o.FlushConcurrency)
	return b, nil
}

// Add hands r to the batcher for the batch of partition.
//
// When Add returns nil the batcher owns r and settles it exactly once: with
// nil after Sink.WriteBatch returned nil for the batch holding it, or with a
// [*FlushError] when that batch could not be stored. When Add returns an
// error it did not take r, and the caller still owns it:
//   - an error wrapping [lakerelay.ErrTooLarge]: len(r.Data) exceeds
//     Limits.MaxBytes (the record should be quarantined);
//   - [lakerelay.ErrClosed]: Close was called;
//   - ctx's error: ctx ended before the record could be admitted.
//
// Add blocks while admitting r would take the memory held beyond
// Limits.MaxPendingBytes, until flushes free enough of it or ctx ends. Once
// an Add had to wait, later Adds queue behind it: waiting Adds are admitted
// in arrival order.
func (b *Batcher) Add(ctx context.Context, partition string, r lakerelay.Record) error {
	size := int64(len(r.Data))
	if size > b.opts.MaxBytes {
		return fmt.Errorf("batch: record %s: %d bytes exceed Limits.MaxBytes (%d): %w",
			r.Origin, size, b.opts.MaxBytes, lakerelay.ErrTooLarge)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	charge := size + RecordOverhead

	b.mu.Lock()
	var w *waiter // set while this Add is queued for memory
	for {
		if b.closed {
			b.leave(w)
			b.mu.Unlock()
			return lakerelay.ErrClosed
		}
		// Adds are admitted in arrival order once one had to wait, so a
		// large record is not starved by a stream of small ones.
		first := len(b.waiters) == 0 || (w != nil && b.waiters[0] == w)
		if first && (b.pending == 0 || b.pending+charge <= b.opts.MaxPendingBytes) {
			b.leave(w)
			break
		}
		if first {
			// Flushes in progress will free what they hold; if what stays
			// in open batches is already too much, flush some of them now
			// rather than wait for their MaxAge.
			for b.openCharge+charge > b.opts.MaxPendingBytes && len(b.open) > 0 {
				b.seal(b.largestOpen(), ReasonMemory)
			}
		}
		if w == nil {
			w = &waiter{}
			b.waiters = append(b.waiters, w)
			b.stats.BlockedAdds++
		}
		if b.memFreed == nil {
			b.memFreed = make(chan struct{})
		}
		freed := b.memFreed
		b.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
		}
		b.mu.Lock()
		if err := ctx.Err(); err != nil {
			b.leave(w)
			b.mu.Unlock()
			return err
		}
	}

	bt := b.open[partition]
	if bt != nil && bt.bytes+size > b.opts.MaxBytes {
		b.seal(bt, ReasonBytes)
		bt = nil
	}
	if bt == nil {
		bt = b.newBatch(partition)
	}
	bt.records = append(bt.records, r)
	bt.bytes += size
	bt.charge += charge
	b.openCharge += charge
	b.pending += charge
	b.stats.PendingRecords++
	switch {
	case len(bt.records) >= b.opts.MaxRecords:
		b.seal(bt, ReasonRecords)
	case bt.bytes >= b.opts.MaxBytes:
		b.seal(bt, ReasonBytes)
	}
	b.mu.Unlock()
	return nil
}

// Flush starts flushing every open batch and waits until those and every
// batch already being flushed are settled, or ctx ends. It returns the
// [*FlushError]s of the batches that failed, joined, or ctx's error; when ctx
// ends, the flushes go on and their records are still settled. After Close
// it returns [lakerelay.ErrClosed].
func (b *Batcher) Flush(ctx context.Context) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return lakerelay.ErrClosed
	}
	b.sealAll(ReasonFlush)
	waiting := b.flushingBatches()
	b.mu.Unlock()
	if err := waitBatches(ctx, waiting); err != nil {
		return err
	}
	return batchErrors(waiting)
}

// Close stops taking records (Add then returns [lakerelay.ErrClosed], also
// for Adds blocked on memory), flushes every open batch, waits for all
// flushes and stops the batcher's goroutines and timers.
//
// If ctx ends first, Close cancels the flushes in progress (the context
// passed to Sink.WriteBatch is cancelled with ctx's cause) and negatively
// acknowledges every record not yet stored with an error wrapping that
// cause; it then waits for the WriteBatch calls in progress to return, which
// sinks honouring their ctx do promptly. No record is left unsettled.
//
// Close returns the joined [*FlushError]s of the batches it flushed or
// abandoned (and ctx's error if ctx ended), or nil. It is idempotent: later
// calls wait for the first to finish and return its result.
func (b *Batcher) Close(ctx context.Context) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		select {
		case <-b.closeDone:
			return b.closeErr
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	b.closed = true
	b.sealAll(ReasonClose)
	waiting := b.flushingBatches()
	b.notifyFreed() // blocked Adds return ErrClosed
	b.mu.Unlock()

	ctxErr := waitBatches(ctx, waiting)
	if ctxErr != nil {
		b.cancelRun(context.Cause(ctx))
	}
	b.mu.Lock()
	b.stopping = true
	b.work.Broadcast()
	b.mu.Unlock()
	b.workers.Wait()
	b.cancelRun(lakerelay.ErrClosed)

	b.closeErr = errors.Join(ctxErr, batchErrors(waiting))
	st := b.Stats()
	if b.closeErr != nil {
		b.log.Error("batcher closed with failures", "batches", st.Batches, "failed_batches", st.FailedBatches,
			"acked", st.Acked, "nacked", st.Nacked, "retries", st.Retries, "error", b.closeErr)
	} else {
		b.log.Info("batcher closed", "batches", st.Batches, "failed_batches", st.FailedBatches,
			"acked", st.Acked, "nacked", st.Nacked, "retries", st.Retries)
	}
	close(b.closeDone)
	return b.closeErr
}

// Stats returns a snapshot of the batcher's state and counters.
func (b *Batcher) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.stats
	s.PendingBytes = b.pending
	s.OpenBatches = len(b.open)
	s.FlushingBatches = len(b.flushing)
	s.WaitingAdds = len(b.waiters)
	return s
}

// spareRecords bounds the capacity, in records, of the slices a Batcher
// keeps for new batches: 8 MiB of [lakerelay.Record] headers. What it keeps
// is memory the pending limit does not count, so it stays small beside the
// batches themselves.
const spareRecords = 8 << 20 / int(unsafe.Sizeof(lakerelay.Record{}))

// newBatch opens a batch for partition and starts its age timer. b.mu held.
func (b *Batcher) newBatch(partition string) *batch {
	bt := &batch{partition: partition, done: make(chan struct{})}
	if n := len(b.spare); n > 0 {
		bt.records = b.spare[n-1]
		b.spare[n-1] = nil
		b.spare = b.spare[:n-1]
		b.spareCap -= cap(bt.records)
	} else if p, ok := b.slices.Get().(*[]lakerelay.Record); ok {
		bt.records = *p
	} else {
		bt.records = make([]lakerelay.Record, 0, min(b.opts.MaxRecords, 256))
	}
	b.open[partition] = bt
	bt.timer = b.clock.AfterFunc(b.opts.MaxAge, func() { b.expire(bt) })
	return bt
}

// expire is bt's age timer callback.
func (b *Batcher) expire(bt *batch) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.open[bt.partition] == bt {
		b.seal(bt, ReasonAge)
	}
}

// seal moves the open batch bt to the flush queue. b.mu held.
func (b *Batcher) seal(bt *batch, reason FlushReason) {
	delete(b.open, bt.partition)
	bt.timer.Stop()
	bt.reason = reason
	b.openCharge -= bt.charge
	b.queue = append(b.queue, bt)
	b.flushing[bt] = struct{}{}
	b.work.Signal()
}

// sealAll seals every open batch, in partition order. b.mu held.
func (b *Batcher) sealAll(reason FlushReason) {
	parts := make([]string, 0, len(b.open))
	for p := range b.open {
		parts = append(parts, p)
	}
	slices.Sort(parts)
	for _, p := range parts {
		b.seal(b.open[p], reason)
	}
}

// largestOpen returns the open batch holding the most memory. b.mu held,
// b.open not empty.
func (b *Batcher) largestOpen() *batch {
	var largest *batch
	for _, bt := range b.open {
		if largest == nil || bt.charge > largest.charge {
			largest = bt
		}
	}
	return largest
}

// flushingBatches lists the batches sealed and not yet settled. b.mu held.
func (b *Batcher) flushingBatches() []*batch {
	list := make([]*batch, 0, len(b.flushing))
	for bt := range b.flushing {
		list = append(list, bt)
	}
	return list
}

// leave removes w (nil: not queued) from the Adds waiting for memory and,
// if it was first, lets the next one check whether it fits. b.mu held.
func (b *Batcher) leave(w *waiter) {
	if w == nil {
		return
	}
	i := slices.Index(b.waiters, w)
	if i < 0 {
		return
	}
	b.waiters = slices.Delete(b.waiters, i, i+1)
	if i == 0 {
		b.notifyFreed()
	}
}

// notifyFreed wakes the Adds waiting for memory. b.mu held.
func (b *Batcher) notifyFreed() {
	if b.memFreed != nil {
		close(b.memFreed)
		b.memFreed = nil
	}
}

func (b *Batcher) worker() {
	defer b.workers.Done()
	for {
		b.mu.Lock()
		for len(b.queue) == 0 && !b.stopping {
			b.work.Wait()
		}
		if len(b.queue) == 0 {
			b.mu.Unlock()
			return
		}
		bt := b.queue[0]
		b.queue[0] = nil
		b.queue = b.queue[1:]
		b.mu.Unlock()
		b.flush(bt)
	}
}

// flush writes bt with retries, settles its records and releases its memory.
func (b *Batcher) flush(bt *batch) {
	start := b.clock.Now()
	attempts := 0
	var err error
	if b.runCtx.Err() != nil {
		err = context.Cause(b.runCtx)
	}
	for err == nil {
		attempts++
		err = b.sink.WriteBatch(b.runCtx, bt.partition, bt.records)
		if err != nil {
			b.obs.Count(lakerelay.MetricErrors, 1, lakerelay.Labels{Source: b.opts.Name, Class: awserr.ProblemClass(err)})
		}
		if err == nil || lakerelay.IsPermanent(err) {
			break
		}
		if b.runCtx.Err() != nil {
			err = b.withCause(err)
			break
		}
		if attempts > b.opts.MaxRetries {
			break
		}
		wait := b.backoff(attempts)
		b.log.Warn("flush failed, will retry", "partition", bt.partition, "records", len(bt.records),
			"attempt", attempts, "max_attempts", b.opts.MaxRetries+1, "backoff", wait, "error", err)
		if !b.sleep(wait) {
			err = b.withCause(err)
			break
		}
		err = nil
	}
	var ferr error
	if err != nil {
		ferr = &FlushError{Partition: bt.partition, Records: len(bt.records), Attempts: attempts, Err: err}
	}
	for _, r := range bt.records {
		r.Settle(ferr)
	}
	res := FlushResult{
		Partition: bt.partition,
		Records:   len(bt.records),
		Bytes:     bt.bytes,
		Attempts:  attempts,
		Reason:    bt.reason,
		Err:       ferr,
		Duration:  b.clock.Now().Sub(start),
	}
	b.report(res)

	b.mu.Lock()
	b.pending -= bt.charge
	b.stats.PendingRecords -= len(bt.records)
	if attempts > 1 {
		b.stats.Retries += int64(attempts - 1)
	}
	if ferr == nil {
		b.stats.Batches++
		b.stats.Acked += int64(len(bt.records))
	} else {
		b.stats.FailedBatches++
		b.stats.Nacked += int64(len(bt.records))
	}
	delete(b.flushing, bt)
	b.notifyFreed()
	b.mu.Unlock()

	// Nothing else reaches bt now: its slice is cleared without b.mu held
	// (a large batch's takes a while), then kept for a new batch.
	clear(bt.records)
	recs := bt.records[:0]
	bt.records = nil
	b.mu.Lock()
	kept := b.spareCap+cap(recs) <= spareRecords
	if kept {
		b.spare = append(b.spare, recs)
		b.spareCap += cap(recs)
	}
	b.mu.Unlock()
	if !kept {
		b.slices.Put(&recs)
	}

	bt.err = ferr
	if b.opts.OnFlush != nil {
		b.opts.OnFlush(res)
	}
	close(bt.done)
}

// report logs and measures the outcome of a flush (its failed attempts
// were counted as they failed).
func (b *Batcher) report(res FlushResult) {
	l := lakerelay.Labels{Source: b.opts.Name}
	if res.Attempts > 1 {
		b.obs.Count(lakerelay.MetricFlushRetries, int64(res.Attempts-1), l)
	}
	if b.opts.PartitionLabel {
		l.Partition = res.Partition
	}
	b.obs.Duration(lakerelay.MetricFlushDuration, res.Duration, l)
	if res.Err != nil {
		b.log.Warn("batch nacked", "partition", res.Partition, "records", res.Records, "bytes", res.Bytes,
			"attempts", res.Attempts, "reason", string(res.Reason), "duration", res.Duration, "error", res.Err)
		return
	}
	if b.log.Enabled(context.Background(), slog.LevelDebug) {
		b.log.Debug("batch stored", "partition", res.Partition, "records", res.Records, "bytes", res.Bytes,
			"attempts", res.Attempts, "reason", string(res.Reason), "duration", res.Duration)
	}
}

// withCause adds the cause runCtx was cancelled with to err, the error of
// the attempt it interrupted.
func (b *Batcher) withCause(err error) error {
	cause := context.Cause(b.runCtx)
	if errors.Is(err, cause) {
		return err
	}
	return fmt.Errorf("%w (last attempt: %w)", cause, err)
}

// backoff returns the jittered wait after the given failed attempt (1-based).
func (b *Batcher) backoff(attempt int) time.Duration {
	d := b.opts.RetryBackoff
	for i := 1; i < attempt && d < b.opts.MaxRetryBackoff; i++ {
		d *= 2
	}
	d = min(d, b.opts.MaxRetryBackoff)
	if half := d / 2; half > 0 {
		return half + rand.N(d-half)
	}
	return d
}

// sleep waits d on the batcher's clock; false if runCtx ended first.
func (b *Batcher) sleep(d time.Duration) bool {
	fired := make(chan struct{})
	t := b.clock.AfterFunc(d, func() { close(fired) })
	select {
	case <-fired:
		return true
	case <-b.runCtx.Done():
		t.Stop()
		return false
	}
}

// waitBatches waits until every batch in list is settled or ctx ends.
func waitBatches(ctx context.Context, list []*batch) error {
	for _, bt := range list {
		select {
		case <-bt.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// batchErrors joins the errors of settled batches.
func batchErrors(list []*batch) error {
	var errs []error
	for _, bt := range list {
		if bt.err != nil {
			errs = append(errs, bt.err)
		}
	}
	return errors.Join(errs...)
}

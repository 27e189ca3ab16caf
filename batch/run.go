package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/lakerelay/lakerelay"
)

// DefaultShutdownTimeout is the default [RunOptions.ShutdownTimeout]: 25
// seconds, within the 30 seconds ECS and Kubernetes give a container between
// SIGTERM and SIGKILL.
const DefaultShutdownTimeout = 25 * time.Second

// Quarantiner sets aside records that can never be written. It is what
// [Run] hands rejected records to; *quarantine.Writer implements it, and
// [QuarantineFunc] adapts a [lakerelay.Quarantine].
type Quarantiner interface {
	// Quarantine takes r over and settles it exactly once: with nil once
	// r's entry (with reason) is durable, with an error otherwise (then r
	// stays redeliverable). It may settle r later, from another goroutine.
	Quarantine(r lakerelay.Record, reason error)
	// Flush waits until every record given to Quarantine so far is
	// settled, or ctx ends.
	Flush(ctx context.Context) error
}

// QuarantineFunc adapts a synchronous [lakerelay.Quarantine] to a
// [Quarantiner]: Quarantine calls q and settles r with its result at once.
func QuarantineFunc(q lakerelay.Quarantine) Quarantiner { return quarantineFunc(q) }

type quarantineFunc lakerelay.Quarantine

func (q quarantineFunc) Quarantine(r lakerelay.Record, reason error) { r.Settle(q(r, reason)) }
func (q quarantineFunc) Flush(context.Context) error                 { return nil }

// RunOptions configure [Run]. The zero value means defaults.
type RunOptions struct {
	// Quarantine receives the records the Partitioner rejects and those
	// too large for a batch, with the reason. nil means such records are
	// negatively acknowledged with the reason (they stay redeliverable,
	// and an SQS queue's redrive policy moves them to its DLQ).
	Quarantine Quarantiner
	// ShutdownTimeout bounds the shutdown once reading stopped: closing the
	// batcher (flushing every open batch) and flushing the quarantine, even
	// though ctx has ended. What is not stored by then is negatively
	// acknowledged. 0 means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// OnReadError, if set, is called with every error Read returns other
	// than the end of the source (io.EOF, lakerelay.ErrClosed) or ctx's:
	// returning nil goes on reading (for sources such as source.List whose
	// Read reports an object's failure and continues), returning an error
	// ends the run with it. nil means every such error ends the run.
	OnReadError func(error) error
}

// Totals count what a [Run] did. When Run returns, In = Delivered +
// Quarantined + Nacked + Unsettled.
type Totals struct {
	// In is the number of records read.
	In int64 `json:"in"`
	// Delivered is the number of records acknowledged after the sink
	// stored them.
	Delivered int64 `json:"delivered"`
	// Quarantined is the number of records acknowledged after the
	// quarantine stored them.
	Quarantined int64 `json:"quarantined"`
	// Nacked is the number of records negatively acknowledged: their
	// batch or quarantine entry could not be stored, they were rejected
	// without a quarantine, or they were not admitted at shutdown. Their
	// source keeps them redeliverable.
	Nacked int64 `json:"nacked"`
	// Unsettled is the number of records still with the quarantine when
	// Run returned (its flush outlasted ShutdownTimeout); they are settled
	// when it writes them or is closed. It is 0 otherwise.
	Unsettled int64 `json:"unsettled"`
	// Errors is the number of errors Read returned other than the end of
	// the source and ctx's, the one that ended the run included.
	Errors int64 `json:"errors"`
}

// counts are the live counters of a run.
type counts struct {
	in, delivered, quarantined, nacked, errors atomic.Int64
}

func (c *counts) totals() Totals {
	t := Totals{In: c.in.Load(), Delivered: c.delivered.Load(), Quarantined: c.quarantined.Load(), Nacked: c.nacked.Load(), Errors: c.errors.Load()}
	t.Unsettled = t.In - t.Delivered - t.Quarantined - t.Nacked
	return t
}

// Run moves records from src through b until src ends or ctx ends, the way
// io.Copy moves bytes. For each record it computes the partition with part
// (nil means one partition, ""), hands the record to b, and settles what b
// does not take: records part rejects, or too large for a batch, go to
// RunOptions.Quarantine with the reason (or are negatively acknowledged
// without one); records not admitted because ctx ended are negatively
// acknowledged. Each record is settled exactly once, and acknowledged only
// once stored by the sink or by the quarantine.
//
// Reading stops at io.EOF or lakerelay.ErrClosed from src, when ctx ends,
// at a Read error (see RunOptions.OnReadError), or when a batch or
// quarantine entry fails with a permanent error ([lakerelay.IsPermanent]:
// access denied, missing bucket), which retrying and further reading cannot
// heal. Then Run closes b, flushing every open batch, and flushes the
// quarantine, within RunOptions.ShutdownTimeout even if ctx has ended;
// what is not stored by then is negatively acknowledged.
//
// Run returns the totals and the error that ended it: the source's, the
// permanent store error, and b.Close's (the [*FlushError]s of the batches
// that failed at shutdown), joined; nil when the source ended or ctx ended
// and everything was stored. Records negatively acknowledged during the run
// for transient reasons (a batch whose retries ran out) are counted in
// Totals.Nacked; b.Close's error names the batches that failed while it
// waited.
//
// Run logs (Info at start and end, with the totals; Error when it ends
// with an error; Warn for each quarantine entry that failed) and measures
// ([lakerelay.MetricQuarantined]) through b's [Options.Logger] and
// [Options.Observer], under b's [Options.Name].
//
// Run closes b but not src: close src after Run returns, so that the
// source can finish its last deletions (the SQS source waits for them).
func Run(ctx context.Context, src lakerelay.Source, b *Batcher, part lakerelay.Partitioner, opts ...func(*RunOptions)) (Totals, error) {
	var o RunOptions
	for _, f := range opts {
		f(&o)
	}
	if o.ShutdownTimeout < 0 {
		return Totals{}, fieldErr("RunOptions.ShutdownTimeout", "must be >= 0 (got %s)", o.ShutdownTimeout)
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if src == nil || b == nil {
		return Totals{}, errors.New("batch: Run needs a source and a batcher")
	}
	var c counts
	rctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	// stopOn ends the reading at a permanent store failure.
	stopOn := func(err error) {
		if lakerelay.IsPermanent(err) {
			stop(&storeStop{err})
		}
	}
	delivered := func(orig lakerelay.AckFunc) lakerelay.AckFunc {
		return func(err error) {
			if err == nil {
				c.delivered.Add(1)
			} else {
				c.nacked.Add(1)
				var fe *FlushError
				if errors.As(err, &fe) {
					stopOn(err)
				}
			}
			if orig != nil {
				orig(err)
			}
		}
	}
	obs, name := b.obs, b.opts.Name
	quarantine := func(r lakerelay.Record, reason error, class string) {
		if o.Quarantine == nil {
			c.nacked.Add(1)
			r.Settle(reason)
			return
		}
		orig := r.Ack
		logType := r.Origin.LogType
		r.Ack = func(err error) {
			if err == nil {
				c.quarantined.Add(1)
				obs.Count(lakerelay.MetricQuarantined, 1, lakerelay.Labels{Source: name, LogType: logType, Class: class})
			} else {
				b.log.Warn("quarantine write failed, record nacked", "origin", r.Origin.String(), "class", class, "error", err)
				c.nacked.Add(1)
				stopOn(err)
			}
			if orig != nil {
				orig(err)
			}
		}
		o.Quarantine.Quarantine(r, reason)
	}
	nack := func(r lakerelay.Record, err error) {
		c.nacked.Add(1)
		r.Settle(err)
	}

	b.log.Info("run started")
	var runErr error
read:
	for {
		r, err := src.Read(rctx)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, lakerelay.ErrClosed) || rctx.Err() != nil {
				break
			}
			c.errors.Add(1)
			if o.OnReadError != nil {
				if err = o.OnReadError(err); err == nil {
					continue
				}
			}
			runErr = err
			break
		}
		c.in.Add(1)
		p := ""
		if part != nil {
			if p, err = part.Partition(r); err != nil {
				quarantine(r, err, lakerelay.ClassPartition)
				continue
			}
		}
		orig := r.Ack
		r.Ack = delivered(orig)
		if err := b.Add(rctx, p, r); err != nil {
			r.Ack = orig // not taken: settled here
			if errors.Is(err, lakerelay.ErrTooLarge) {
				quarantine(r, err, lakerelay.ClassTooLarge)
				continue
			}
			// Closed, or ctx ended.
			nack(r, fmt.Errorf("batch: not admitted: %w", err))
			break read
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.ShutdownTimeout)
	defer cancel()
	closeErr := b.Close(sctx)
	var qerr error
	if o.Quarantine != nil {
		if qerr = o.Quarantine.Flush(sctx); qerr != nil {
			qerr = fmt.Errorf("batch: flush quarantine: %w", qerr)
		}
	}
	var ss *storeStop
	if cause := context.Cause(rctx); errors.As(cause, &ss) {
		runErr = errors.Join(runErr, ss.err)
	}
	t, err := c.totals(), errors.Join(runErr, closeErr, qerr)
	attrs := []any{"in", t.In, "delivered", t.Delivered, "quarantined", t.Quarantined, "nacked", t.Nacked,
		"unsettled", t.Unsettled, "read_errors", t.Errors}
	if err != nil {
		b.log.Error("run ended", append(attrs, "error", err)...)
	} else {
		b.log.Info("run ended", attrs...)
	}
	return t, err
}

// storeStop is the cause Run's reading stops with at a permanent store
// failure.
type storeStop struct{ err error }

func (s *storeStop) Error() string { return "batch: stopped: " + s.err.Error() }

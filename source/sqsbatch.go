package source

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

const (
	// maxBatchEntries is the most entries SQS takes in one batch call.
	maxBatchEntries = 10
	// settleDelay is the longest a settled message waits for others to
	// share its DeleteMessageBatch (or ChangeMessageVisibilityBatch) call.
	settleDelay = 50 * time.Millisecond
	// batchAttempts is how often an SQS batch call, or one entry of it that
	// failed without the sender's fault, is tried.
	batchAttempts = 3
)

// batchOp is an SQS batch call on the receipt handles of messages: delete,
// or change visibility.
type batchOp struct {
	name string // "delete", "release", "extend visibility"
	call func(ctx context.Context, entries []*message) (failed map[string]sqstypes.BatchResultErrorEntry, err error)
	ok   func(msgs []*message) // called once per call with the entries that succeeded
}

// settler groups messages for one batchOp into calls of up to 10 entries,
// each waiting at most settleDelay for company. Every call runs in its own
// goroutine with a fresh 30 s context; wait waits for them.
type settler struct {
	s  *SQS
	op batchOp

	mu      sync.Mutex
	queue   []*message
	timer   *time.Timer
	running int        // calls in progress
	idle    *sync.Cond // on mu: running went to 0
}

// add queues m. Once the source is closed (done), calls are made at once.
func (st *settler) add(m *message) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.queue = append(st.queue, m)
	switch {
	case len(st.queue) >= maxBatchEntries || st.s.isDone():
		st.launchLocked()
	case st.timer == nil:
		st.timer = time.AfterFunc(settleDelay, st.flush)
	}
}

// flush makes calls for everything queued.
func (st *settler) flush() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.launchLocked()
}

// launchLocked starts calls for everything queued, 10 messages per call.
func (st *settler) launchLocked() {
	if st.timer != nil {
		st.timer.Stop()
		st.timer = nil
	}
	for len(st.queue) > 0 {
		n := min(len(st.queue), maxBatchEntries)
		take := st.queue[:n:n]
		st.queue = st.queue[n:]
		st.running++
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			st.s.callBatch(ctx, st.op, take)
			st.mu.Lock()
			st.running--
			if st.running == 0 && st.idle != nil {
				st.idle.Broadcast()
			}
			st.mu.Unlock()
		}()
	}
}

// wait makes calls for everything queued and waits until no call is in
// progress.
func (st *settler) wait() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.launchLocked()
	if st.idle == nil {
		st.idle = sync.NewCond(&st.mu)
	}
	for st.running > 0 {
		st.idle.Wait()
	}
}

// callBatch runs op on msgs (at most 10) with retries; see settler.run.
func (s *SQS) callBatch(ctx context.Context, op batchOp, msgs []*message) {
	for attempt := 1; len(msgs) > 0; attempt++ {
		failed, err := op.call(ctx, msgs)
		last := attempt >= batchAttempts || ctx.Err() != nil
		if err != nil {
			_, permanent := permanentSQSError(err)
			if last || permanent {
				for _, m := range msgs {
					s.report(op.name+" failed", &MessageError{MessageID: m.id, Err: fmt.Errorf("%s: %w", op.name, err)})
				}
				return
			}
			s.tel.failed(err) // a failed attempt, retried
			s.batchBackoff(ctx, attempt)
			continue
		}
		var retry, ok []*message
		for i, m := range msgs {
			f, bad := failed[strconv.Itoa(i)]
			if !bad {
				ok = append(ok, m)
				continue
			}
			be := &BatchEntryError{Op: op.name, Code: aws.ToString(f.Code), Message: aws.ToString(f.Message), SenderFault: f.SenderFault}
			if f.SenderFault || last {
				s.report(op.name+" failed", &MessageError{MessageID: m.id, Err: be})
				continue
			}
			s.tel.failed(be) // a failed attempt, retried
			retry = append(retry, m)
		}
		if len(ok) > 0 && op.ok != nil {
			op.ok(ok)
		}
		if len(retry) > 0 {
			s.batchBackoff(ctx, attempt)
		}
		msgs = retry
	}
}

func (s *SQS) batchBackoff(ctx context.Context, attempt int) {
	d := jitter(time.Duration(attempt) * 200 * time.Millisecond)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// jitter returns a duration drawn uniformly from [d/2, d).
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d-d/2)
}

// BatchEntryError is the failure of one entry of an SQS batch call
// (DeleteMessageBatch, ChangeMessageVisibilityBatch), as SQS reported it.
// It reaches SQSOptions.OnError inside a [*MessageError]. An entry that
// failed by the sender's fault (an expired receipt handle) is not retried;
// others are retried before they are reported.
type BatchEntryError struct {
	Op          string // "delete", "release", "extend visibility"
	Code        string
	Message     string
	SenderFault bool
}

func (e *BatchEntryError) Error() string {
	return fmt.Sprintf("%s: %s: %s (sender fault: %t)", e.Op, e.Code, e.Message, e.SenderFault)
}

// deleteBatch deletes msgs with one DeleteMessageBatch call; entry i has
// Id "i".
func (s *SQS) deleteBatch(ctx context.Context, msgs []*message) (map[string]sqstypes.BatchResultErrorEntry, error) {
	entries := make([]sqstypes.DeleteMessageBatchRequestEntry, len(msgs))
	for i, m := range msgs {
		entries[i] = sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(m.receipt)}
	}
	out, err := s.sqsc.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(s.queueURL), Entries: entries})
	if err != nil {
		return nil, err
	}
	return failedEntries(out.Failed), nil
}

// changeVisibilityBatch sets the visibility timeout of msgs with one
// ChangeMessageVisibilityBatch call; entry i has Id "i".
func (s *SQS) changeVisibilityBatch(ctx context.Context, msgs []*message, vis time.Duration) (map[string]sqstypes.BatchResultErrorEntry, error) {
	entries := make([]sqstypes.ChangeMessageVisibilityBatchRequestEntry, len(msgs))
	for i, m := range msgs {
		entries[i] = sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(m.receipt),
			VisibilityTimeout: int32(vis / time.Second)}
	}
	out, err := s.sqsc.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(s.queueURL), Entries: entries})
	if err != nil {
		return nil, err
	}
	return failedEntries(out.Failed), nil
}

func failedEntries(f []sqstypes.BatchResultErrorEntry) map[string]sqstypes.BatchResultErrorEntry {
	if len(f) == 0 {
		return nil
	}
	m := make(map[string]sqstypes.BatchResultErrorEntry, len(f))
	for _, e := range f {
		m[aws.ToString(e.Id)] = e
	}
	return m
}

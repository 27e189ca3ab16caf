package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakerelay/lakerelay"
)

// Defaults for [SQSOptions].
const (
	DefaultWorkers  = 4
	DefaultWaitTime = 20 * time.Second
	// fallbackVisibility is assumed when the queue's own visibility timeout
	// cannot be read (SQS's default).
	fallbackVisibility = 30 * time.Second
	// MaxVisibility is how long SQS lets a message stay invisible in total
	// (12 hours); extensions stop there.
	MaxVisibility = 12 * time.Hour
)

// SQSOptions configure an [SQS] source. The zero value means defaults.
type SQSOptions struct {
	// Workers is the number of messages processed at once, each by its own
	// goroutine (long poll, fetch, decode); 0 means DefaultWorkers. Each
	// worker reads up to 32 records ahead of Read, so memory holds up to
	// 32 × Workers records (of at most Decode.MaxRecordSize bytes each)
	// more than the records handed out.
	Workers int
	// WaitTime is the long-poll wait of ReceiveMessage (at most 20s); 0
	// means DefaultWaitTime.
	WaitTime time.Duration
	// VisibilityTimeout is asked for on receive and renewed every half of it
	// while records of the message are in flight (up to MaxVisibility); 0
	// means the queue's own (read with GetQueueAttributes). Rounded up to
	// whole seconds.
	VisibilityTimeout time.Duration
	// Decode says how objects are decoded.
	Decode DecodeOptions
	// IncludePrefixes and ExcludePrefixes select objects by key: an object is
	// read when its key begins with an include prefix (or there are none)
	// and with no exclude prefix. Others are skipped and counted.
	IncludePrefixes, ExcludePrefixes []string
	// LogTypes maps key prefixes to the log type set in each record's
	// origin; the longest matching prefix wins.
	LogTypes map[string]string
	// Tags label every record's origin (a LogTypes match overrides
	// LogType); a [Preset] sets them.
	Tags Tags
	// Quarantine receives invalid records with the reason. When it returns
	// nil the record counts as settled; when it returns an error, or when
	// Quarantine is nil, the object fails and its message stays in the
	// queue.
	Quarantine lakerelay.Quarantine
	// MaxReceiveCount, when positive, bounds how often a message is
	// received, for queues without a redrive policy (a DLQ): a message
	// received more often (by its ApproximateReceiveCount) is not read
	// again; a record per object it names (or, for a body that cannot be
	// decoded, the body itself) goes to Quarantine with a reason wrapping
	// [ErrMaxReceiveCount], the record's Data being the message body, and
	// the message is then deleted. If the quarantine fails the message
	// stays. 0 means no limit (the queue's redrive policy decides). It
	// requires Quarantine.
	MaxReceiveCount int
	// ConfirmSubscriptions lets the source confirm an SNS subscription
	// when a SubscriptionConfirmation message arrives: it visits the
	// message's SubscribeURL, only when it is an https URL on an
	// sns.<region>.amazonaws.com host, then deletes the message. When false
	// (the default) such a message is reported to OnError as a
	// [*SubscriptionError] naming the URL to visit, and stays in the queue.
	ConfirmSubscriptions bool
	// HTTPClient visits SubscribeURLs; nil means http.DefaultClient.
	HTTPClient *http.Client
	// subscribeURLAllowed replaces the SNS host check (tests only).
	subscribeURLAllowed func(*url.URL) bool
	// OnError is told of every failure that leaves a message in the queue
	// or loses a visibility extension: *ObjectError for objects (fetch,
	// decode, archive copy), *MessageError for message bodies and negative
	// acknowledgements, and receive, delete and visibility errors. It must
	// be safe for concurrent use and should not block. Nil means ignore
	// (the failures are still counted in Stats.Errors).
	OnError func(error)
	// Name names the source in metrics (Labels.Source) and logs (the
	// "source" attribute); "" means DefaultSQSName ("sqs"). Give each source of a
	// program its own name.
	Name string
	// Logger receives the source's log lines (see the package
	// documentation, # Logs); nil means none. Record contents are never
	// logged.
	Logger *slog.Logger
	// Observer receives the source's metrics (see the package
	// documentation, # Metrics); nil means none.
	Observer lakerelay.Observer
	// Archive, when set, copies every selected object, unchanged, to an
	// archive before it is read; a failed copy fails the object (its
	// message stays in the queue). See [Archive].
	Archive *Archive
}

// Validate reports every problem with o.
func (o SQSOptions) Validate() error {
	errs := []error{o.Decode.Validate()}
	if o.Workers < 0 {
		errs = append(errs, fmt.Errorf("source: Workers %d: must not be negative", o.Workers))
	}
	if o.WaitTime < 0 || o.WaitTime > 20*time.Second {
		errs = append(errs, fmt.Errorf("source: WaitTime %v: want 0 to 20s", o.WaitTime))
	}
	if o.VisibilityTimeout < 0 || o.VisibilityTimeout > MaxVisibility {
		errs = append(errs, fmt.Errorf("source: VisibilityTimeout %v: want 0 to 12h", o.VisibilityTimeout))
	}
	if o.MaxReceiveCount < 0 {
		errs = append(errs, fmt.Errorf("source: MaxReceiveCount %d: must not be negative", o.MaxReceiveCount))
	}
	if o.MaxReceiveCount > 0 && o.Quarantine == nil {
		errs = append(errs, fmt.Errorf("source: MaxReceiveCount %d needs a Quarantine for the messages past it", o.MaxReceiveCount))
	}
	return errors.Join(errs...)
}

// SQS is a [lakerelay.Source] of the records of S3 objects announced by
// notifications in an SQS queue (see [DecodeNotification] for the formats).
// Read never returns io.EOF; it returns lakerelay.ErrClosed after Close.
//
// Each record's Ack must be called exactly once: the message is deleted only
// when every object it names was read to the end and every record was
// acknowledged with nil. See the package documentation, # Delivery.
//
// # SQS calls
//
// Each worker receives up to 10 messages per ReceiveMessage call (asking for
// their SentTimestamp and ApproximateReceiveCount) and reads them in turn;
// every received message's visibility is extended from the moment it is
// received. Settled messages are deleted with DeleteMessageBatch, and
// visibility is extended or released with ChangeMessageVisibilityBatch, up
// to 10 messages per call; a message waits at most 50ms for others to share
// a call. A batch entry that fails without the sender's fault is retried
// (3 attempts); what still fails is reported to OnError as a
// [*BatchEntryError] and its message stays in the queue: nothing is dropped
// silently. Receive errors are retried with jittered exponential backoff.
//
// The workers start in NewSQS and stop in Close. An SQS is safe for
// concurrent use.
type SQS struct {
	s3c      S3API
	sqsc     SQSAPI
	queueURL string
	opts     SQSOptions
	vis      time.Duration
	filter   keyFilter
	types    prefixMap

	out    chan handoff  // records read, waiting for Read
	failed chan struct{} // closed by fail, after fatal is set
	fatal  error         // the permanent error that ended the source
	fonce  sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	closed chan struct{}
	once   sync.Once
	wg     sync.WaitGroup // workers, extender

	mu       sync.Mutex
	inflight map[*message]struct{}
	done     bool         // the workers stopped (Close): settled messages are deleted at once
	last     atomic.Int64 // unix nanos of the last received message (or start)
	unread   atomic.Int64 // received messages whose records are not all handed out yet
	c        counters
	tel      *telemetry
	stopped  sync.Once // the "stopped" log line

	deleter, releaser settler
}

// ErrMaxReceiveCount is wrapped by the reason a message's objects are
// quarantined with once the message was received more than
// SQSOptions.MaxReceiveCount times.
var ErrMaxReceiveCount = errors.New("source: message received more than MaxReceiveCount times")

// NewSQS starts a source reading the queue at queueURL and fetching objects
// with s3c.
func NewSQS(s3c S3API, sqsc SQSAPI, queueURL string, opts ...func(*SQSOptions)) (*SQS, error) {
	var o SQSOptions
	for _, f := range opts {
		f(&o)
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if s3c == nil || sqsc == nil || queueURL == "" {
		return nil, errors.New("source: NewSQS needs an S3 client, an SQS client and a queue URL")
	}
	if o.Workers == 0 {
		o.Workers = DefaultWorkers
	}
	if o.WaitTime == 0 {
		o.WaitTime = DefaultWaitTime
	}
	s := &SQS{
		s3c: s3c, sqsc: sqsc, queueURL: queueURL, opts: o,
		vis:      time.Duration(math.Ceil(o.VisibilityTimeout.Seconds())) * time.Second,
		filter:   keyFilter{include: o.IncludePrefixes, exclude: o.ExcludePrefixes},
		types:    newPrefixMap(o.LogTypes),
		out:      make(chan handoff, handoffPerWorker*o.Workers),
		failed:   make(chan struct{}),
		closed:   make(chan struct{}),
		inflight: map[*message]struct{}{},
		tel:      newTelemetry(o.Name, DefaultSQSName, o.Observer, o.Logger),
	}
	s.deleter = settler{s: s, op: batchOp{name: "delete", call: s.deleteBatch, ok: s.deleted}}
	s.releaser = settler{s: s, op: batchOp{name: "release on close", call: func(ctx context.Context, msgs []*message) (map[string]sqstypes.BatchResultErrorEntry, error) {
		return s.changeVisibilityBatch(ctx, msgs, 0)
	}}}
	s.last.Store(time.Now().UnixNano())
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.tel.gauge(lakerelay.MetricSourceUp, 1)
	s.tel.gauge(lakerelay.MetricSQSLag, 0)
	attrs := []slog.Attr{slog.String("queue_url", queueURL), slog.Int("workers", o.Workers)}
	if o.Archive != nil {
		attrs = append(attrs, slog.String("archive", o.Archive.location(o.Archive.prefix)))
	}
	s.tel.info("sqs source started", attrs...)
	s.wg.Add(o.Workers + 1)
	for range o.Workers {
		go s.worker()
	}
	go s.extender()
	return s, nil
}

// Read returns the next record. It blocks until one is available, ctx ends,
// the source is closed (lakerelay.ErrClosed) or has failed.
//
// The source fails when the queue answers with an error that waiting cannot
// heal (the queue does not exist, access denied, invalid credentials or
// signature, an invalid queue URL, another client error): from then on Read
// returns that error, wrapped with lakerelay.Permanent and naming the queue
// URL and what to check, and the source stops receiving. Close must still be
// called. Throttling, server errors and network errors are reported to
// SQSOptions.OnError and retried with backoff, without end.
func (s *SQS) Read(ctx context.Context) (lakerelay.Record, error) {
	select {
	case <-s.closed:
		return lakerelay.Record{}, lakerelay.ErrClosed
	default:
	}
	select {
	case <-s.failed:
		return lakerelay.Record{}, s.fatal
	default:
	}
	// A record ready is taken without waiting on the other channels too:
	// one case is cheaper than four, once per record.
	select {
	case h := <-s.out:
		return s.handedOut(h), nil
	default:
	}
	select {
	case h := <-s.out:
		return s.handedOut(h), nil
	case <-ctx.Done():
		return lakerelay.Record{}, ctx.Err()
	case <-s.closed:
		return lakerelay.Record{}, lakerelay.ErrClosed
	case <-s.failed:
		return lakerelay.Record{}, s.fatal
	}
}

// handoff is a record read from an object, on its way to Read.
type handoff struct {
	rec lakerelay.Record
	m   *message
}

// handoffPerWorker is how many records each worker may have read ahead of
// Read. Handing records over one at a time, each worker waited for Read and
// Read for a worker at every record.
const handoffPerWorker = 32

// handedOut returns the record of h, which Read hands out.
func (s *SQS) handedOut(h handoff) lakerelay.Record {
	s.c.records.Add(1)
	s.unhold(h.m)
	return h.rec
}

// unhold drops one hold on m (a record waiting for Read, or its reading);
// the last one makes it no longer unread.
func (s *SQS) unhold(m *message) {
	if m.held.Add(-1) == 0 {
		s.unread.Add(-1)
	}
}

// Err returns the permanent error that ended the source, or nil.
func (s *SQS) Err() error {
	select {
	case <-s.failed:
		return s.fatal
	default:
		return nil
	}
}

// fail ends the source with a permanent error (the first one wins): Read
// returns it and the workers stop, abandoning the messages they were reading
// (they stay in the queue).
func (s *SQS) fail(err error) {
	s.fonce.Do(func() {
		s.fatal = err
		close(s.failed)
		s.cancel()
		s.tel.gauge(lakerelay.MetricSourceUp, 0)
		s.tel.logErr(slog.LevelError, "sqs source failed", err, slog.String("queue_url", s.queueURL))
	})
}

// Close stops receiving, abandons the objects being read and the records
// read but not handed out yet (their messages stay in the queue and are
// made visible again at once) and waits for the workers to stop. Records
// already handed out can still be acknowledged; a message all of whose
// records are then acknowledged with nil is still deleted. Close is
// idempotent.
//
// Close cancels the long polls in progress; a server may still hand a
// message to such an abandoned poll, and that message then comes back after
// its visibility timeout (never lost, only delayed).
func (s *SQS) Close() error {
	s.once.Do(func() {
		s.cancel()
		close(s.closed)
	})
	s.wg.Wait()
	// Records read and not handed out: their messages are abandoned as
	// those being read were (released at once).
	for drained := false; !drained; {
		select {
		case h := <-s.out:
			s.unhold(h.m)
			h.rec.Ack(s.ctx.Err())
		default:
			drained = true
		}
	}
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	s.deleter.wait()
	s.releaser.wait()
	s.stopped.Do(func() {
		st := s.Stats()
		s.tel.info("sqs source stopped", slog.String("queue_url", s.queueURL), slog.Int64("messages", st.Messages),
			slog.Int64("deleted", st.Deleted), slog.Int64("records", st.Records), slog.Int64("errors", st.Errors))
	})
	return nil
}

// Stats returns the counters so far.
func (s *SQS) Stats() Stats { return s.c.snapshot() }

// InFlight returns the number of received messages not yet settled (being
// read, or with records not yet acknowledged).
func (s *SQS) InFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.inflight)
}

// Unread returns the number of received messages whose records are not all
// handed out yet (being read, waiting for their worker, or records read
// and waiting for Read). The other messages in flight wait only for their
// records to be acknowledged: a consumer that stops reading now (and then
// stores or nacks what it holds) leaves none of them half read.
func (s *SQS) Unread() int { return int(s.unread.Load()) }

// Lag returns how long the oldest message in flight has been in the queue:
// now minus its SentTimestamp. It is 0 when no message is in flight.
func (s *SQS) Lag() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var oldest time.Time
	for m := range s.inflight {
		if !m.sent.IsZero() && (oldest.IsZero() || m.sent.Before(oldest)) {
			oldest = m.sent
		}
	}
	if oldest.IsZero() {
		return 0
	}
	return time.Since(oldest)
}

func (s *SQS) isDone() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done
}

// Idle returns how long ago the last message was received (or the source
// started).
func (s *SQS) Idle() time.Duration {
	return time.Since(time.Unix(0, s.last.Load()))
}

// report counts, logs (at Warn, as msg) and hands to OnError a failure
// that leaves a message in the queue.
func (s *SQS) report(msg string, err error, attrs ...slog.Attr) {
	s.c.errors.Add(1)
	s.tel.warn(msg, err, attrs...)
	if s.opts.OnError != nil {
		s.opts.OnError(err)
	}
}

// reportFatal counts and hands to OnError a permanent error, and ends the
// source with it (logged at Error by fail).
func (s *SQS) reportFatal(err error) {
	s.c.errors.Add(1)
	s.tel.failed(err)
	if s.opts.OnError != nil {
		s.opts.OnError(err)
	}
	s.fail(err)
}

func (s *SQS) worker() {
	defer s.wg.Done()
	backoff := time.Duration(0)
	for s.ctx.Err() == nil {
		// A message's visibility timeout may start at any moment of the
		// call (a server may hold it while the long poll waits for more), so
		// its clock is taken as starting when the call did.
		polled := time.Now()
		out, err := s.sqsc.ReceiveMessage(s.ctx, s.receiveInput())
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			if hint, ok := permanentSQSError(err); ok {
				s.reportFatal(lakerelay.Permanent(fmt.Errorf("source: receive from %s: %w (%s)", s.queueURL, err, hint)))
				return
			}
			backoff = min(max(2*backoff, 100*time.Millisecond), 10*time.Second)
			wait := jitter(backoff)
			s.report("receive failed, retrying", fmt.Errorf("source: receive from %s: %w", s.queueURL, err), slog.Duration("backoff", wait))
			select {
			case <-time.After(wait):
			case <-s.ctx.Done():
				return
			}
			continue
		}
		backoff = 0
		// Every message received is in flight (its visibility extended)
		// from now on, also while it waits for the ones before it.
		msgs := make([]*message, len(out.Messages))
		redelivered := 0
		for i, sm := range out.Messages {
			msgs[i] = s.track(sm, polled)
			if msgs[i].receives > 1 {
				redelivered++
			}
		}
		s.tel.count(lakerelay.MetricSQSReceived, int64(len(msgs)))
		s.tel.count(lakerelay.MetricSQSRedelivered, int64(redelivered))
		s.unread.Add(int64(len(out.Messages)))
		for i, sm := range out.Messages {
			s.handle(msgs[i], []byte(aws.ToString(sm.Body)))
			s.unhold(msgs[i]) // read; its records may still wait for Read
		}
	}
}

// receiveInput is the ReceiveMessage request of every poll: up to 10
// messages, with their SentTimestamp and ApproximateReceiveCount.
func (s *SQS) receiveInput() *sqs.ReceiveMessageInput {
	in := &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(s.queueURL),
		MaxNumberOfMessages: maxBatchEntries,
		WaitTimeSeconds:     int32(math.Ceil(s.opts.WaitTime.Seconds())),
		VisibilityTimeout:   int32(s.vis / time.Second), // 0: the queue's
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{
			sqstypes.MessageSystemAttributeNameApproximateReceiveCount, sqstypes.MessageSystemAttributeNameSentTimestamp},
	}
	// SQS-compatible servers that predate MessageSystemAttributeNames
	// (local emulators among them) read only the older parameter; SQS
	// accepts both.
	//lint:ignore SA1019 kept alongside MessageSystemAttributeNames for servers that know only it
	in.AttributeNames = []sqstypes.QueueAttributeName{
		sqstypes.QueueAttributeName(sqstypes.MessageSystemAttributeNameApproximateReceiveCount),
		sqstypes.QueueAttributeName(sqstypes.MessageSystemAttributeNameSentTimestamp)}
	return in
}

// recordAck settles one record of a message exactly once.
type recordAck struct {
	m *message
	// then, when set, is the record's own Ack (DecodeOptions.ReuseData).
	then lakerelay.AckFunc
	done atomic.Bool
}

func (a *recordAck) settle(err error) {
	if a.done.CompareAndSwap(false, true) {
		a.m.done(err)
		if a.then != nil {
			a.then(err)
		}
	}
}

// errNacked stops reading a message one of whose records was negatively
// acknowledged.
var errNacked = errors.New("source: a record was negatively acknowledged")

// message tracks one received message until it is settled.
type message struct {
	s        *SQS
	id       string
	receipt  string
	received time.Time
	extended time.Time
	sent     time.Time // SentTimestamp, zero if unknown
	receives int       // ApproximateReceiveCount, 0 if unknown

	// held counts the message's records waiting for Read, +1 until its
	// worker is done with it; the message is unread until it is 0.
	held atomic.Int32

	mu      sync.Mutex
	pending int   // records not yet acknowledged, +1 while reading
	failed  error // first failure: the message stays in the queue
	settled bool
}

func (m *message) add() {
	m.mu.Lock()
	m.pending++
	m.mu.Unlock()
}

// done settles one record (or the reading) with err.
func (m *message) done(err error) {
	m.mu.Lock()
	if err != nil && m.failed == nil {
		m.failed = err
	}
	m.pending--
	last := m.pending == 0 && !m.settled
	if last {
		m.settled = true
	}
	failed := m.failed
	m.mu.Unlock()
	if last {
		m.s.finish(m, failed)
	}
}

func (m *message) isFailed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.failed != nil
}

// track registers a received message as in flight.
// polled is when the ReceiveMessage call started.
func (s *SQS) track(sm sqstypes.Message, polled time.Time) *message {
	s.c.messages.Add(1)
	s.last.Store(time.Now().UnixNano())
	m := &message{s: s, id: aws.ToString(sm.MessageId), receipt: aws.ToString(sm.ReceiptHandle), received: polled, extended: polled, pending: 1}
	m.held.Store(1)
	if ms, err := strconv.ParseInt(sm.Attributes[string(sqstypes.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
		m.sent = time.UnixMilli(ms)
	}
	if n, err := strconv.Atoi(sm.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)]); err == nil {
		m.receives = n
		if n > 1 {
			s.c.redelivered.Add(1)
		}
	}
	s.mu.Lock()
	s.inflight[m] = struct{}{}
	s.mu.Unlock()
	if s.tel.debugOn() {
		s.tel.debug("message received", slog.String("message_id", m.id), slog.Int("receive_count", m.receives))
	}
	return m
}

// forget ends tracking a message that is left in the queue without reading
// it (its failure was reported).
func (s *SQS) forget(m *message) {
	s.mu.Lock()
	delete(s.inflight, m)
	none := len(s.inflight) == 0
	s.mu.Unlock()
	if none {
		s.tel.gauge(lakerelay.MetricSQSLag, 0)
	}
}

func (s *SQS) handle(m *message, body []byte) {
	if s.ctx.Err() != nil {
		m.done(s.ctx.Err()) // abandoned by Close: released at once
		return
	}
	if c, ok := subscriptionConfirmation(body); ok {
		if err := s.confirm(s.ctx, c); err != nil {
			s.report("sns subscription not confirmed, message left in the queue", &MessageError{MessageID: m.id, Err: err})
			s.forget(m)
			return
		}
		s.c.subscriptions.Add(1)
		m.done(nil) // confirmed: delete
		return
	}
	n, err := DecodeNotification(body)
	if s.opts.MaxReceiveCount > 0 && m.receives > s.opts.MaxReceiveCount {
		s.setAside(m, body, n, err)
		return
	}
	if err != nil {
		// Left for redelivery and, after maxReceiveCount, the DLQ.
		s.report("message body not decodable, left in the queue", &MessageError{MessageID: m.id, Err: err})
		s.forget(m)
		return
	}
	s.c.skipped.Add(int64(n.Skipped))
	if n.Test {
		s.c.skipped.Add(1)
	}
	var failed error
	for _, ref := range n.Objects {
		if !s.filter.selected(ref.Key) {
			s.c.skipped.Add(1)
			continue
		}
		if err := s.readObject(m, ref); err != nil {
			if err == errNacked {
				break // the message comes back anyway
			}
			failed = err
			if !errors.Is(err, context.Canceled) || s.ctx.Err() == nil {
				var oe *ObjectError
				if errors.As(err, &oe) && errors.Is(err, ErrNotFound) {
					s.c.notFound.Add(1)
				}
				s.report("object failed, message left in the queue", err, slog.String("message_id", m.id))
			}
			break // the message comes back anyway: do not read the rest twice
		}
	}
	m.done(failed)
}

// setAside quarantines a message received more than MaxReceiveCount times,
// one record per selected object it names (or its body alone when it names
// none or cannot be decoded), then deletes it. If the quarantine fails the
// message stays in the queue.
func (s *SQS) setAside(m *message, body []byte, n Notification, decodeErr error) {
	reason := &MessageError{MessageID: m.id, Err: fmt.Errorf("%w: received %d times, limit %d", ErrMaxReceiveCount, m.receives, s.opts.MaxReceiveCount)}
	if decodeErr != nil {
		reason.Err = fmt.Errorf("%w (body: %w)", reason.Err, decodeErr)
	}
	var recs []lakerelay.Record
	for _, ref := range n.Objects {
		if s.filter.selected(ref.Key) {
			recs = append(recs, lakerelay.Record{Data: body, Origin: lakerelay.Origin{Bucket: ref.Bucket, Key: ref.Key, VersionID: ref.VersionID,
				Index: -1, Offset: -1, LogType: s.types.lookup(ref.Key)}})
		}
	}
	if len(recs) == 0 {
		recs = append(recs, lakerelay.Record{Data: body, Origin: lakerelay.Origin{Index: -1, Offset: -1}})
	}
	for _, r := range recs {
		if err := s.opts.Quarantine(r, reason); err != nil {
			s.report("quarantine past MaxReceiveCount failed, message left in the queue",
				&MessageError{MessageID: m.id, Err: fmt.Errorf("quarantine past MaxReceiveCount failed, message left in the queue: %w", err)})
			s.forget(m)
			return
		}
		s.c.quarantined.Add(1)
		s.tel.quarantined(r.Origin.LogType, lakerelay.ClassMaxReceive)
	}
	s.c.maxReceived.Add(1)
	s.tel.warn("message past MaxReceiveCount set aside in the quarantine, to be deleted", reason, slog.Int("records", len(recs)))
	m.done(nil)
}

func (s *SQS) readObject(m *message, ref ObjectRef) error {
	if s.opts.Archive != nil {
		where, err := s.opts.Archive.copy(s.ctx, s.s3c, ref)
		if err != nil {
			return err
		}
		if s.tel.debugOn() {
			s.tel.debug("object archived", slog.String("bucket", ref.Bucket), slog.String("key", ref.Key), slog.String("archive", where))
		}
	}
	out, err := getObject(s.ctx, s.s3c, ref)
	if err != nil {
		return err
	}
	defer out.Body.Close()
	origin := tagged(lakerelay.Origin{Bucket: ref.Bucket, Key: ref.Key, VersionID: ref.VersionID, LogType: s.types.lookup(ref.Key)}, s.opts.Tags)
	st := newObjectStream(out.Body, s.opts.Decode, origin, s.opts.Quarantine, &s.c, s.tel)
	defer st.close()
	var acks []recordAck // allocated in chunks: one allocation serves 256 records
	for {
		rec, err := st.next()
		if err == io.EOF {
			s.c.objects.Add(1)
			if s.tel.debugOn() {
				s.tel.debug("object read", slog.String("bucket", ref.Bucket), slog.String("key", ref.Key), slog.String("message_id", m.id),
					slog.Int64("records", st.records))
			}
			return nil
		}
		if err != nil {
			return err
		}
		if m.isFailed() {
			rec.Settle(nil) // not handed out: its memory may be reused (ReuseData)
			return errNacked
		}
		m.add()
		if len(acks) == 0 {
			acks = make([]recordAck, 256)
		}
		a := &acks[0]
		acks = acks[1:]
		a.m, a.then = m, rec.Ack
		rec.Ack = a.settle
		m.held.Add(1)
		select {
		case s.out <- handoff{rec, m}:
			st.handedOut(rec) // for the Observer: read from the object
		case <-s.ctx.Done():
			m.held.Add(-1) // not the last hold: the worker's own is left
			rec.Ack(s.ctx.Err())
			return s.ctx.Err()
		}
	}
}

// finish deletes a message all of whose records were acknowledged, or
// leaves a failed one for redelivery.
func (s *SQS) finish(m *message, failed error) {
	s.forget(m)
	if failed != nil {
		if errors.Is(failed, context.Canceled) && s.ctx.Err() != nil {
			// Abandoned by Close: make it visible again at once, for other
			// consumers, instead of after its visibility timeout.
			s.releaser.add(m)
			return
		}
		var oe *ObjectError
		if !errors.As(failed, &oe) {
			s.report("record negatively acknowledged, message left in the queue", &MessageError{MessageID: m.id, Err: fmt.Errorf("negatively acknowledged: %w", failed)})
		}
		return
	}
	s.deleter.add(m)
}

// deleted counts messages deleted: in the metric first, so that whoever
// sees them in Stats sees them in the metric too.
func (s *SQS) deleted(msgs []*message) {
	s.tel.count(lakerelay.MetricSQSDeleted, int64(len(msgs)))
	s.c.deleted.Add(int64(len(msgs)))
	if s.tel.debugOn() {
		for _, m := range msgs {
			s.tel.debug("message deleted", slog.String("message_id", m.id))
		}
	}
}

// queueVisibility reads the queue's visibility timeout.
func (s *SQS) queueVisibility() time.Duration {
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	out, err := s.sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(s.queueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameVisibilityTimeout}})
	if err == nil {
		var secs int
		if _, err = fmt.Sscan(out.Attributes[string(sqstypes.QueueAttributeNameVisibilityTimeout)], &secs); err == nil && secs > 0 {
			return time.Duration(secs) * time.Second
		}
		err = fmt.Errorf("VisibilityTimeout attribute %q", out.Attributes[string(sqstypes.QueueAttributeNameVisibilityTimeout)])
	}
	if s.ctx.Err() == nil {
		if hint, ok := permanentSQSError(err); ok {
			s.reportFatal(lakerelay.Permanent(fmt.Errorf("source: read visibility timeout of %s: %w (%s)", s.queueURL, err, hint)))
			return fallbackVisibility
		}
		s.report("visibility timeout of the queue unknown", fmt.Errorf("source: read visibility timeout of %s (assuming %v): %w", s.queueURL, fallbackVisibility, err))
	}
	return fallbackVisibility
}

// extender renews the visibility of messages in flight.
func (s *SQS) extender() {
	defer s.wg.Done()
	vis := s.vis
	if vis == 0 {
		vis = s.queueVisibility()
	}
	tick := time.NewTicker(max(vis/4, 250*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-tick.C:
			s.mu.Lock()
			var due []*message
			var oldest time.Time
			for m := range s.inflight {
				if now.Sub(m.extended) >= vis/2 && now.Sub(m.received)+vis <= MaxVisibility && !m.isFailed() {
					m.extended = now
					due = append(due, m)
				}
				if !m.sent.IsZero() && (oldest.IsZero() || m.sent.Before(oldest)) {
					oldest = m.sent
				}
			}
			s.mu.Unlock()
			lag := 0.0
			if !oldest.IsZero() {
				lag = max(time.Since(oldest).Seconds(), 0)
			}
			s.tel.gauge(lakerelay.MetricSQSLag, lag)
			extend := batchOp{name: "extend visibility", call: func(ctx context.Context, msgs []*message) (map[string]sqstypes.BatchResultErrorEntry, error) {
				return s.changeVisibilityBatch(ctx, msgs, vis)
			}, ok: func(msgs []*message) { s.tel.count(lakerelay.MetricSQSVisibilityExtended, int64(len(msgs))) }}
			for len(due) > 0 {
				n := min(len(due), maxBatchEntries)
				s.callBatch(s.ctx, extend, due[:n])
				due = due[n:]
			}
		}
	}
}

var _ lakerelay.Source = (*SQS)(nil)

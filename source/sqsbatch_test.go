package source

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

// callCounter counts the SQS requests that go over the wire, by action
// (the X-Amz-Target header of the JSON protocol).
type callCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *callCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	action := r.Header.Get("X-Amz-Target")
	action = action[strings.LastIndexByte(action, '.')+1:]
	c.mu.Lock()
	c.n[action]++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *callCounter) get(action string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[action]
}

// countedSQS is an SQS client for the test server whose requests are
// counted.
func countedSQS(t *testing.T) (*sqs.Client, *callCounter) {
	q := testenv.StartSQS(t)
	c := &callCounter{n: map[string]int{}}
	return sqs.NewFromConfig(q.Config(t), func(o *sqs.Options) { o.HTTPClient = &http.Client{Transport: c} }), c
}

// sendBatch sends n copies of body, 10 per call.
func (e *env) sendBatch(body string, n int) {
	e.t.Helper()
	for sent := 0; sent < n; {
		k := min(10, n-sent)
		entries := make([]sqstypes.SendMessageBatchRequestEntry, k)
		for i := range entries {
			entries[i] = sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: &body}
		}
		out, err := e.sqsc.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: &e.queue.URL, Entries: entries})
		if err != nil || len(out.Failed) > 0 {
			e.t.Fatalf("send: %v %+v", err, out)
		}
		sent += k
	}
}

// TestSQSBatchedCalls: 1,000 one-record messages are received 10 per
// ReceiveMessage call and deleted with DeleteMessageBatch; every record is
// read once and every message deleted.
func TestSQSBatchedCalls(t *testing.T) {
	t.Parallel()
	const n = 1000
	e := newEnv(t, testenv.QueueOptions{VisibilityTimeout: 30 * time.Second})
	e.put("one/obj", ndjson("one", 1))
	// All messages are queued before the source starts, so that no poll
	// comes back with fewer than 10 only because they were still arriving.
	e.sendBatch(s3Event(s3RecordUnversioned("ObjectCreated:Put", e.bucket, "one/obj")), n)
	counted, calls := countedSQS(t)
	e.sqsc = counted
	s, c := e.source(func(o *SQSOptions) { o.Workers = 4; o.VisibilityTimeout = 30 * time.Second })
	var lag time.Duration
	recs := read(t, s, n, 60*time.Second, func(lakerelay.Record) error {
		lag = max(lag, s.Lag())
		return nil
	})
	if len(recs) != n {
		t.Fatalf("%d records, want %d", len(recs), n)
	}
	// Close stops the polls and waits for the last deletions.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if d := s.Stats().Deleted; d != n {
		t.Fatalf("%d of %d messages deleted", d, n)
	}
	receives, deletes := calls.get("ReceiveMessage"), calls.get("DeleteMessageBatch")
	t.Logf("%d messages: %d ReceiveMessage, %d DeleteMessageBatch calls; largest lag seen %v", n, receives, deletes, lag)
	if receives > 110 {
		t.Errorf("%d ReceiveMessage calls for %d messages, want at most 110", receives, n)
	}
	if deletes > n/2 || calls.get("DeleteMessage") != 0 {
		t.Errorf("%d DeleteMessageBatch and %d DeleteMessage calls for %d messages: deletions are not batched", deletes, calls.get("DeleteMessage"), n)
	}
	if lag <= 0 {
		t.Error("Lag was never positive while messages were in flight")
	}
	if d := e.queueDepth(e.queue.URL); d != 0 {
		t.Errorf("%d messages left in the queue", d)
	}
	if len(c.errors()) != 0 {
		t.Fatal(c.errors())
	}
}

// failingBatches is the real SQS client, except that DeleteMessageBatch
// entries whose message bodies contain mark are answered as failed (without
// reaching the server) the first `times` times they are tried.
type failingBatches struct {
	*sqs.Client
	mark        string
	times       int
	senderFault bool

	mu    sync.Mutex
	tries map[string]int // by receipt handle
	body  map[string]string
}

func (f *failingBatches) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, o ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	out, err := f.Client.ReceiveMessage(ctx, in, o...)
	if err == nil {
		f.mu.Lock()
		for _, m := range out.Messages {
			f.body[aws.ToString(m.ReceiptHandle)] = aws.ToString(m.Body)
		}
		f.mu.Unlock()
	}
	return out, err
}

func (f *failingBatches) DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, o ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	var pass []sqstypes.DeleteMessageBatchRequestEntry
	var failed []sqstypes.BatchResultErrorEntry
	f.mu.Lock()
	for _, e := range in.Entries {
		h := aws.ToString(e.ReceiptHandle)
		if strings.Contains(f.body[h], f.mark) && f.tries[h] < f.times {
			f.tries[h]++
			failed = append(failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), Message: aws.String("injected"), SenderFault: f.senderFault})
			continue
		}
		pass = append(pass, e)
	}
	f.mu.Unlock()
	out := &sqs.DeleteMessageBatchOutput{}
	if len(pass) > 0 {
		var err error
		if out, err = f.Client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: in.QueueUrl, Entries: pass}, o...); err != nil {
			return nil, err
		}
	}
	out.Failed = append(out.Failed, failed...)
	return out, nil
}

// TestSQSBatchPartialFailure: entries of a DeleteMessageBatch call that
// fail are retried when the failure is not the sender's fault (and the
// messages are deleted), or reported with SQS's code when it is (and the
// messages stay in the queue); the other entries of the call are deleted
// either way.
func TestSQSBatchPartialFailure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		senderFault bool
		times       int
	}{
		{"retried", false, batchAttempts - 1},
		{"sender fault reported", true, 1000},
		{"retries exhausted reported", false, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, testenv.QueueOptions{VisibilityTimeout: 2 * time.Second})
			e.put("ok/obj", ndjson("ok", 1))
			e.put("bad/obj", ndjson("bad", 1))
			e.sendBatch(s3Event(s3RecordUnversioned("ObjectCreated:Put", e.bucket, "ok/obj")), 9)
			e.notify("bad/obj")
			fb := &failingBatches{Client: e.sqsc, mark: "bad/obj", times: tc.times, senderFault: tc.senderFault,
				tries: map[string]int{}, body: map[string]string{}}
			c := &collected{}
			s, err := NewSQS(e.s3c, fb, e.queue.URL, func(o *SQSOptions) {
				o.Workers, o.WaitTime, o.VisibilityTimeout, o.OnError = 1, time.Second, 30*time.Second, c.onError
			})
			if err != nil {
				t.Fatal(err)
			}
			read(t, s, 10, 30*time.Second, nil)
			if tc.times < batchAttempts {
				waitFor(t, 10*time.Second, "all deleted", func() bool { return s.Stats().Deleted == 10 })
				s.Close()
				if len(c.errors()) != 0 || e.queueDepth(e.queue.URL) != 0 {
					t.Fatalf("errors %v, %d messages left", c.errors(), e.queueDepth(e.queue.URL))
				}
				return
			}
			waitFor(t, 10*time.Second, "the failure reported", func() bool { return len(c.errors()) > 0 })
			s.Close()
			var be *BatchEntryError
			if errs := c.errors(); len(errs) != 1 || !errors.As(errs[0], &be) || be.Code != "InternalError" || be.SenderFault != tc.senderFault || be.Op != "delete" {
				t.Fatalf("errors %v, want one *BatchEntryError for the delete", errs)
			}
			if st := s.Stats(); st.Deleted != 9 {
				t.Fatalf("%d deleted, want the 9 others", st.Deleted)
			}
			// The failed one is still there (visible after the 30 s
			// visibility timeout, so look at the depth).
			if e.queueDepth(e.queue.URL) == 0 {
				t.Fatal("the message whose delete failed is gone")
			}
		})
	}
}

// TestSQSMaxReceiveCount: on a queue without a redrive policy, a message
// received more than MaxReceiveCount times is not read again: its object
// goes to the quarantine with ErrMaxReceiveCount, then the message is
// deleted. A failing quarantine leaves it in the queue.
func TestSQSMaxReceiveCount(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		body func(e *env) string
		key  string
		qerr error
	}{
		{"object", func(e *env) string { return s3Event(s3RecordUnversioned("ObjectCreated:Put", e.bucket, "m/obj")) }, "m/obj", nil},
		{"poison body", func(*env) string { return "not a notification" }, "", nil},
		{"quarantine fails", func(e *env) string { return s3Event(s3RecordUnversioned("ObjectCreated:Put", e.bucket, "m/obj")) }, "m/obj", errors.New("disk full")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, testenv.QueueOptions{VisibilityTimeout: time.Second})
			e.put("m/obj", ndjson("m", 1))
			e.send(tc.body(e))
			var mu sync.Mutex
			var got []lakerelay.Record
			var reasons []error
			rec := newRecorder()
			s, c := e.source(func(o *SQSOptions) {
				o.Observer = rec
				o.VisibilityTimeout = time.Second
				o.MaxReceiveCount = 2
				o.Quarantine = func(r lakerelay.Record, reason error) error {
					mu.Lock()
					defer mu.Unlock()
					got, reasons = append(got, r), append(reasons, reason)
					return tc.qerr
				}
			})
			stop := drain(t, s, func(lakerelay.Record) error { return errors.New("sink down") }) // nack: redelivered
			if tc.qerr != nil {
				waitFor(t, 15*time.Second, "a failed quarantine reported", func() bool {
					for _, err := range c.errors() {
						if errors.Is(err, tc.qerr) {
							return true
						}
					}
					return false
				})
				stop()
				s.Close()
				if st := s.Stats(); st.Deleted != 0 || e.queueDepth(e.queue.URL) == 0 {
					t.Fatalf("message deleted although its quarantine failed: %+v", st)
				}
				return
			}
			waitFor(t, 15*time.Second, "the message set aside and deleted", func() bool { return s.Stats().Deleted == 1 })
			stop()
			s.Close()
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 1 || got[0].Origin.Key != tc.key || string(got[0].Data) != tc.body(e) || !errors.Is(reasons[0], ErrMaxReceiveCount) {
				t.Fatalf("quarantined %+v, reasons %v", got, reasons)
			}
			if st := s.Stats(); st.MaxReceived != 1 || st.Quarantined != 1 || st.Messages != 3 || st.Redelivered != 2 {
				t.Fatalf("stats %+v, want 3 receives (2 redeliveries), then set aside", st)
			}
			if q, errs := rec.count(lakerelay.MetricQuarantined, lakerelay.Labels{Source: "sqs", LogType: got[0].Origin.LogType, Class: lakerelay.ClassMaxReceive}),
				rec.count(lakerelay.MetricErrors, lakerelay.Labels{Source: "sqs", Class: lakerelay.ClassMaxReceive}); q != 1 || errs != 1 {
				t.Fatalf("observed %d quarantined, %d errors of class max_receive, want 1 and 1", q, errs)
			}
			if r, d := rec.count(lakerelay.MetricSQSRedelivered, lakerelay.Labels{Source: "sqs"}), rec.count(lakerelay.MetricSQSDeleted, lakerelay.Labels{Source: "sqs"}); r != 2 || d != 1 {
				t.Fatalf("observed %d redelivered, %d deleted, want 2 and 1", r, d)
			}
			if d := e.queueDepth(e.queue.URL); d != 0 {
				t.Fatalf("%d messages left", d)
			}
		})
	}
}

func TestSQSMaxReceiveCountNeedsQuarantine(t *testing.T) {
	if err := (SQSOptions{MaxReceiveCount: 3}).Validate(); err == nil || !strings.Contains(err.Error(), "Quarantine") {
		t.Fatalf("Validate = %v, want an error naming Quarantine", err)
	}
}

func snsConfirmation(topic, subscribeURL string) string {
	return fmt.Sprintf(`{"Type":"SubscriptionConfirmation","MessageId":"m1","Token":"tok","TopicArn":%q,`+
		`"Message":"You have chosen to subscribe to the topic","SubscribeURL":%q,"Timestamp":"2026-01-01T00:00:00.000Z"}`, topic, subscribeURL)
}

// TestSQSSubscriptionConfirmation: an SNS SubscriptionConfirmation is
// confirmed through its SubscribeURL only when ConfirmSubscriptions allows
// it and the URL is https on an SNS host; otherwise it is reported with the
// URL to visit, which is not visited, and the message stays.
func TestSQSSubscriptionConfirmation(t *testing.T) {
	t.Parallel()
	var visits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("Action") == "ConfirmSubscription" && r.URL.Query().Get("Token") == "tok" {
			visits.Add(1)
			fmt.Fprint(w, "<ConfirmSubscriptionResponse/>")
			return
		}
		http.Error(w, "bad request", http.StatusBadRequest)
	}))
	t.Cleanup(srv.Close)
	const topic = "arn:aws:sns:us-east-1:123456789012:logs"
	subscribe := srv.URL + "/?Action=ConfirmSubscription&TopicArn=" + url.QueryEscape(topic) + "&Token=tok"
	for _, tc := range []struct {
		name     string
		confirm  bool
		override bool
		url      string
		wantErr  string
	}{
		{"confirmed", true, true, subscribe, ""},
		{"off", false, true, subscribe, "ConfirmSubscriptions"},
		{"not an SNS host", true, false, subscribe, "not an https URL on an sns"},
		{"refused", true, true, srv.URL + "/?Action=ConfirmSubscription&Token=other", "400"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := visits.Load()
			e := newEnv(t, testenv.QueueOptions{VisibilityTimeout: 30 * time.Second})
			e.send(snsConfirmation(topic, tc.url))
			s, c := e.source(func(o *SQSOptions) {
				o.ConfirmSubscriptions = tc.confirm
				o.HTTPClient = srv.Client()
				if tc.override {
					o.subscribeURLAllowed = func(u *url.URL) bool { return u.Scheme == "https" && u.Hostname() == "127.0.0.1" }
				}
			})
			if tc.wantErr == "" {
				waitFor(t, 10*time.Second, "confirmed and deleted", func() bool { return s.Stats().Deleted == 1 })
				if visits.Load() != before+1 || s.Stats().Subscriptions != 1 || len(c.errors()) != 0 {
					t.Fatalf("visits %d, stats %+v, errors %v", visits.Load()-before, s.Stats(), c.errors())
				}
				return
			}
			waitFor(t, 10*time.Second, "reported", func() bool { return len(c.errors()) > 0 })
			s.Close()
			var se *SubscriptionError
			errs := c.errors()
			if !errors.As(errs[0], &se) || se.URL != tc.url || se.TopicArn != topic || !strings.Contains(errs[0].Error(), tc.wantErr) ||
				!strings.Contains(errs[0].Error(), "visit "+tc.url) {
				t.Fatalf("errors %v, want a *SubscriptionError naming the URL and %q", errs, tc.wantErr)
			}
			if tc.name != "refused" && visits.Load() != before {
				t.Fatal("the SubscribeURL was visited")
			}
			if st := s.Stats(); st.Deleted != 0 || st.Subscriptions != 0 || e.queueDepth(e.queue.URL) == 0 {
				t.Fatalf("stats %+v: the message must stay", st)
			}
		})
	}
}

func TestSNSHost(t *testing.T) {
	for in, want := range map[string]bool{
		"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription": true,
		"https://sns.cn-north-1.amazonaws.com.cn/?Action=x":               true,
		"https://sns.eu-west-1.amazonaws.com:443/":                        true,
		"http://sns.us-east-1.amazonaws.com/":                             false,
		"https://sns.us-east-1.amazonaws.com:8443/":                       false,
		"https://evil.com/sns.us-east-1.amazonaws.com":                    false,
		"https://sns.us-east-1.amazonaws.com.evil.com/":                   false,
		"https://sqs.us-east-1.amazonaws.com/":                            false,
		"https://sns.a.b.amazonaws.com/":                                  false,
		"https://sns..amazonaws.com/":                                     false,
		"https://user@sns.us-east-1.amazonaws.com@evil.com/":              false,
	} {
		u, err := url.Parse(in)
		if got := err == nil && snsHost(u); got != want {
			t.Errorf("snsHost(%s) = %v, want %v", in, got, want)
		}
	}
}

func TestJitter(t *testing.T) {
	seen := map[time.Duration]bool{}
	for range 1000 {
		d := jitter(time.Second)
		if d < 500*time.Millisecond || d >= time.Second {
			t.Fatalf("jitter(1s) = %v, want [0.5s, 1s)", d)
		}
		seen[d] = true
	}
	if len(seen) < 900 {
		t.Fatalf("%d distinct waits in 1000: not jittered", len(seen))
	}
	if jitter(0) != 0 || jitter(1) != 1 {
		t.Fatal("jitter of 0 or 1ns")
	}
}

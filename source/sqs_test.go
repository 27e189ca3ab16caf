package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"go.uber.org/goleak"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// env is one bucket and one queue on the shared test servers.
type env struct {
	t      *testing.T
	minio  *testenv.MinIO
	s3c    *s3.Client
	sqsc   *sqs.Client
	bucket string
	queue  testenv.Queue
}

func newEnv(t *testing.T, qo testenv.QueueOptions) *env {
	t.Helper()
	m := testenv.StartMinIO(t)
	q := testenv.StartSQS(t)
	if qo.VisibilityTimeout == 0 {
		qo.VisibilityTimeout = 2 * time.Second
	}
	return &env{t: t, minio: m, s3c: m.S3(t), sqsc: q.Client(t), bucket: m.NewBucket(t), queue: q.NewQueue(t, qo)}
}

func (e *env) put(key string, data []byte) {
	e.t.Helper()
	if _, err := e.s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &e.bucket, Key: &key, Body: bytes.NewReader(data)}); err != nil {
		e.t.Fatalf("put %s: %v", key, err)
	}
}

func (e *env) send(body string) {
	e.t.Helper()
	if _, err := e.sqsc.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &e.queue.URL, MessageBody: &body}); err != nil {
		e.t.Fatalf("send: %v", err)
	}
}

// s3Key encodes a key the way S3 event notifications do.
func s3Key(k string) string { return strings.ReplaceAll(url.QueryEscape(k), "%2F", "/") }

func (e *env) notify(keys ...string) {
	e.t.Helper()
	var recs []string
	for _, k := range keys {
		recs = append(recs, s3RecordUnversioned("ObjectCreated:Put", e.bucket, s3Key(k)))
	}
	e.send(s3Event(recs...))
}

// s3RecordUnversioned is an event record of an unversioned bucket.
func s3RecordUnversioned(event, bucket, key string) string {
	return strings.Replace(s3Record(event, bucket, key), `,"versionId":"v1"`, "", 1)
}

type collected struct {
	mu   sync.Mutex
	errs []error
}

func (c *collected) onError(err error) {
	c.mu.Lock()
	c.errs = append(c.errs, err)
	c.mu.Unlock()
}

func (c *collected) errors() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]error(nil), c.errs...)
}

func (e *env) source(f func(*SQSOptions)) (*SQS, *collected) {
	e.t.Helper()
	c := &collected{}
	s, err := NewSQS(e.s3c, e.sqsc, e.queue.URL, func(o *SQSOptions) {
		o.Workers = 2
		o.WaitTime = time.Second
		o.VisibilityTimeout = 2 * time.Second
		o.OnError = c.onError
		if f != nil {
			f(o)
		}
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { s.Close() })
	return s, c
}

// read reads n records within d, acknowledging each with ack(record).
func read(t *testing.T, s lakerelay.Source, n int, d time.Duration, ack func(lakerelay.Record) error) []lakerelay.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var out []lakerelay.Record
	for len(out) < n {
		r, err := s.Read(ctx)
		if err != nil {
			t.Fatalf("after %d of %d records: %v", len(out), n, err)
		}
		out = append(out, r)
		var aerr error
		if ack != nil {
			aerr = ack(r)
		}
		r.Settle(aerr)
	}
	return out
}

// drain reads and settles records in the background until stop is called,
// which returns them.
func drain(t *testing.T, s lakerelay.Source, ack func(lakerelay.Record) error) (stop func() []lakerelay.Record) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var out []lakerelay.Record
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			r, err := s.Read(ctx)
			if err != nil {
				return
			}
			var aerr error
			if ack != nil {
				aerr = ack(r)
			}
			r.Settle(aerr)
			mu.Lock()
			out = append(out, r)
			mu.Unlock()
		}
	}()
	return func() []lakerelay.Record {
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return out
	}
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// queueEmpty reports whether the queue has no messages at all (visible or
// not).
func (e *env) queueDepth(url string) int {
	e.t.Helper()
	out, err := e.sqsc.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &url,
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	if err != nil {
		e.t.Fatal(err)
	}
	var n int
	for _, v := range out.Attributes {
		var x int
		fmt.Sscan(v, &x)
		n += x
	}
	return n
}

// remaining receives every message of the queue that becomes visible within
// d (after their visibility timeouts) and returns the bodies. Use it to
// prove that deleted messages are gone and others are not.
func (e *env) remaining(d time.Duration) []string {
	e.t.Helper()
	var bodies []string
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		out, err := e.sqsc.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &e.queue.URL, MaxNumberOfMessages: 1, WaitTimeSeconds: 1, VisibilityTimeout: 60})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
		}
	}
	return bodies
}

func ndjson(prefix string, n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "{\"src\":%q,\"i\":%d}\n", prefix, i)
	}
	return b.Bytes()
}

func TestSQSNotificationFormats(t *testing.T) {
	e := newEnv(t, testenv.QueueOptions{})
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"), goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"))
	keys := []string{"logs/a b+c=d/é.json.gz", "logs/plus+only", "ünï/cödé=1 2.zst", "trail/AWSLogs/1/CloudTrail/x.json.gz", "eb/x y+z=é.log"}
	e.put(keys[0], gz(t, string(ndjson("k0", 3))))
	e.put(keys[1], ndjson("k1", 2))
	e.put(keys[2], zst(t, `[{"src":"k2","i":0},{"src":"k2","i":1}]`))
	e.put(keys[3], gz(t, `{"Records":[{"src":"k3","i":0},{"src":"k3","i":1},{"src":"k3","i":2}]}`))
	e.put(keys[4], []byte("plain line\n{\"src\":\"k4\"}\n"))

	e.notify(keys[0])                                                                            // S3 event, key form-encoded
	e.send(snsWrap(s3Event(s3RecordUnversioned("ObjectCreated:Put", e.bucket, s3Key(keys[1]))))) // SNS envelope
	e.send(s3Event(s3RecordUnversioned("ObjectCreated:CompleteMultipartUpload", e.bucket, s3Key(keys[2])), s3RecordUnversioned("ObjectRemoved:Delete", e.bucket, "gone")))
	e.send(snsWrap(`{"s3Bucket":"` + e.bucket + `","s3ObjectKey":["` + keys[3] + `"]}`)) // CloudTrail notice
	e.send(eventBridge("Object Created", e.bucket, keys[4]))                             // EventBridge, key not encoded
	e.send(testEvent)
	e.send(snsWrap(testEvent))
	e.send(eventBridge("Object Deleted", e.bucket, keys[4]))

	s, c := e.source(func(o *SQSOptions) { o.LogTypes = map[string]string{"logs/": "app", "trail/": "cloudtrail"} })
	recs := read(t, s, 12, 20*time.Second, nil)
	got := map[string]int{}
	for _, r := range recs {
		got[r.Origin.Key]++
		if r.Origin.Bucket != e.bucket {
			t.Fatalf("origin %+v", r.Origin)
		}
		if strings.HasPrefix(r.Origin.Key, "logs/") && r.Origin.LogType != "app" || strings.HasPrefix(r.Origin.Key, "trail/") && r.Origin.LogType != "cloudtrail" {
			t.Fatalf("log type of %+v", r.Origin)
		}
		if r.Origin.Key == keys[4] && r.Origin.Index == 0 && string(r.Data) != "plain line" {
			t.Fatalf("lines record %q", r.Data)
		}
	}
	want := map[string]int{keys[0]: 3, keys[1]: 2, keys[2]: 2, keys[3]: 3, keys[4]: 2}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d records, want %d (all: %v)", k, got[k], n, got)
		}
	}
	waitFor(t, 10*time.Second, "all messages deleted", func() bool { return s.Stats().Deleted == 8 })
	if left := e.remaining(3 * time.Second); len(left) != 0 {
		t.Fatalf("messages left: %q", left)
	}
	st := s.Stats()
	if st.Messages != 8 || st.Objects != 5 || st.Records != 12 || st.Skipped != 4 || st.Errors != 0 {
		t.Fatalf("stats %+v, errors %v", st, c.errors())
	}
	s.Close()
}

func TestSQSStreamTypes(t *testing.T) {
	e := newEnv(t, testenv.QueueOptions{})
	cw := cwDoc1 + cwControl + cwDoc2
	tests := []struct {
		opts DecodeOptions
		data []byte
		want []string
	}{
		{DecodeOptions{StreamType: Lines}, gz(t, "a b\nc\r\n"), []string{"a b", "c"}},
		{DecodeOptions{StreamType: NDJSON}, zst(t, "{\"a\":1}{\"b\":2}\n{\n \"c\": 3\n}"), []string{`{"a":1}`, `{"b":2}`, `{"c":3}`}},
		{DecodeOptions{StreamType: JSON}, []byte("{\n \"doc\": [1, 2]\n}\n"), []string{`{"doc":[1,2]}`}},
		{DecodeOptions{StreamType: JSONArray}, gz(t, `[{"a":1},`, ` {"b":2}]`), []string{`{"a":1}`, `{"b":2}`}},
		{DecodeOptions{ExpandField: "Records"}, gz(t, `{"Records":[{"e":1},{"e":2}]}`), []string{`{"e":1}`, `{"e":2}`}},
		{DecodeOptions{StreamType: CloudWatchLogs}, gz(t, cwDoc1, cwControl, cwDoc2), []string{`{"level":"info"}`, "plain text", "third"}},
		{DecodeOptions{}, gz(t, cw), []string{`{"level":"info"}`, "plain text", "third"}},
	}
	for i, tt := range tests {
		name := string(tt.opts.StreamType) + tt.opts.ExpandField
		if name == "" {
			name = "auto"
		}
		t.Run(name, func(t *testing.T) {
			e := *e
			e.t = t
			e.queue = testenv.StartSQS(t).NewQueue(t, testenv.QueueOptions{VisibilityTimeout: 2 * time.Second})
			key := fmt.Sprintf("types/%d/obj %s+=é", i, name)
			e.put(key, tt.data)
			e.notify(key)
			s, c := e.source(func(o *SQSOptions) { o.Decode = tt.opts })
			recs := read(t, s, len(tt.want), 15*time.Second, nil)
			for j, r := range recs {
				if string(r.Data) != tt.want[j] || r.Origin.Index != int64(j) || r.Origin.Key != key {
					t.Fatalf("record %d: %q %+v, want %q", j, r.Data, r.Origin, tt.want[j])
				}
			}
			if tt.opts.StreamType == CloudWatchLogs && (recs[2].Origin.CloudWatch == nil || recs[2].Origin.CloudWatch.LogGroup != "g2") {
				t.Fatalf("cloudwatch origin %+v", recs[2].Origin.CloudWatch)
			}
			waitFor(t, 10*time.Second, "deleted", func() bool { return s.Stats().Deleted == 1 })
			if errs := c.errors(); len(errs) != 0 {
				t.Fatal(errs)
			}
		})
	}
}

func TestSQSKeyFilter(t *testing.T) {
	e := newEnv(t, testenv.QueueOptions{})
	e.put("in/a", []byte("x\n"))
	e.put("in/skip/b", []byte("y\n"))
	e.put("out/c", []byte("z\n"))
	e.notify("in/a", "in/skip/b", "out/c")
	s, _ := e.source(func(o *SQSOptions) {
		o.IncludePrefixes = []string{"in/"}
		o.ExcludePrefixes = []string{"in/skip/"}
	})
	recs := read(t, s, 1, 15*time.Second, nil)
	if recs[0].Origin.Key != "in/a" {
		t.Fatalf("record from %s", recs[0].Origin.Key)
	}
	waitFor(t, 10*time.Second, "deleted", func() bool { return s.Stats().Deleted == 1 })
	if st := s.Stats(); st.Skipped != 2 || st.Records != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestSQSCancelMidObject: the reader is closed half way through an object;
// the message is not deleted but released (made visible again at once), and
// every record arrives through a second reader. (A process killed outright
// cannot release it: TestCollectKilledMidObject in examples/collect shows the
// message coming back after its visibility timeout.)
func TestSQSCancelMidObject(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.QueueOptions{})
	const n = 2000
	e.put("big/obj.gz", gz(t, string(ndjson("big", n))))
	e.notify("big/obj.gz")

	s1, _ := e.source(nil)
	first := read(t, s1, 100, 15*time.Second, nil)
	s1.Close()
	if st := s1.Stats(); st.Deleted != 0 || len(first) != 100 {
		t.Fatalf("first reader: %+v", st)
	}

	s2, c := e.source(nil)
	seen := map[int64]bool{}
	for _, r := range read(t, s2, n, 30*time.Second, nil) {
		var v struct{ I int64 }
		if err := json.Unmarshal(r.Data, &v); err != nil || v.I != r.Origin.Index {
			t.Fatalf("record %s at index %d", r.Data, r.Origin.Index)
		}
		seen[v.I] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct records, want %d", len(seen), n)
	}
	waitFor(t, 10*time.Second, "deleted", func() bool { return s2.Stats().Deleted == 1 })
	s2.Close()
	if left := e.remaining(3 * time.Second); len(left) != 0 || len(c.errors()) != 0 {
		t.Fatalf("left %q errors %v", left, c.errors())
	}
}

// TestSQSNack: a negatively acknowledged record leaves the message; it is
// redelivered and deleted once everything is acknowledged.
func TestSQSNack(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.QueueOptions{})
	e.put("n/obj", ndjson("n", 5))
	e.notify("n/obj")
	s, c := e.source(nil)
	sinkDown := errors.New("sink down")
	var once sync.Once
	stop := drain(t, s, func(r lakerelay.Record) (err error) {
		if r.Origin.Index == 3 {
			once.Do(func() { err = sinkDown })
		}
		return err
	})
	waitFor(t, 15*time.Second, "deleted", func() bool { return s.Stats().Deleted == 1 })
	recs := stop()
	st := s.Stats()
	var me *MessageError
	errs := c.errors()
	if st.Messages != 2 || len(recs) < 9 || len(errs) != 1 || !errors.As(errs[0], &me) || !errors.Is(errs[0], sinkDown) {
		t.Fatalf("stats %+v records %d errors %v", st, len(recs), errs)
	}
}

// TestSQSVisibilityExtension: records held longer than the visibility
// timeout do not cause a redelivery.
func TestSQSVisibilityExtension(t *testing.T) {
	t.Parallel()
	for name, vis := range map[string]time.Duration{"configured": 2 * time.Second, "queue's": 0} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, testenv.QueueOptions{VisibilityTimeout: 2 * time.Second})
			e.put("v/obj", ndjson("v", 2))
			e.notify("v/obj")
			s, c := e.source(func(o *SQSOptions) { o.VisibilityTimeout = vis })
			var held []lakerelay.Record
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			for range 2 {
				r, err := s.Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, r)
			}
			time.Sleep(5 * time.Second) // 2.5 visibility timeouts
			if st := s.Stats(); st.Messages != 1 {
				t.Fatalf("message redelivered while in flight: %+v", st)
			}
			for _, r := range held {
				r.Settle(nil)
			}
			waitFor(t, 10*time.Second, "deleted", func() bool { return s.Stats().Deleted == 1 })
			if len(c.errors()) != 0 {
				t.Fatal(c.errors())
			}
		})
	}
}

// TestSQSPoisonMessage: an undecodable body is never deleted and ends in the
// dead-letter queue.
func TestSQSPoisonMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.QueueOptions{VisibilityTimeout: time.Second, MaxReceiveCount: 2})
	e.send("this is not a notification")
	s, c := e.source(func(o *SQSOptions) { o.VisibilityTimeout = time.Second })
	waitFor(t, 20*time.Second, "message in DLQ", func() bool { return e.queueDepth(e.queue.DLQURL) == 1 })
	s.Close()
	errs := c.errors()
	if len(errs) < 2 || !errors.Is(errs[0], ErrInvalidNotification) || s.Stats().Deleted != 0 {
		t.Fatalf("errors %v stats %+v", errs, s.Stats())
	}
}

// failureCase runs a source whose object fails, checks the error, and checks
// the message is redelivered (not deleted).
func expectRedelivery(t *testing.T, s *SQS, c *collected, is error) []error {
	t.Helper()
	stop := drain(t, s, nil)
	waitFor(t, 20*time.Second, "redelivery", func() bool { return s.Stats().Messages >= 2 })
	stop()
	s.Close()
	errs := c.errors()
	if s.Stats().Deleted != 0 || len(errs) < 1 {
		t.Fatalf("stats %+v errors %v", s.Stats(), errs)
	}
	var oe *ObjectError
	if !errors.As(errs[0], &oe) || oe.Bucket == "" || oe.Key == "" {
		t.Fatalf("error %v does not name the object", errs[0])
	}
	if is != nil && !errors.Is(errs[0], is) {
		t.Fatalf("error %v is not %v", errs[0], is)
	}
	return errs
}

func TestSQSObjectFailures(t *testing.T) {
	t.Run("404", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, testenv.QueueOptions{})
		e.notify("missing/key")
		s, c := e.source(nil)
		expectRedelivery(t, s, c, ErrNotFound)
		if s.Stats().NotFound < 1 {
			t.Fatalf("stats %+v", s.Stats())
		}
	})
	t.Run("403", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, testenv.QueueOptions{})
		e.put("secret/obj", []byte("x\n"))
		e.notify("secret/obj")
		cfg := e.minio.RestrictedConfig(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::*"]}]}`)
		e.s3c = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
		s, c := e.source(nil)
		errs := expectRedelivery(t, s, c, nil)
		var api smithy.APIError
		if !errors.As(errs[0], &api) || api.ErrorCode() != "AccessDenied" || errors.Is(errs[0], ErrNotFound) {
			t.Fatalf("error %v", errs[0])
		}
	})
	t.Run("503-retried", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, testenv.QueueOptions{})
		e.put("slow/obj", ndjson("s", 3))
		e.notify("slow/obj")
		p := testenv.NewFaultProxy(t, e.minio.Endpoint)
		e.s3c = s3.NewFromConfig(e.minio.Config(t), func(o *s3.Options) { o.UsePathStyle = true; o.BaseEndpoint = aws.String(p.URL()) })
		p.FailNext(2, 503, "SlowDown")
		s, c := e.source(nil)
		read(t, s, 3, 20*time.Second, nil)
		waitFor(t, 10*time.Second, "deleted", func() bool { return s.Stats().Deleted == 1 })
		if p.Requests() < 3 || len(c.errors()) != 0 {
			t.Fatalf("requests %d errors %v", p.Requests(), c.errors())
		}
	})
	t.Run("503-persistent", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, testenv.QueueOptions{})
		e.put("slow/obj", ndjson("s", 3))
		e.notify("slow/obj")
		p := testenv.NewFaultProxy(t, e.minio.Endpoint)
		e.s3c = s3.NewFromConfig(e.minio.Config(t), func(o *s3.Options) { o.UsePathStyle = true; o.BaseEndpoint = aws.String(p.URL()) })
		p.FailNext(3, 503, "SlowDown") // all attempts of the first fetch
		s, c := e.source(nil)
		recs := read(t, s, 3, 20*time.Second, nil) // the redelivery succeeds
		waitFor(t, 10*time.Second, "deleted", func() bool { return s.Stats().Deleted == 1 })
		errs := c.errors()
		var api smithy.APIError
		if len(recs) != 3 || len(errs) != 1 || !errors.As(errs[0], &api) || api.ErrorCode() != "SlowDown" || s.Stats().Messages != 2 {
			t.Fatalf("errors %v stats %+v", errs, s.Stats())
		}
	})
	t.Run("s3-down", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, testenv.QueueOptions{})
		down := testenv.NewMinIO(t)
		e.s3c = down.S3(t)
		down.Stop()
		e.notify("any/key")
		s, c := e.source(nil)
		expectRedelivery(t, s, c, nil)
	})
	t.Run("corrupt-gzip", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, testenv.QueueOptions{})
		e.put("bad/obj.gz", truncated(gz(t, string(ndjson("c", 1000))), 20))
		e.notify("bad/obj.gz")
		s, c := e.source(nil)
		expectRedelivery(t, s, c, nil)
	})
	t.Run("oversized-record", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, testenv.QueueOptions{})
		e.put("big/rec", []byte(`{"a":1}`+"\n"+`{"b":"`+strings.Repeat("x", 2000)+`"}`+"\n"))
		e.notify("big/rec")
		s, c := e.source(func(o *SQSOptions) { o.Decode.MaxRecordSize = 1000 })
		errs := expectRedelivery(t, s, c, lakerelay.ErrTooLarge)
		var oe *ObjectError
		errors.As(errs[0], &oe)
		if oe.Offset != 8 {
			t.Fatalf("offset %d", oe.Offset)
		}
	})
	t.Run("invalid-line-quarantined", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, testenv.QueueOptions{})
		e.put("q/obj", []byte("{\"a\":1}\nnot json\n{\"b\":2}\n"))
		e.notify("q/obj")
		var mu sync.Mutex
		var q []string
		s, c := e.source(func(o *SQSOptions) {
			o.Quarantine = func(r lakerelay.Record, reason error) error {
				mu.Lock()
				defer mu.Unlock()
				if !errors.Is(reason, lakerelay.ErrInvalidRecord) || !strings.Contains(reason.Error(), "offset 8") {
					t.Errorf("reason %v", reason)
				}
				q = append(q, string(r.Data))
				return nil
			}
		})
		recs := read(t, s, 2, 15*time.Second, nil)
		waitFor(t, 10*time.Second, "deleted", func() bool { return s.Stats().Deleted == 1 })
		if string(recs[1].Data) != `{"b":2}` || len(q) != 1 || q[0] != "not json" || s.Stats().Quarantined != 1 || len(c.errors()) != 0 {
			t.Fatalf("records %v quarantined %q stats %+v errors %v", recs, q, s.Stats(), c.errors())
		}
	})
	t.Run("invalid-line-without-quarantine", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, testenv.QueueOptions{})
		e.put("q/obj", []byte("{\"a\":1}\nnot json\n{\"b\":2}\n"))
		e.notify("q/obj")
		s, c := e.source(nil)
		expectRedelivery(t, s, c, lakerelay.ErrInvalidRecord)
	})
}

// TestSQSServerDown: receive errors are reported and retried with backoff,
// and Close returns promptly.
func TestSQSServerDown(t *testing.T) {
	t.Parallel()
	q := testenv.NewSQS(t)
	queue := q.NewQueue(t, testenv.QueueOptions{})
	sqsc := q.Client(t)
	q.Stop()
	c := &collected{}
	s, err := NewSQS(testenv.StartMinIO(t).S3(t), sqsc, queue.URL, func(o *SQSOptions) {
		o.WaitTime = time.Second
		o.VisibilityTimeout = 2 * time.Second
		o.OnError = c.onError
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "receive errors", func() bool { return len(c.errors()) >= 2 })
	start := time.Now()
	s.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := s.Read(ctx); !errors.Is(err, lakerelay.ErrClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
	if s.Stats().Messages != 0 || s.Stats().Errors < 2 {
		t.Fatalf("stats %+v", s.Stats())
	}
}

func TestSQSOptionsValidate(t *testing.T) {
	for _, f := range []func(*SQSOptions){
		func(o *SQSOptions) { o.Workers = -1 },
		func(o *SQSOptions) { o.WaitTime = 21 * time.Second },
		func(o *SQSOptions) { o.VisibilityTimeout = 13 * time.Hour },
		func(o *SQSOptions) { o.Decode.StreamType = "csv" },
	} {
		if _, err := NewSQS(&s3.Client{}, &sqs.Client{}, "u", f); err == nil {
			t.Error("no error")
		}
	}
	if _, err := NewSQS(nil, nil, ""); err == nil {
		t.Error("no error without clients")
	}
}

// TestSQSSettleTwice: only the first Settle of a record counts.
func TestSQSSettleTwice(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.QueueOptions{})
	e.put("twice/obj", ndjson("t", 2))
	e.notify("twice/obj")
	s, c := e.source(nil)
	recs := read(t, s, 2, 15*time.Second, nil) // settled with nil
	for _, r := range recs {
		r.Settle(errors.New("late nack, ignored"))
	}
	waitFor(t, 10*time.Second, "deleted", func() bool { return s.Stats().Deleted == 1 })
	if len(c.errors()) != 0 {
		t.Fatal(c.errors())
	}
}

// proxiedSQS returns an SQS client that reaches the shared local-aws-sqs
// through a fault proxy.
func proxiedSQS(t *testing.T) (*sqs.Client, *testenv.FaultProxy) {
	t.Helper()
	q := testenv.StartSQS(t)
	p := testenv.NewFaultProxy(t, q.Endpoint)
	return sqs.NewFromConfig(q.Config(t), func(o *sqs.Options) { o.BaseEndpoint = aws.String(p.URL()) }), p
}

// TestSQSPermanentErrors: errors that waiting cannot heal end the source.
// Read returns a permanent error naming the queue URL and what to check
// instead of blocking forever, and the source stops receiving.
func TestSQSPermanentErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		status int    // injected by the proxy; 0: none (the queue URL is wrong)
		code   string // the API error code Read's error must carry
		hint   string
	}{
		{"queue does not exist", 0, "AWS.SimpleQueueService.NonExistentQueue", "the queue must exist"},
		{"access denied", 403, "AccessDenied", "sqs:ReceiveMessage"},
		{"invalid client token", 403, "InvalidClientTokenId", "AWS credentials"},
		{"signature does not match", 403, "SignatureDoesNotMatch", "AWS credentials"},
		{"other client error", 400, "InvalidParameterValue", "check the queue URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sqsc, p := proxiedSQS(t)
			url := testenv.StartSQS(t).NewQueue(t, testenv.QueueOptions{}).URL
			if tc.status == 0 {
				url += "-missing"
			} else {
				p.FailNext(1, tc.status, tc.code)
			}
			c := &collected{}
			s, err := NewSQS(testenv.StartMinIO(t).S3(t), sqsc, url, func(o *SQSOptions) {
				o.Workers = 2
				o.WaitTime = time.Second
				o.VisibilityTimeout = 2 * time.Second
				o.OnError = c.onError
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err = s.Read(ctx)
			if ctx.Err() != nil {
				t.Fatalf("Read blocked: %v", err)
			}
			var ae smithy.APIError
			if !lakerelay.IsPermanent(err) || !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
				t.Fatalf("Read: %v, want a permanent %s error", err, tc.code)
			}
			if !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), tc.hint) {
				t.Fatalf("Read: %q does not name the queue URL and %q", err, tc.hint)
			}
			if _, again := s.Read(ctx); again != err || s.Err() != err {
				t.Fatalf("second Read %v, Err %v: want %v", again, s.Err(), err)
			}
			// The source stopped: beyond the other worker's poll already on
			// its way, no further receives (a retrying worker would send
			// several a second).
			n := p.Requests()
			time.Sleep(1500 * time.Millisecond)
			n1 := p.Requests()
			time.Sleep(1500 * time.Millisecond)
			if n1-n > 1 || p.Requests() != n1 {
				t.Fatalf("%d, then %d requests after the source failed", n1-n, p.Requests()-n1)
			}
			if got := len(c.errors()); got != 1 && got != 2 { // one per worker at most
				t.Fatalf("%d errors reported: %v", got, c.errors())
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Read(ctx); !errors.Is(err, lakerelay.ErrClosed) {
				t.Fatalf("Read after Close: %v", err)
			}
		})
	}
}

// TestSQSTransientErrors: throttling (a 4xx) and server errors are reported
// and retried; the records come through once the queue answers again.
func TestSQSTransientErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		code   string
	}{
		{400, "ThrottlingException"},
		{403, "RequestThrottled"},
		{503, "ServiceUnavailable"},
		{500, "InternalError"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, testenv.QueueOptions{})
			e.put("transient/obj", ndjson("t", 3))
			e.notify("transient/obj")
			sqsc, p := proxiedSQS(t)
			p.FailNext(8, tc.status, tc.code) // beyond the SDK's own 3 attempts
			c := &collected{}
			s, err := NewSQS(e.s3c, sqsc, e.queue.URL, func(o *SQSOptions) {
				o.Workers = 1
				o.WaitTime = time.Second
				o.VisibilityTimeout = 2 * time.Second
				o.OnError = c.onError
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			recs := read(t, s, 3, 60*time.Second, nil)
			if len(recs) != 3 {
				t.Fatalf("%d records", len(recs))
			}
			errs := c.errors()
			if len(errs) == 0 {
				t.Fatal("no receive error reported")
			}
			for _, err := range errs {
				var ae smithy.APIError
				if lakerelay.IsPermanent(err) || !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
					t.Fatalf("reported %v, want a transient %s", err, tc.code)
				}
			}
			if s.Err() != nil {
				t.Fatalf("Err: %v", s.Err())
			}
			waitFor(t, 10*time.Second, "deleted", func() bool { return s.Stats().Deleted == 1 })
		})
	}
}

// TestSQSUnread: a message whose records were read from its object but
// not all handed out by Read is unread; one whose records were all handed
// out but not yet acknowledged is in flight and no longer unread; once they
// are acknowledged it is deleted.
func TestSQSUnread(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.QueueOptions{})
	e.put("u/obj", ndjson("u", 3))
	e.notify("u/obj")
	s, _ := e.source(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	r, err := s.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	recs := []lakerelay.Record{r}
	// The worker has read the whole object by now; two records wait.
	waitFor(t, 5*time.Second, "object read", func() bool { return s.Stats().Objects == 1 })
	time.Sleep(100 * time.Millisecond)
	if s.Unread() != 1 {
		t.Fatalf("unread %d with records not handed out; want 1", s.Unread())
	}
	for len(recs) < 3 {
		r, err := s.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	// The message is read once its last record was handed out.
	waitFor(t, 5*time.Second, "read", func() bool { return s.Unread() == 0 })
	if s.InFlight() != 1 {
		t.Fatalf("in flight %d, unread %d; want 1 and 0", s.InFlight(), s.Unread())
	}
	for _, r := range recs {
		r.Settle(nil)
	}
	waitFor(t, 15*time.Second, "deleted", func() bool { return s.Stats().Deleted == 1 && s.InFlight() == 0 })
}

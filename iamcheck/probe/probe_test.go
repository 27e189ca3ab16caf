package probe

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var pathStyle = []func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true }}

func byCheck(t *testing.T, rs []Result) map[string]Result {
	t.Helper()
	m := map[string]Result{}
	for _, r := range rs {
		if _, dup := m[r.Check]; dup {
			t.Fatalf("check %s reported twice", r.Check)
		}
		m[r.Check] = r
	}
	return m
}

func wantOutcome(t *testing.T, rs map[string]Result, check string, want Outcome) Result {
	t.Helper()
	r, ok := rs[check]
	if !ok {
		t.Fatalf("no %s result in %+v", check, rs)
	}
	if r.Outcome != want {
		t.Fatalf("%s: outcome %s (status %d, code %q, %s), want %s", check, r.Outcome, r.Status, r.Code, r.Detail, want)
	}
	if want != OutcomeOK && r.Hint == "" {
		t.Fatalf("%s: no hint", check)
	}
	return r
}

func TestRunOK(t *testing.T) {
	m := testenv.StartMinIO(t)
	q := testenv.StartSQS(t)
	bucket := m.NewBucket(t)
	queue := q.NewQueue(t, testenv.QueueOptions{})
	ctx := context.Background()
	if _, err := q.Client(t).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queue.URL, MessageBody: aws.String(`{"Records":[]}`)}); err != nil {
		t.Fatal(err)
	}
	sqsEndpoint := q.Endpoint
	rs := Run(ctx, m.Config(t), Options{Bucket: bucket, Prefix: "connector/raw", QueueURL: queue.URL, S3Options: pathStyle,
		SQSOptions: []func(*sqs.Options){func(o *sqs.Options) { o.BaseEndpoint = &sqsEndpoint }}})
	got := byCheck(t, rs)
	// MinIO implements no GetCallerIdentity (a documented deviation from
	// AWS): the probe reports it as unsupported and advisory.
	gci := wantOutcome(t, got, "sts:GetCallerIdentity", OutcomeUnsupported)
	if !gci.Advisory || gci.Status != 400 {
		t.Fatalf("GetCallerIdentity = %+v", gci)
	}
	wantOutcome(t, got, "s3:HeadBucket", OutcomeOK)
	put := wantOutcome(t, got, "s3:PutObject", OutcomeOK)
	wantOutcome(t, got, "s3:GetObject", OutcomeOK)
	a := wantOutcome(t, got, "sqs:GetQueueAttributes", OutcomeOK)
	if !strings.Contains(a.Detail, queue.ARN) {
		t.Fatalf("queue detail %q lacks the ARN %s", a.Detail, queue.ARN)
	}
	wantOutcome(t, got, "sqs:ReceiveMessage", OutcomeOK)
	if AnyFailed(rs) {
		t.Fatalf("AnyFailed on a working setup: %+v", rs)
	}
	key := strings.TrimPrefix(put.Target, bucket+"/")
	if !strings.HasPrefix(key, "connector/raw/"+KeyPrefix) {
		t.Fatalf("probe key %q not under the prefix", key)
	}
	if _, err := m.S3(t).HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key}); err != nil {
		t.Fatalf("probe object not stored: %v", err)
	}
	// The message the probe saw is still there for the collector.
	out, err := q.Client(t).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queue.URL, WaitTimeSeconds: 1})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("message not left on the queue: %v, %d", err, len(out.Messages))
	}
}

func TestRunWrongSecret(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	rs := Run(context.Background(), m.ConfigWith(t, m.AccessKey, "not-the-secret", ""), Options{Bucket: bucket, S3Options: pathStyle})
	got := byCheck(t, rs)
	put := wantOutcome(t, got, "s3:PutObject", OutcomeBadCredentials)
	if put.Code != "SignatureDoesNotMatch" || put.Status != 403 {
		t.Fatalf("PutObject = %+v", put)
	}
	var ae smithy.APIError
	if !errors.As(put.Err, &ae) {
		t.Fatalf("Err %v is not an APIError", put.Err)
	}
	// HEAD has no body, so a 403 there cannot name the cause.
	head := wantOutcome(t, got, "s3:HeadBucket", OutcomeMissingPermission)
	if !head.Advisory || !strings.Contains(head.Hint, "credentials") {
		t.Fatalf("HeadBucket = %+v", head)
	}
	wantOutcome(t, got, "s3:GetObject", OutcomeSkipped)
	if !AnyFailed(rs) {
		t.Fatal("AnyFailed false with a wrong secret")
	}
}

func TestRunUnknownAccessKey(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	cfg := m.ConfigWith(t, "AKIANOSUCHKEY0000000", "secret", "")
	rs := Run(context.Background(), cfg, Options{Bucket: bucket, RoleARN: "arn:aws:iam::123456789012:role/lakerelay", S3Options: pathStyle})
	got := byCheck(t, rs)
	ar := wantOutcome(t, got, "sts:AssumeRole", OutcomeBadCredentials)
	if ar.Status != 403 {
		t.Fatalf("AssumeRole = %+v", ar)
	}
	for _, c := range []string{"s3:HeadBucket", "s3:PutObject", "s3:GetObject"} {
		wantOutcome(t, got, c, OutcomeSkipped)
	}
	rs = Run(context.Background(), cfg, Options{Bucket: bucket, S3Options: pathStyle})
	put := wantOutcome(t, byCheck(t, rs), "s3:PutObject", OutcomeBadCredentials)
	if put.Code != "InvalidAccessKeyId" {
		t.Fatalf("PutObject = %+v", put)
	}
}

func TestRunDeniedAction(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	cfg := m.RestrictedConfig(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::`+bucket+`/*"}]}`)
	rs := Run(context.Background(), cfg, Options{Bucket: bucket, Prefix: "p/", S3Options: pathStyle})
	got := byCheck(t, rs)
	put := wantOutcome(t, got, "s3:PutObject", OutcomeMissingPermission)
	if put.Action != "s3:PutObject" || put.Code != "AccessDenied" || !strings.Contains(put.Hint, "s3:PutObject on arn:aws:s3:::"+bucket+"/p/") {
		t.Fatalf("PutObject = %+v", put)
	}
	wantOutcome(t, got, "s3:HeadBucket", OutcomeMissingPermission)
	if !AnyFailed(rs) {
		t.Fatal("AnyFailed false")
	}
}

func TestRunAssumeRole(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	rs := Run(context.Background(), m.Config(t), Options{Bucket: bucket, RoleARN: "arn:aws:iam::123456789012:role/lakerelay",
		ExternalID: "ext-1", S3Options: pathStyle})
	got := byCheck(t, rs)
	wantOutcome(t, got, "sts:AssumeRole", OutcomeOK)
	wantOutcome(t, got, "s3:PutObject", OutcomeOK)
	if AnyFailed(rs) {
		t.Fatalf("%+v", rs)
	}
}

func TestRunMissingBucket(t *testing.T) {
	m := testenv.StartMinIO(t)
	rs := Run(context.Background(), m.Config(t), Options{Bucket: "lr-no-such-bucket-0000", S3Options: pathStyle})
	got := byCheck(t, rs)
	h := wantOutcome(t, got, "s3:HeadBucket", OutcomeNotFound)
	p := wantOutcome(t, got, "s3:PutObject", OutcomeNotFound)
	if h.Status != 404 || p.Code != "NoSuchBucket" || !strings.Contains(p.Hint, "lr-no-such-bucket-0000") {
		t.Fatalf("HeadBucket %+v, PutObject %+v", h, p)
	}
}

func TestRunMissingQueue(t *testing.T) {
	q := testenv.StartSQS(t)
	url := q.Endpoint + "/" + q.AccountID + "/lakerelay-no-such-queue"
	rs := Run(context.Background(), q.Config(t), Options{QueueURL: url})
	got := byCheck(t, rs)
	for _, c := range []string{"sqs:GetQueueAttributes", "sqs:ReceiveMessage"} {
		r := wantOutcome(t, got, c, OutcomeNotFound)
		if r.Code != "AWS.SimpleQueueService.NonExistentQueue" {
			t.Fatalf("%s = %+v", c, r)
		}
	}
	if !AnyFailed(rs) {
		t.Fatal("AnyFailed false")
	}
}

func TestRunThrottled(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	proxy := testenv.NewFaultProxy(t, m.Endpoint)
	proxy.FailNext(100, 503, "SlowDown")
	// aws.Config.BaseEndpoint set after loading does not override the
	// endpoint loaded into ConfigSources; set it on the client instead.
	url := proxy.URL()
	rs := Run(context.Background(), m.Config(t), Options{Bucket: bucket,
		S3Options: []func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true; o.BaseEndpoint = &url }}})
	p := wantOutcome(t, byCheck(t, rs), "s3:PutObject", OutcomeThrottled)
	if p.Status != 503 || p.Code != "SlowDown" {
		t.Fatalf("PutObject = %+v", p)
	}
}

func TestRunWrongRegion(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	cfg := m.Config(t)
	cfg.Region = "eu-west-3"
	rs := Run(context.Background(), cfg, Options{Bucket: bucket, S3Options: pathStyle})
	p := wantOutcome(t, byCheck(t, rs), "s3:PutObject", OutcomeBadConfig)
	if p.Status != 400 || !strings.Contains(p.Hint, "region") {
		t.Fatalf("PutObject = %+v", p)
	}
}

func TestRunUnreachable(t *testing.T) {
	m := testenv.StartMinIO(t)
	cfg := m.Config(t)
	cfg.RetryMaxAttempts = 1
	closed := testenv.ClosedEndpoint(t)
	rs := Run(context.Background(), cfg, Options{Bucket: "lr-any",
		S3Options:  []func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true; o.BaseEndpoint = &closed }},
		STSOptions: []func(*sts.Options){func(o *sts.Options) { o.BaseEndpoint = &closed }}})
	if len(rs) != 4 {
		t.Fatalf("results: %+v", rs)
	}
	for _, r := range rs {
		if r.Outcome != OutcomeUnreachable && r.Outcome != OutcomeSkipped {
			t.Fatalf("%s: %s (%s)", r.Check, r.Outcome, r.Detail)
		}
	}
}

func TestRunCancelled(t *testing.T) {
	m := testenv.StartMinIO(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	rs := Run(ctx, m.Config(t), Options{Bucket: "lr-any", S3Options: pathStyle})
	for _, r := range rs {
		if r.Outcome != OutcomeError && r.Outcome != OutcomeSkipped {
			t.Fatalf("%s: %s (%s)", r.Check, r.Outcome, r.Detail)
		}
	}
	if !AnyFailed(rs) {
		t.Fatal("AnyFailed false")
	}
}

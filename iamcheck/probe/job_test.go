package probe

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/lakerelay/lakerelay/iamcheck"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

// TestReadOnlyRolePassesCollectorProbeOnly: a role that may only read the
// watched prefix passes the collector probe (no write is attempted) and
// fails the export probe with a failure naming s3:PutObject.
func TestReadOnlyRolePassesCollectorProbeOnly(t *testing.T) {
	m := testenv.StartMinIO(t)
	q := testenv.StartSQS(t)
	ctx := context.Background()
	bucket := m.NewBucket(t)
	key := "AWSLogs/111122223333/CloudTrail/event.json.gz"
	if _, err := m.S3(t).PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(`{"Records":[]}`)}); err != nil {
		t.Fatal(err)
	}
	queue := q.NewQueue(t, testenv.QueueOptions{})
	if _, err := q.Client(t).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queue.URL, MessageBody: aws.String(`{"Records":[]}`)}); err != nil {
		t.Fatal(err)
	}
	readOnly := m.RestrictedConfig(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::`+bucket+`/AWSLogs/*"}]}`)
	sqsEndpoint := q.Endpoint
	sqsOpts := []func(*sqs.Options){func(o *sqs.Options) { o.BaseEndpoint = &sqsEndpoint }}

	rs := Run(ctx, readOnly, Options{Job: iamcheck.JobCollect, Bucket: bucket, Prefix: "AWSLogs", ObjectKey: key, QueueURL: queue.URL,
		S3Options: pathStyle, SQSOptions: sqsOpts})
	got := byCheck(t, rs)
	if _, wrote := got["s3:PutObject"]; wrote {
		t.Fatal("the collector probe tried to write")
	}
	if h := wantOutcome(t, got, "s3:HeadObject", OutcomeOK); !strings.Contains(h.Detail, "14 bytes") {
		t.Fatalf("HeadObject = %+v", h)
	}
	wantOutcome(t, got, "s3:GetObject", OutcomeOK)
	if _, ok := got["kms:Decrypt"]; ok {
		t.Fatal("kms:Decrypt reported for an object without SSE-KMS")
	}
	wantOutcome(t, got, "sqs:GetQueueAttributes", OutcomeOK)
	if r := wantOutcome(t, got, "sqs:ReceiveMessage", OutcomeOK); !strings.Contains(r.Detail, "1 message seen") {
		t.Fatalf("ReceiveMessage = %+v", r)
	}
	wantOutcome(t, got, "sqs:ChangeMessageVisibility", OutcomeOK)
	if AnyFailed(rs) {
		t.Fatalf("read-only role fails the collector probe: %+v", rs)
	}
	// The message is visible again at once, for the collector.
	out, err := q.Client(t).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queue.URL, WaitTimeSeconds: 1})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("message not left on the queue: %v, %d", err, len(out.Messages))
	}

	rs = Run(ctx, readOnly, Options{Job: iamcheck.JobExport, Bucket: bucket, Prefix: "AWSLogs", ACL: iamcheck.ACLBucketOwnerFullControl, S3Options: pathStyle})
	put := wantOutcome(t, byCheck(t, rs), "s3:PutObject", OutcomeMissingPermission)
	if put.Action != "s3:PutObject" || !strings.Contains(put.Hint, "allow s3:PutObject on arn:aws:s3:::"+bucket+"/AWSLogs/"+KeyPrefix) ||
		!strings.Contains(put.Hint, "s3:PutObjectAcl") {
		t.Fatalf("PutObject = %+v", put)
	}
	if !AnyFailed(rs) {
		t.Fatal("export probe passes a read-only role")
	}
}

func TestCollectorProbeFailures(t *testing.T) {
	m := testenv.StartMinIO(t)
	ctx := context.Background()
	bucket := m.NewBucket(t)
	key := "AWSLogs/a.json"
	if _, err := m.S3(t).PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader("{}")}); err != nil {
		t.Fatal(err)
	}
	otherPrefix := m.RestrictedConfig(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::`+bucket+`/other/*"}]}`)
	got := byCheck(t, Run(ctx, otherPrefix, Options{Job: iamcheck.JobCollect, Bucket: bucket, Prefix: "AWSLogs/", ObjectKey: key, S3Options: pathStyle}))
	for _, c := range []string{"s3:HeadObject", "s3:GetObject"} {
		r := wantOutcome(t, got, c, OutcomeMissingPermission)
		if r.Action != "s3:GetObject" || !strings.Contains(r.Hint, "s3:GetObject on arn:aws:s3:::"+bucket+"/"+key) {
			t.Fatalf("%s = %+v", c, r)
		}
	}
	got = byCheck(t, Run(ctx, m.Config(t), Options{Job: iamcheck.JobCollect, Bucket: bucket, Prefix: "AWSLogs/", ObjectKey: "AWSLogs/missing", S3Options: pathStyle}))
	wantOutcome(t, got, "s3:HeadObject", OutcomeNotFound)
	for _, o := range []Options{
		{Job: iamcheck.JobCollect, Bucket: bucket, Prefix: "AWSLogs/"},
		{Job: iamcheck.JobCollect, Bucket: bucket, Prefix: "AWSLogs/", ObjectKey: "elsewhere/a.json"},
	} {
		o.S3Options = pathStyle
		rs := Run(ctx, m.Config(t), o)
		if r := wantOutcome(t, byCheck(t, rs), "s3:GetObject", OutcomeBadConfig); !AnyFailed(rs) || r.Hint == "" {
			t.Fatalf("%+v: %+v", o, rs)
		}
	}
}

func TestCollectorProbeEmptyQueue(t *testing.T) {
	q := testenv.StartSQS(t)
	queue := q.NewQueue(t, testenv.QueueOptions{})
	got := byCheck(t, Run(context.Background(), q.Config(t), Options{Job: iamcheck.JobCollect, QueueURL: queue.URL}))
	if r := wantOutcome(t, got, "sqs:ReceiveMessage", OutcomeOK); r.Detail != "the queue is empty" {
		t.Fatalf("ReceiveMessage = %+v", r)
	}
	if r := wantOutcome(t, got, "sqs:ChangeMessageVisibility", OutcomeOK); !strings.Contains(r.Detail, "made-up receipt handle") {
		t.Fatalf("ChangeMessageVisibility = %+v", r)
	}
}

// headerRecorder records the x-amz-acl header of PutObject requests.
type headerRecorder struct {
	mu   sync.Mutex
	acls []string
}

func (h *headerRecorder) Do(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut {
		h.mu.Lock()
		h.acls = append(h.acls, r.Header.Get("X-Amz-Acl"))
		h.mu.Unlock()
	}
	return http.DefaultClient.Do(r)
}

// TestExportProbeACLAndPartition: the test write carries the ACL and lands
// outside the Security Lake partition of the prefix.
func TestExportProbeACLAndPartition(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	rec := &headerRecorder{}
	rs := Run(context.Background(), m.Config(t), Options{Job: iamcheck.JobSecurityLake, Bucket: bucket,
		Prefix: "ext/mysource/region=us-east-1/accountId=111122223333/eventDay=20240101/", ACL: iamcheck.ACLBucketOwnerFullControl,
		S3Options: []func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true; o.HTTPClient = rec }}})
	put := wantOutcome(t, byCheck(t, rs), "s3:PutObject", OutcomeOK)
	if !strings.HasPrefix(put.Target, bucket+"/ext/mysource/"+KeyPrefix) {
		t.Fatalf("test object %s is not directly under the source prefix", put.Target)
	}
	if len(rec.acls) != 1 || rec.acls[0] != iamcheck.ACLBucketOwnerFullControl {
		t.Fatalf("PutObject ACL headers %q", rec.acls)
	}
}

func TestWritePrefix(t *testing.T) {
	for in, want := range map[string]string{
		"":     "",
		"raw":  "raw/",
		"raw/": "raw/",
		"ext/src/region=us-east-1/accountId=1/eventDay=20240101/": "ext/src/",
		"ext/src/eventDay=20240101":                               "ext/src/",
		"region=us-east-1/":                                       "",
		"a//b/AccountID=1/x":                                      "a/b/",
	} {
		if got := WritePrefix(in); got != want {
			t.Errorf("WritePrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDecryptKey(t *testing.T) {
	tests := []struct {
		sse  s3types.ServerSideEncryption
		key  string
		want string
	}{
		{"", "", ""},
		{s3types.ServerSideEncryptionAes256, "", ""},
		{s3types.ServerSideEncryptionAwsKms, "arn:aws:kms:us-east-1:1:key/k", "arn:aws:kms:us-east-1:1:key/k"},
		{s3types.ServerSideEncryptionAwsKmsDsse, "", "the bucket's KMS key"},
	}
	for _, tt := range tests {
		if got := DecryptKey(tt.sse, tt.key); got != tt.want {
			t.Errorf("DecryptKey(%q, %q) = %q, want %q", tt.sse, tt.key, got, tt.want)
		}
	}
}

// FuzzWritePrefix: the writer's test prefix never holds a partition
// segment, is a folder ("" or ending in "/") and keeps the input's leading
// segments.
func FuzzWritePrefix(f *testing.F) {
	for _, s := range []string{"", "raw", "ext/src/region=us-east-1/accountId=1/eventDay=2", "/a//b/", "REGION=x", "a/eventday=1/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := WritePrefix(in)
		if got != "" && !strings.HasSuffix(got, "/") {
			t.Fatalf("WritePrefix(%q) = %q, not a folder", in, got)
		}
		for _, seg := range strings.Split(strings.TrimSuffix(got, "/"), "/") {
			l := strings.ToLower(seg)
			if strings.HasPrefix(l, "region=") || strings.HasPrefix(l, "accountid=") || strings.HasPrefix(l, "eventday=") {
				t.Fatalf("WritePrefix(%q) = %q keeps a partition segment", in, got)
			}
			if got != "" && seg == "" {
				t.Fatalf("WritePrefix(%q) = %q has an empty segment", in, got)
			}
		}
		var segs []string
		for _, seg := range strings.Split(in, "/") {
			if seg != "" {
				segs = append(segs, seg)
			}
		}
		if got != "" && !strings.HasPrefix(strings.Join(segs, "/")+"/", got) {
			t.Fatalf("WritePrefix(%q) = %q is not the input's leading segments", in, got)
		}
	})
}

// sseKMSClient passes requests to MinIO and marks HEAD responses as SSE-KMS
// with key, as S3 does for such objects: testenv's MinIO runs without a KMS
// (other tests rely on it rejecting SSE), so the header is added on the way
// back.
type sseKMSClient struct{ key string }

func (c sseKMSClient) Do(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultClient.Do(r)
	if err == nil && r.Method == http.MethodHead && resp.StatusCode == http.StatusOK {
		resp.Header.Set("X-Amz-Server-Side-Encryption", "aws:kms")
		resp.Header.Set("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", c.key)
	}
	return resp, err
}

// TestCollectorProbeSSEKMS: reading an SSE-KMS object reports kms:Decrypt
// as required, with the key, and its outcome follows GetObject's.
func TestCollectorProbeSSEKMS(t *testing.T) {
	m := testenv.StartMinIO(t)
	ctx := context.Background()
	bucket := m.NewBucket(t)
	key := "AWSLogs/enc.json"
	if _, err := m.S3(t).PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader("{}")}); err != nil {
		t.Fatal(err)
	}
	const kmsKey = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	opts := func(cfgS3 func(*s3.Options)) Options {
		return Options{Job: iamcheck.JobCollect, Bucket: bucket, Prefix: "AWSLogs/", ObjectKey: key,
			S3Options: []func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true; o.HTTPClient = sseKMSClient{kmsKey} }, cfgS3}}
	}
	got := byCheck(t, Run(ctx, m.Config(t), opts(func(*s3.Options) {})))
	if h := wantOutcome(t, got, "s3:HeadObject", OutcomeOK); !strings.Contains(h.Detail, "kms:Decrypt is required") {
		t.Fatalf("HeadObject = %+v", h)
	}
	d := wantOutcome(t, got, "kms:Decrypt", OutcomeOK)
	if d.Target != kmsKey || d.Action != "kms:Decrypt" || !strings.Contains(d.Detail, "required") {
		t.Fatalf("kms:Decrypt = %+v", d)
	}
	// Without read access the encryption is unknown: no kms:Decrypt claim.
	denied := m.RestrictedConfig(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::`+bucket+`"}]}`)
	rs := Run(ctx, denied, opts(func(*s3.Options) {}))
	got = byCheck(t, rs)
	wantOutcome(t, got, "s3:HeadObject", OutcomeMissingPermission)
	if _, ok := got["kms:Decrypt"]; ok {
		t.Fatal("kms:Decrypt reported although the object's encryption is unknown")
	}
}

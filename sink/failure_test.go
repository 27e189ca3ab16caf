package sink

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

// fastRetries keeps failure tests short: three attempts, little backoff.
func fastRetries(o *S3Options) {
	o.MaxAttempts = 3
	o.MaxBackoff = 20 * time.Millisecond
}

func clientAt(cfg aws.Config, endpoint string) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.BaseEndpoint = aws.String(endpoint)
	})
}

const readOnlyPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::*"]}]}`

const writeOnlyPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject"],"Resource":["arn:aws:s3:::*"]}]}`

// newBucketPatiently creates a bucket on a freshly started private MinIO,
// which may briefly answer 503 XMinioServerNotInitialized after reporting
// ready.
func newBucketPatiently(t *testing.T, m *testenv.MinIO) string {
	t.Helper()
	client := m.S3(t)
	bucket := "lr-down-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	if len(bucket) > 63 {
		bucket = bucket[:63]
	}
	bucket = strings.TrimRight(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, bucket), "-")
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket})
		if err == nil {
			return bucket
		}
		if time.Now().After(deadline) {
			t.Fatalf("create bucket on a new MinIO: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type failureCase struct {
	name      string
	problem   Problem
	permanent bool
	apiCode   string // expected smithy.APIError code, "" for transport errors
	store     func(t *testing.T) (store *S3Store, bucket string)
}

func failureCases() []failureCase {
	return []failureCase{
		{
			name: "bucket missing", problem: ProblemNoBucket, permanent: true, apiCode: "NoSuchBucket",
			store: func(t *testing.T) (*S3Store, string) {
				m := testenv.StartMinIO(t)
				s, err := NewS3(m.S3(t), "lr-does-not-exist", fastRetries)
				if err != nil {
					t.Fatal(err)
				}
				return s, "lr-does-not-exist"
			},
		},
		{
			name: "access denied", problem: ProblemAccessDenied, permanent: true, apiCode: "AccessDenied",
			store: func(t *testing.T) (*S3Store, string) {
				m := testenv.StartMinIO(t)
				bucket := m.NewBucket(t)
				cfg := m.RestrictedConfig(t, readOnlyPolicy)
				s, err := NewS3(clientAt(cfg, m.Endpoint), bucket, fastRetries)
				if err != nil {
					t.Fatal(err)
				}
				return s, bucket
			},
		},
		{
			name: "bad credentials", problem: ProblemCredentials, permanent: true, apiCode: "InvalidAccessKeyId",
			store: func(t *testing.T) (*S3Store, string) {
				m := testenv.StartMinIO(t)
				bucket := m.NewBucket(t)
				cfg := m.ConfigWith(t, "AKIAWRONGWRONGWRONG0", "wrong-secret-wrong-secret", "")
				s, err := NewS3(clientAt(cfg, m.Endpoint), bucket, fastRetries)
				if err != nil {
					t.Fatal(err)
				}
				return s, bucket
			},
		},
		{
			name: "store down", problem: ProblemUnreachable,
			store: func(t *testing.T) (*S3Store, string) {
				m := testenv.NewMinIO(t)
				bucket := newBucketPatiently(t, m)
				client := m.S3(t)
				m.Stop()
				s, err := NewS3(client, bucket, fastRetries)
				if err != nil {
					t.Fatal(err)
				}
				return s, bucket
			},
		},
		{
			name: "throttled", problem: ProblemThrottled, apiCode: "SlowDown",
			store: func(t *testing.T) (*S3Store, string) {
				m := testenv.StartMinIO(t)
				bucket := m.NewBucket(t)
				p := testenv.NewFaultProxy(t, m.Endpoint)
				p.FailNext(1000, 503, "SlowDown")
				s, err := NewS3(clientAt(m.Config(t), p.URL()), bucket, fastRetries)
				if err != nil {
					t.Fatal(err)
				}
				return s, bucket
			},
		},
	}
}

// TestJSONLFailures shows each failure of the store surfacing from
// WriteBatch as an error naming bucket and key, classified, with the SDK
// error reachable, and that nothing is stored.
func TestJSONLFailures(t *testing.T) {
	for _, tc := range failureCases() {
		t.Run(tc.name, func(t *testing.T) {
			store, bucket := tc.store(t)
			s, err := NewJSONL(store, func(o *JSONLOptions) { o.Prefix = "fail/" })
			if err != nil {
				t.Fatal(err)
			}
			err = s.WriteBatch(context.Background(), "fail/", records(`{"a":1}`, `{"a":2}`))
			if err == nil {
				t.Fatal("WriteBatch succeeded")
			}
			var se *StoreError
			if !errors.As(err, &se) || se.Bucket != bucket || !strings.HasPrefix(se.Key, "fail/") || se.Op != "put" {
				t.Fatalf("error %v: want a StoreError naming bucket %s and the key", err, bucket)
			}
			if !strings.Contains(err.Error(), "s3://"+bucket+"/fail/") {
				t.Fatalf("message %q does not name s3://%s/fail/...", err, bucket)
			}
			if got := ProblemOf(err); got != tc.problem {
				t.Fatalf("ProblemOf = %v, want %v (%v)", got, tc.problem, err)
			}
			if lakerelay.IsPermanent(err) != tc.permanent {
				t.Fatalf("IsPermanent = %v, want %v", !tc.permanent, tc.permanent)
			}
			if tc.apiCode != "" {
				var ae smithy.APIError
				if !errors.As(err, &ae) || ae.ErrorCode() != tc.apiCode {
					t.Fatalf("errors.As smithy.APIError: %v, want code %s", err, tc.apiCode)
				}
			}
			if st := s.Stats(); st.Objects != 0 {
				t.Fatalf("Stats after failure: %+v", st)
			}
		})
	}
}

// TestCheckConnection shows the connection test telling each failure apart.
func TestCheckConnection(t *testing.T) {
	ctx := context.Background()
	for _, tc := range failureCases() {
		t.Run(tc.name, func(t *testing.T) {
			store, _ := tc.store(t)
			_, err := CheckConnection(ctx, store, "exports/")
			var ce *ConnectionError
			if !errors.As(err, &ce) || ce.Problem != tc.problem || ce.Hint == "" {
				t.Fatalf("CheckConnection = %v, want a ConnectionError %v", err, tc.problem)
			}
			if !strings.Contains(err.Error(), tc.problem.String()) || !strings.Contains(err.Error(), "exports/"+ConnectionTestPrefix) {
				t.Fatalf("message %q lacks the problem or the location", err)
			}
		})
	}
	t.Run("ok", func(t *testing.T) {
		m := testenv.StartMinIO(t)
		store, err := NewS3(m.S3(t), m.NewBucket(t))
		if err != nil {
			t.Fatal(err)
		}
		res, err := CheckConnection(ctx, store, "exports/")
		if err != nil || !res.Deleted || res.DeleteErr != nil {
			t.Fatalf("CheckConnection = %+v, %v", res, err)
		}
		if objs := objectLines(t, store, ""); len(objs) != 0 {
			t.Fatalf("test object left behind: %v", objs)
		}
	})
	t.Run("write only", func(t *testing.T) {
		m := testenv.StartMinIO(t)
		bucket := m.NewBucket(t)
		store, err := NewS3(clientAt(m.RestrictedConfig(t, writeOnlyPolicy), m.Endpoint), bucket, fastRetries)
		if err != nil {
			t.Fatal(err)
		}
		res, err := CheckConnection(ctx, store, "")
		if err != nil || res.Deleted || ProblemOf(res.DeleteErr) != ProblemAccessDenied {
			t.Fatalf("CheckConnection = %+v, %v; want success with the delete denied", res, err)
		}
	})
	t.Run("dir", func(t *testing.T) {
		store, err := NewDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if res, err := CheckConnection(ctx, store, "a/b/"); err != nil || !res.Deleted {
			t.Fatalf("CheckConnection = %+v, %v", res, err)
		}
	})
}

// TestThrottlingRetried shows that a few SlowDown answers are retried with
// backoff and the write then succeeds.
func TestThrottlingRetried(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	p := testenv.NewFaultProxy(t, m.Endpoint)
	store, err := NewS3(clientAt(m.Config(t), p.URL()), bucket, func(o *S3Options) { o.MaxAttempts = 4; o.MaxBackoff = 20 * time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	s, _ := NewJSONL(store)
	p.FailNext(2, 503, "SlowDown")
	if err := s.WriteBatch(context.Background(), "", records(`{"ok":true}`)); err != nil {
		t.Fatalf("WriteBatch after 2 SlowDowns: %v", err)
	}
	if p.Requests() != 3 {
		t.Fatalf("proxy saw %d requests, want 3 (2 throttled + 1)", p.Requests())
	}
	for _, lines := range objectLines(t, store, "") {
		if len(lines) != 1 || lines[0] != `{"ok":true}` {
			t.Fatalf("stored %q", lines)
		}
	}
}

// cancelOnPart cancels a context when the first part upload starts.
type cancelOnPart struct {
	*s3.Client
	cancel context.CancelFunc
}

func (c *cancelOnPart) UploadPart(ctx context.Context, in *s3.UploadPartInput, o ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	c.cancel()
	return c.Client.UploadPart(ctx, in, o...)
}

// TestCancelMidUpload cancels a multipart upload while its parts are being
// sent: WriteBatch fails with the context's error, no object appears, and
// the upload is aborted (with a fresh context, since the uploader's own
// abort request would use the cancelled one).
func TestCancelMidUpload(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	client := m.S3(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store, err := NewS3(&cancelOnPart{client, cancel}, bucket, func(o *S3Options) { o.PartSize = 5 << 20 })
	if err != nil {
		t.Fatal(err)
	}
	s, _ := NewJSONL(store, func(o *JSONLOptions) { o.Compression = None })
	rs := make([]lakerelay.Record, 0, 20_000)
	line := []byte(`{"pad":"` + strings.Repeat("x", 1000) + `"}`)
	for range cap(rs) {
		rs = append(rs, lakerelay.Record{Data: line})
	}
	err = s.WriteBatch(ctx, "big/", rs)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WriteBatch = %v, want context.Canceled", err)
	}
	var se *StoreError
	if !errors.As(err, &se) || se.Bucket != bucket || !strings.HasPrefix(se.Key, "big/") {
		t.Fatalf("error %v does not name bucket and key", err)
	}
	if objs := objectLines(t, store, ""); len(objs) != 0 {
		t.Fatalf("objects after cancel: %v", objs)
	}
	out, err := client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Uploads) != 0 {
		t.Fatalf("%d multipart uploads left open", len(out.Uploads))
	}
}

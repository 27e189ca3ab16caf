package awserr_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/awserr"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// apiErr builds the error the SDK returns for a service error response:
// an OperationError around an awshttp.ResponseError around the API error.
func apiErr(status int, code, msg string) error {
	var inner error = &smithy.GenericAPIError{Code: code, Message: msg}
	if code == "" {
		inner = errors.New("http error")
	}
	resp := &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: inner}
	return &smithy.OperationError{ServiceID: "S3", OperationName: "PutObject", Err: &awshttp.ResponseError{ResponseError: resp, RequestID: "r"}}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		class     awserr.Class
		retryable bool
	}{
		{"nil", nil, awserr.Unknown, false},
		{"plain error", errors.New("x"), awserr.Unknown, false},
		{"no such bucket", apiErr(404, "NoSuchBucket", ""), awserr.NotFound, false},
		{"no such key", apiErr(404, "NoSuchKey", ""), awserr.NotFound, false},
		{"HEAD 404 without code", apiErr(404, "", ""), awserr.NotFound, false},
		{"queue missing", apiErr(400, "AWS.SimpleQueueService.NonExistentQueue", ""), awserr.NotFound, false},
		{"queue missing (JSON protocol)", apiErr(400, "QueueDoesNotExist", ""), awserr.NotFound, false},
		{"access denied", apiErr(403, "AccessDenied", ""), awserr.PermissionDenied, false},
		{"unknown key, as MinIO STS says it", apiErr(403, "AccessDenied", "The Access Key Id you provided does not exist in our records."), awserr.Unauthenticated, false},
		{"HEAD 403 without code", apiErr(403, "", ""), awserr.PermissionDenied, false},
		{"KMS key disabled", apiErr(400, "KmsDisabled", ""), awserr.PermissionDenied, false},
		{"KMS access denied (S3)", apiErr(403, "KMS.AccessDeniedException", ""), awserr.PermissionDenied, false},
		{"file permission", fmt.Errorf("open: %w", fs.ErrPermission), awserr.PermissionDenied, false},
		{"unknown key id", apiErr(403, "InvalidAccessKeyId", ""), awserr.Unauthenticated, false},
		{"bad secret", apiErr(403, "SignatureDoesNotMatch", ""), awserr.Unauthenticated, false},
		{"unknown key id (SQS)", apiErr(403, "InvalidClientTokenId", ""), awserr.Unauthenticated, false},
		{"401 without code", apiErr(401, "", ""), awserr.Unauthenticated, false},
		{"no credentials", &v4.SigningError{Err: errors.New("failed to retrieve credentials")}, awserr.Unauthenticated, false},
		// Expired session credentials are refreshed by the SDK's provider,
		// and a skewed clock is corrected: retrying heals them.
		{"expired token", apiErr(400, "ExpiredToken", ""), awserr.Unauthenticated, true},
		{"expired token (JSON protocol)", apiErr(403, "ExpiredTokenException", ""), awserr.Unauthenticated, true},
		{"request expired (clock skew)", apiErr(400, "RequestExpired", ""), awserr.Unauthenticated, true},
		{"slow down", apiErr(503, "SlowDown", ""), awserr.Throttled, true},
		{"429 without code", apiErr(429, "", ""), awserr.Throttled, true},
		{"SQS over limit", apiErr(403, "OverLimit", ""), awserr.Throttled, true},
		{"KMS throttled", apiErr(400, "KmsThrottled", ""), awserr.Throttled, true},
		{"internal error", apiErr(500, "InternalError", ""), awserr.Unavailable, true},
		{"502 without code", apiErr(502, "", ""), awserr.Unavailable, true},
		{"408", apiErr(408, "", ""), awserr.Unavailable, true},
		{"request timeout", apiErr(400, "RequestTimeout", ""), awserr.Unavailable, true},
		{"connection refused", &smithyhttp.RequestSendError{Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}, awserr.Unavailable, true},
		{"DNS", &net.DNSError{Err: "no such host", Name: "x.invalid"}, awserr.Unavailable, true},
		// S3 says AuthorizationHeaderMalformed when the request was signed
		// for another region than the bucket's: a region, not a credentials,
		// problem.
		{"signed for the wrong region", apiErr(400, "AuthorizationHeaderMalformed", "the region 'us-east-1' is wrong; expecting 'eu-west-1'"), awserr.WrongRegion, false},
		{"permanent redirect", apiErr(301, "PermanentRedirect", ""), awserr.WrongRegion, false},
		{"301 without code", apiErr(301, "", ""), awserr.WrongRegion, false},
		{"not implemented", apiErr(501, "NotImplemented", ""), awserr.InvalidArgument, false},
		{"501 without code", apiErr(501, "", ""), awserr.InvalidArgument, false},
		{"bad queue URL", apiErr(400, "InvalidAddress", ""), awserr.InvalidArgument, false},
		{"other 400", apiErr(400, "SomethingNew", ""), awserr.InvalidArgument, false},
		{"cancelled", fmt.Errorf("op: %w", context.Canceled), awserr.Canceled, false},
		{"deadline", &smithy.OperationError{Err: context.DeadlineExceeded}, awserr.Canceled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := awserr.Classify(tt.err)
			if got.Class != tt.class || got.Retryable != tt.retryable {
				t.Fatalf("Classify(%v) = %v retryable %v, want %v retryable %v", tt.err, got.Class, got.Retryable, tt.class, tt.retryable)
			}
		})
	}
}

func TestClassifyKeepsCodeStatusMessage(t *testing.T) {
	in := awserr.Classify(fmt.Errorf("sink: put: %w", apiErr(403, "AccessDenied", "Access Denied.")))
	if in.Code != "AccessDenied" || in.Status != 403 || in.Message != "Access Denied." {
		t.Fatalf("%+v", in)
	}
}

func TestClassNames(t *testing.T) {
	seen := map[string]bool{}
	for c := awserr.Unknown; c <= awserr.Canceled; c++ {
		n := c.String()
		if n == "" || strings.HasPrefix(n, "Class(") || seen[n] {
			t.Fatalf("class %d: name %q", int(c), n)
		}
		seen[n] = true
	}
	if got := awserr.Class(99).String(); got != "Class(99)" {
		t.Fatalf("%q", got)
	}
}

// TestClassifyRealServers checks the classes of the errors real servers
// return: MinIO for S3, local-aws-sqs for SQS, and a closed port.
func TestClassifyRealServers(t *testing.T) {
	ctx := context.Background()
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	s3c := m.S3(t)
	wrongSecret := s3.NewFromConfig(m.ConfigWith(t, m.AccessKey, "not-the-secret", ""), func(o *s3.Options) { o.UsePathStyle = true })
	unknownKey := s3.NewFromConfig(m.ConfigWith(t, "AKIAUNKNOWN000000000", "x", ""), func(o *s3.Options) { o.UsePathStyle = true })
	denied := s3.NewFromConfig(m.RestrictedConfig(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::`+bucket+`"]}]}`),
		func(o *s3.Options) { o.UsePathStyle = true })
	down := s3.NewFromConfig(m.Config(t), func(o *s3.Options) {
		o.UsePathStyle = true
		o.BaseEndpoint = aws.String(testenv.ClosedEndpoint(t))
		o.RetryMaxAttempts = 1
	})
	q := testenv.StartSQS(t)
	sqsc := q.Client(t)
	put := func(c *s3.Client, b, k string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(k), Body: strings.NewReader("x")})
		return err
	}
	get := func(c *s3.Client, b, k string) error {
		_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(k)})
		return err
	}
	tests := []struct {
		name  string
		err   error
		class awserr.Class
	}{
		{"missing bucket", put(s3c, "no-such-bucket-lakerelay", "k"), awserr.NotFound},
		{"missing object", get(s3c, bucket, "missing"), awserr.NotFound},
		{"access denied", put(denied, bucket, "k"), awserr.PermissionDenied},
		{"wrong secret", put(wrongSecret, bucket, "k"), awserr.Unauthenticated},
		{"unknown access key", put(unknownKey, bucket, "k"), awserr.Unauthenticated},
		{"server down", put(down, bucket, "k"), awserr.Unavailable},
		{"missing queue", func() error {
			_, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q.Endpoint + "/123456789012/no-such-queue")})
			return err
		}(), awserr.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("the request succeeded")
			}
			if got := awserr.Classify(tt.err); got.Class != tt.class {
				t.Fatalf("Classify(%v) = %+v, want %v", tt.err, got, tt.class)
			}
		})
	}
}

func TestProblemClass(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, lakerelay.ClassOther},
		{"plain", errors.New("x"), lakerelay.ClassOther},
		{"no such bucket", apiErr(404, "NoSuchBucket", ""), lakerelay.ClassAccess},
		{"access denied", apiErr(403, "AccessDenied", ""), lakerelay.ClassAccess},
		{"bad key", apiErr(403, "InvalidAccessKeyId", ""), lakerelay.ClassAccess},
		{"wrong region", apiErr(400, "AuthorizationHeaderMalformed", ""), lakerelay.ClassAccess},
		{"slow down", apiErr(503, "SlowDown", ""), lakerelay.ClassThrottled},
		{"5xx", apiErr(500, "InternalError", ""), lakerelay.ClassTransient},
		{"canceled", context.Canceled, lakerelay.ClassTransient},
		{"invalid argument", apiErr(400, "InvalidArgument", ""), lakerelay.ClassOther},
		{"too large", fmt.Errorf("x: %w", lakerelay.ErrTooLarge), lakerelay.ClassTooLarge},
		{"invalid record", fmt.Errorf("x: %w", lakerelay.ErrInvalidRecord), lakerelay.ClassInvalid},
	} {
		if got := awserr.ProblemClass(tc.err); got != tc.want {
			t.Errorf("%s: ProblemClass = %q, want %q", tc.name, got, tc.want)
		}
	}
}

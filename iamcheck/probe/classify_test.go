package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// sdkError builds the error shape the SDK returns for an HTTP error
// response: an API error inside a response error carrying the status.
func sdkError(status int, code, msg string) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: msg},
	}}
}

// TestClassify covers each outcome, including those the servers in the
// other tests cannot produce (a redirect to another region, a 500).
func TestClassify(t *testing.T) {
	tests := []struct {
		name     string
		check    string
		err      error
		want     Outcome
		advisory bool
		hint     string // a string the hint must contain
	}{
		{"success", "s3:PutObject", nil, OutcomeOK, false, ""},
		{"access denied names the action", "s3:PutObject", sdkError(403, "AccessDenied", "Access Denied"), OutcomeMissingPermission, false, "allow s3:PutObject on arn:aws:s3:::b/k"},
		{"queue access denied", "sqs:ReceiveMessage", sdkError(400, "AccessDenied", "denied"), OutcomeMissingPermission, false, "sqs:ReceiveMessage on the queue"},
		{"wrong secret", "s3:PutObject", sdkError(403, "SignatureDoesNotMatch", "sig"), OutcomeBadCredentials, false, "secret access key is wrong"},
		{"unknown key id", "sts:GetCallerIdentity", sdkError(403, "InvalidClientTokenId", "bad token"), OutcomeBadCredentials, false, "access key id is unknown"},
		{"expired token", "s3:PutObject", sdkError(400, "ExpiredToken", "expired"), OutcomeBadCredentials, false, "session token"},
		{"401", "s3:PutObject", sdkError(401, "", ""), OutcomeBadCredentials, false, "credentials were rejected"},
		{"missing bucket", "s3:PutObject", sdkError(404, "NoSuchBucket", "no bucket"), OutcomeNotFound, false, "b/k does not exist"},
		{"missing queue", "sqs:GetQueueAttributes", sdkError(400, "AWS.SimpleQueueService.NonExistentQueue", "no queue"), OutcomeNotFound, false, "does not exist"},
		{"slow down", "s3:PutObject", sdkError(503, "SlowDown", "slow"), OutcomeThrottled, false, "throttling"},
		{"429", "sqs:ReceiveMessage", sdkError(429, "", ""), OutcomeThrottled, false, "throttling"},
		{"unsupported", "sts:GetCallerIdentity", sdkError(400, "InvalidArgument", "Unsupported action GetCallerIdentity"), OutcomeUnsupported, true, "does not implement"},
		{"other region", "s3:PutObject", sdkError(301, "PermanentRedirect", "moved"), OutcomeBadConfig, false, "--region"},
		{"malformed", "s3:PutObject", sdkError(400, "InvalidRequest", "bad"), OutcomeBadConfig, false, "path-style"},
		{"connection refused", "s3:PutObject", fmt.Errorf("send: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), OutcomeUnreachable, false, "endpoint URL"},
		{"cancelled", "s3:PutObject", fmt.Errorf("send: %w", context.Canceled), OutcomeError, false, "cancelled"},
		{"server error", "s3:PutObject", sdkError(500, "InternalError", "oops"), OutcomeError, false, "service failed (HTTP 500)"},
		{"unknown", "s3:PutObject", errors.New("something else"), OutcomeError, false, "unexpected"},
		{"wrong region", "s3:PutObject", sdkError(400, "AuthorizationHeaderMalformed", "region us-east-1 is wrong"), OutcomeBadConfig, false, "--region"},
		{"not implemented", "s3:PutObjectAcl", sdkError(501, "NotImplemented", "A header you provided implies functionality that is not implemented"), OutcomeUnsupported, true, "does not implement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := classify(tt.check, "b/k", tt.check, tt.err)
			if r.Outcome != tt.want || r.Advisory != tt.advisory {
				t.Fatalf("outcome %s advisory %v (status %d, code %q), want %s advisory %v", r.Outcome, r.Advisory, r.Status, r.Code, tt.want, tt.advisory)
			}
			if !errors.Is(r.Err, tt.err) {
				t.Fatalf("Err %v does not keep %v", r.Err, tt.err)
			}
			if tt.err == nil {
				if r.Hint != "" || r.Failed() {
					t.Fatalf("success with hint %q, failed %v", r.Hint, r.Failed())
				}
				return
			}
			if !strings.Contains(r.Hint, tt.hint) {
				t.Fatalf("hint %q lacks %q", r.Hint, tt.hint)
			}
			if r.Failed() == tt.advisory {
				t.Fatalf("Failed() = %v for advisory %v", r.Failed(), tt.advisory)
			}
			var ae smithy.APIError
			if errors.As(tt.err, &ae) && (r.Code != ae.ErrorCode() || r.Detail == "") {
				t.Fatalf("code %q detail %q, want code %q and a detail", r.Code, r.Detail, ae.ErrorCode())
			}
		})
	}
}

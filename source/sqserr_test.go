package source

import (
	"errors"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// TestPermanentSQSError: which SQS errors end the source, with which hint.
// The classes come from internal/awserr (tested there against real
// servers); TestSQSPermanentErrors shows the end-to-end behaviour.
func TestPermanentSQSError(t *testing.T) {
	apiErr := func(status int, code string) error {
		resp := &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: &smithy.GenericAPIError{Code: code}}
		return &smithy.OperationError{ServiceID: "SQS", OperationName: "ReceiveMessage", Err: &awshttp.ResponseError{ResponseError: resp}}
	}
	for _, tt := range []struct {
		code   string
		status int
		hint   string // "" means transient
	}{
		{"AWS.SimpleQueueService.NonExistentQueue", 400, hintQueue},
		{"QueueDoesNotExist", 400, hintQueue},
		{"InvalidAddress", 404, hintQueue},
		{"AccessDenied", 403, hintAccess},
		{"KmsDisabled", 400, hintKMS},
		{"KmsAccessDenied", 400, hintKMS},
		{"InvalidClientTokenId", 403, hintCredentials},
		{"SignatureDoesNotMatch", 403, hintCredentials},
		{"InvalidParameterValue", 400, hintRequest},
		{"SomethingNew", 400, hintRequest},
		// Transient: healed by waiting, by the SDK's credential refresh or
		// its clock-skew correction.
		{"ExpiredToken", 400, ""},
		{"ExpiredTokenException", 403, ""},
		{"RequestExpired", 400, ""},
		{"OverLimit", 403, ""},
		{"KmsThrottled", 400, ""},
		{"ThrottlingException", 400, ""},
		{"RequestThrottled", 403, ""},
		{"InternalError", 500, ""},
		{"ServiceUnavailable", 503, ""},
		{"RequestTimeout", 408, ""},
	} {
		t.Run(tt.code, func(t *testing.T) {
			hint, ok := permanentSQSError(apiErr(tt.status, tt.code))
			if ok != (tt.hint != "") || hint != tt.hint {
				t.Fatalf("permanentSQSError = %q, %v; want %q", hint, ok, tt.hint)
			}
		})
	}
	if _, ok := permanentSQSError(errors.New("dial tcp: connection refused")); ok {
		t.Fatal("an error without an SQS answer is permanent")
	}
}

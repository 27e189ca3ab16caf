package sink

import (
	"errors"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/lakerelay/lakerelay"
)

// TestClassifyPermanence: which store errors the batcher retries. The
// classes come from internal/awserr (tested there against real servers);
// this is the sink's own decision on top of them.
func TestClassifyPermanence(t *testing.T) {
	apiErr := func(status int, code string) error {
		resp := &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: &smithy.GenericAPIError{Code: code}}
		return &smithy.OperationError{ServiceID: "S3", OperationName: "PutObject", Err: &awshttp.ResponseError{ResponseError: resp}}
	}
	tests := []struct {
		code      string
		status    int
		problem   Problem
		permanent bool
	}{
		{"NoSuchBucket", 404, ProblemNoBucket, true},
		{"NoSuchKey", 404, ProblemNotFound, false},
		{"AccessDenied", 403, ProblemAccessDenied, true},
		{"InvalidAccessKeyId", 403, ProblemCredentials, true},
		{"ExpiredToken", 400, ProblemCredentials, false}, // the provider refreshes session credentials
		{"AuthorizationHeaderMalformed", 400, ProblemWrongRegion, true},
		{"SlowDown", 503, ProblemThrottled, false},
		{"InternalError", 500, ProblemThrottled, false},
		{"NotImplemented", 501, ProblemOther, false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			err := classify(apiErr(tt.status, tt.code))
			if p := ProblemOf(err); p != tt.problem {
				t.Fatalf("problem %v, want %v", p, tt.problem)
			}
			if lakerelay.IsPermanent(err) != tt.permanent {
				t.Fatalf("permanent %v, want %v", lakerelay.IsPermanent(err), tt.permanent)
			}
			if tt.problem == ProblemNotFound && !errors.Is(err, ErrNotFound) {
				t.Fatalf("%v does not wrap ErrNotFound", err)
			}
		})
	}
}

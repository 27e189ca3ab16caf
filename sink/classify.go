package sink

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/lakerelay/lakerelay"
)

// Problem is the kind of failure behind a store error, as far as it can be
// told; see [ProblemOf].
type Problem int

const (
	// ProblemOther is anything not listed below.
	ProblemOther Problem = iota
	// ProblemNoBucket: the bucket (or directory) does not exist.
	ProblemNoBucket
	// ProblemAccessDenied: the credentials are valid but not allowed to do
	// this (IAM policy, bucket policy, KMS key policy, expected owner).
	ProblemAccessDenied
	// ProblemCredentials: the credentials are missing, unknown, expired or
	// signed wrongly.
	ProblemCredentials
	// ProblemUnreachable: the endpoint could not be reached (DNS, refused,
	// timeout, TLS).
	ProblemUnreachable
	// ProblemThrottled: the store kept throttling (503 SlowDown, 429) or
	// failing with 5xx until the retries ran out.
	ProblemThrottled
	// ProblemNotFound: the object does not exist.
	ProblemNotFound
)

var problemNames = [...]string{"other", "no-bucket", "access-denied", "bad-credentials", "unreachable", "throttled", "not-found"}

// String returns a short name: "no-bucket", "access-denied",
// "bad-credentials", "unreachable", "throttled", "not-found" or "other".
func (p Problem) String() string {
	if p < 0 || int(p) >= len(problemNames) {
		return fmt.Sprintf("Problem(%d)", int(p))
	}
	return problemNames[p]
}

// ProblemOf tells what kind of failure err is, looking at the S3 error code,
// the HTTP status and the transport error it wraps.
func ProblemOf(err error) Problem {
	if err == nil {
		return ProblemOther
	}
	if errors.Is(err, ErrNotFound) {
		return ProblemNotFound
	}
	// Credentials that could not even be retrieved (no provider, a failed
	// AssumeRole) never reach S3; the signer reports them.
	var sge *v4.SigningError
	if errors.As(err, &sge) {
		return ProblemCredentials
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchBucket":
			return ProblemNoBucket
		case "AccessDenied", "AllAccessDisabled", "AccountProblem", "KMS.AccessDeniedException", "KMS.DisabledException", "KMS.NotFoundException":
			return ProblemAccessDenied
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired", "InvalidClientTokenId", "AuthorizationHeaderMalformed", "CredentialsNotSupported", "MissingSecurityHeader":
			return ProblemCredentials
		case "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests", "RequestThrottled", "ServiceUnavailable", "InternalError":
			return ProblemThrottled
		case "NoSuchKey", "NotFound":
			return ProblemNotFound
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch code := re.HTTPStatusCode(); {
		case code == http.StatusForbidden:
			return ProblemAccessDenied
		case code == http.StatusUnauthorized:
			return ProblemCredentials
		case code == http.StatusTooManyRequests || code >= 500:
			return ProblemThrottled
		}
	}
	var se *smithyhttp.RequestSendError
	var ne net.Error
	var oe *net.OpError
	var de *net.DNSError
	if errors.As(err, &se) || errors.As(err, &oe) || errors.As(err, &de) || (errors.As(err, &ne) && !errors.Is(err, context.Canceled)) {
		return ProblemUnreachable
	}
	if errors.Is(err, fs.ErrPermission) {
		return ProblemAccessDenied
	}
	return ProblemOther
}

// classify marks err permanent when retrying cannot help.
func classify(err error) error {
	switch ProblemOf(err) {
	case ProblemNoBucket, ProblemAccessDenied, ProblemCredentials:
		return lakerelay.Permanent(err)
	case ProblemNotFound:
		if !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		}
	}
	return err
}

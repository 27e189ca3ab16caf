// Package awserr classifies errors of the AWS SDK (and of the transport
// under it) into a few classes that callers act on: whether to retry, and
// what to tell a person. It is the one place that knows AWS error codes;
// the sink, the SQS source and the live probe each add only their own hints.
//
// Classify looks, in order, at context cancellation, the SDK's signing
// error (credentials that could not be retrieved), the service's error code
// (smithy.APIError), the HTTP status, and transport errors (no response).
// Codes not listed fall back to the status: 401 Unauthenticated, 403
// PermissionDenied, 404 NotFound, 408/5xx Unavailable, 429 Throttled,
// 301/307 WrongRegion, other 4xx InvalidArgument.
package awserr

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/lakerelay/lakerelay"
)

// Class is what kind of failure an error is.
type Class int

// Classes, from the caller's point of view.
const (
	// Unknown: nothing tells; callers treat it as transient or report it.
	Unknown Class = iota
	// NotFound: the bucket, object, queue or key does not exist.
	NotFound
	// PermissionDenied: the credentials are valid but not allowed (IAM,
	// resource or KMS key policy, an explicit deny, an expected owner).
	PermissionDenied
	// Unauthenticated: the credentials are missing, unknown, expired or
	// signed wrongly.
	Unauthenticated
	// Throttled: the service asks to slow down (SlowDown, 429, quotas).
	Throttled
	// Unavailable: no response (DNS, refused, timeout, TLS) or a server
	// error (5xx, 408).
	Unavailable
	// InvalidArgument: the request was rejected as malformed or
	// unsupported (other 4xx).
	InvalidArgument
	// WrongRegion: the resource lives in another region than the one the
	// request was signed for or sent to.
	WrongRegion
	// Canceled: the caller's context ended.
	Canceled
)

var classNames = [...]string{"unknown", "not-found", "permission-denied", "unauthenticated", "throttled", "unavailable", "invalid-argument", "wrong-region", "canceled"}

// String returns the class's kebab-case name, e.g. "permission-denied".
func (c Class) String() string {
	if c < 0 || int(c) >= len(classNames) {
		return fmt.Sprintf("Class(%d)", int(c))
	}
	return classNames[c]
}

// Info is what Classify found out about an error.
type Info struct {
	Class Class
	// Retryable reports whether the same request may succeed later without
	// a change of configuration: throttling, unavailability, and
	// credentials that the SDK's provider refreshes (expired session
	// tokens) or a clock skew it corrects.
	Retryable bool
	// Code is the service's error code ("AccessDenied"), if any.
	Code string
	// Status is the HTTP status, 0 when no response arrived.
	Status int
	// Message is the service's error message, if any (never contains
	// credentials; it may name resources).
	Message string
}

var codeClass = map[string]Class{}

// refreshable are Unauthenticated codes that heal without a change of
// configuration: the provider fetches new credentials, the SDK corrects
// clock skew.
var refreshable = map[string]bool{
	"ExpiredToken": true, "ExpiredTokenException": true, "TokenRefreshRequired": true, "RequestExpired": true,
}

func init() {
	for class, codes := range map[Class][]string{
		NotFound: {"NoSuchBucket", "NoSuchKey", "NoSuchVersion", "NotFound", "NoSuchEntity", "NoSuchUpload",
			"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "NonExistentQueue",
			"ResourceNotFoundException"},
		PermissionDenied: {"AccessDenied", "AccessDeniedException", "AllAccessDisabled", "AccountProblem",
			"AuthorizationError", "Forbidden",
			"KMS.AccessDeniedException", "KMS.DisabledException", "KMS.NotFoundException", "KMS.KMSInvalidStateException",
			"KmsAccessDenied", "KmsDisabled", "KmsNotFound", "KmsInvalidState", "KmsInvalidKeyUsage", "KmsOptInRequired"},
		Unauthenticated: {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "InvalidClientTokenId",
			"UnrecognizedClientException", "IncompleteSignature", "MissingAuthenticationToken", "InvalidSecurity",
			"CredentialsNotSupported", "MissingSecurityHeader", "AuthFailure",
			"ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired", "RequestExpired"},
		Throttled: {"SlowDown", "Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
			"TooManyRequests", "TooManyRequestsException", "RequestThrottled", "RequestThrottledException",
			"ProvisionedThroughputExceededException", "BandwidthLimitExceeded", "EC2ThrottledException",
			"PriorRequestNotComplete", "OverLimit", "KmsThrottled", "KMS.ThrottlingException"},
		Unavailable: {"ServiceUnavailable", "InternalError", "InternalFailure", "RequestTimeout", "RequestTimeoutException",
			"TransactionInProgressException"},
		WrongRegion: {"AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException",
			"InvalidRegion"},
		InvalidArgument: {"NotImplemented", "InvalidAddress", "InvalidParameterValue", "InvalidAttributeName",
			"InvalidBucketName", "KeyTooLongError", "EntityTooLarge", "MalformedXML", "InvalidArgument",
			"InvalidRequest", "InvalidObjectState", "AWS.SimpleQueueService.UnsupportedOperation", "UnsupportedOperation"},
	} {
		for _, c := range codes {
			codeClass[c] = class
		}
	}
	// The SDK's own lists of codes it retries, so that a code it learns
	// is classified the same way here.
	for c := range retry.DefaultThrottleErrorCodes {
		if _, ok := codeClass[c]; !ok {
			codeClass[c] = Throttled
		}
	}
	for c := range retry.DefaultRetryableErrorCodes {
		if _, ok := codeClass[c]; !ok {
			codeClass[c] = Unavailable
		}
	}
}

// Classify tells what kind of failure err is. A nil err is Unknown.
func Classify(err error) Info {
	var in Info
	if err == nil {
		return in
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		in.Code, in.Message = ae.ErrorCode(), ae.ErrorMessage()
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		in.Status = re.HTTPStatusCode()
	}
	in.Class = classify(err, in)
	switch in.Class {
	case Throttled, Unavailable:
		in.Retryable = true
	case Unauthenticated:
		in.Retryable = refreshable[in.Code]
	}
	return in
}

func classify(err error, in Info) Class {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Canceled
	}
	// Credentials that could not even be retrieved (no provider, a failed
	// AssumeRole) never reach the service; the signer reports them.
	var sge *v4.SigningError
	if errors.As(err, &sge) {
		return Unauthenticated
	}
	// MinIO's STS answers an unknown access key with AccessDenied and
	// this message; it is a credential problem, not a missing permission.
	if in.Code == "AccessDenied" && strings.Contains(strings.ToLower(in.Message), "access key id you provided does not exist") {
		return Unauthenticated
	}
	if c, ok := codeClass[in.Code]; ok {
		return c
	}
	switch s := in.Status; {
	case s == http.StatusUnauthorized:
		return Unauthenticated
	case s == http.StatusForbidden:
		return PermissionDenied
	case s == http.StatusNotFound:
		return NotFound
	case s == http.StatusTooManyRequests:
		return Throttled
	case s == http.StatusRequestTimeout || s >= 500 && s != http.StatusNotImplemented:
		return Unavailable
	case s == http.StatusMovedPermanently || s == http.StatusTemporaryRedirect:
		return WrongRegion
	case s >= 400:
		return InvalidArgument
	case s > 0:
		return Unknown
	}
	if errors.Is(err, fs.ErrPermission) {
		return PermissionDenied
	}
	var se *smithyhttp.RequestSendError
	var ne net.Error
	var oe *net.OpError
	var de *net.DNSError
	if errors.As(err, &se) || errors.As(err, &oe) || errors.As(err, &de) || errors.As(err, &ne) {
		return Unavailable
	}
	return Unknown
}

// ProblemClass returns the [lakerelay] problem class (a lakerelay.Class*
// constant, the Class label of lakerelay.MetricErrors) of an error with
// this Info: NotFound, PermissionDenied, Unauthenticated and WrongRegion are
// ClassAccess, Throttled is ClassThrottled, Unavailable and Canceled are
// ClassTransient, InvalidArgument and Unknown are ClassOther. It is the one
// mapping from AWS error classes to metric classes.
func (in Info) ProblemClass() string {
	switch in.Class {
	case NotFound, PermissionDenied, Unauthenticated, WrongRegion:
		return lakerelay.ClassAccess
	case Throttled:
		return lakerelay.ClassThrottled
	case Unavailable, Canceled:
		return lakerelay.ClassTransient
	}
	return lakerelay.ClassOther
}

// ProblemClass classifies err ([Classify]) and returns its problem class
// ([Info.ProblemClass]); errors wrapping lakerelay.ErrTooLarge are
// ClassTooLarge and those wrapping lakerelay.ErrInvalidRecord ClassInvalid,
// whatever else they wrap.
func ProblemClass(err error) string {
	switch {
	case errors.Is(err, lakerelay.ErrTooLarge):
		return lakerelay.ClassTooLarge
	case errors.Is(err, lakerelay.ErrInvalidRecord):
		return lakerelay.ClassInvalid
	}
	return Classify(err).ProblemClass()
}

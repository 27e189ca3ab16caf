package source

import (
	"errors"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Hints naming what to check after a permanent SQS error.
const (
	hintQueue       = "check the queue URL and the region or SQS endpoint: the queue must exist there"
	hintAccess      = "check that the credentials may call sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility and sqs:GetQueueAttributes on the queue, and the queue's access policy"
	hintCredentials = "check the AWS credentials (access key ID, secret key, session token), the region and the clock"
	hintKMS         = "check the queue's KMS key: it must exist, be enabled and allow the credentials kms:Decrypt"
	hintRequest     = "check the queue URL, the region, the credentials and their permissions"
)

// permanentSQSCodes are SQS error codes that waiting cannot heal.
var permanentSQSCodes = map[string]string{
	"AWS.SimpleQueueService.NonExistentQueue": hintQueue,
	"QueueDoesNotExist":                       hintQueue,
	"InvalidAddress":                          hintQueue,
	"AccessDenied":                            hintAccess,
	"AccessDeniedException":                   hintAccess,
	"InvalidClientTokenId":                    hintCredentials,
	"UnrecognizedClientException":             hintCredentials,
	"SignatureDoesNotMatch":                   hintCredentials,
	"InvalidAccessKeyId":                      hintCredentials,
	"IncompleteSignature":                     hintCredentials,
	"MissingAuthenticationToken":              hintCredentials,
	"InvalidSecurity":                         hintCredentials,
	"KmsAccessDenied":                         hintKMS,
	"KmsDisabled":                             hintKMS,
	"KmsNotFound":                             hintKMS,
	"KmsInvalidState":                         hintKMS,
	"KmsInvalidKeyUsage":                      hintKMS,
	"KmsOptInRequired":                        hintKMS,
}

// transientSQSCodes are client errors (4xx) that heal by waiting: quotas,
// throttling, and credentials the SDK refreshes or clock skew it corrects.
var transientSQSCodes = map[string]bool{
	"OverLimit":               true,
	"KmsThrottled":            true,
	"RequestExpired":          true,
	"ExpiredToken":            true,
	"ExpiredTokenException":   true,
	"RequestTimeout":          true,
	"RequestTimeoutException": true,
}

// permanentSQSError reports whether err, from an SQS call, cannot heal by
// retrying, and if so what to check. Throttling, server errors (5xx) and
// network errors are transient; so are errors whose cause is unknown.
func permanentSQSError(err error) (hint string, ok bool) {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return "", false
	}
	code := ae.ErrorCode()
	if h, ok := permanentSQSCodes[code]; ok {
		return h, true
	}
	if _, ok := retry.DefaultThrottleErrorCodes[code]; ok {
		return "", false
	}
	if _, ok := retry.DefaultRetryableErrorCodes[code]; ok || transientSQSCodes[code] {
		return "", false
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) {
		return "", false
	}
	switch st := re.HTTPStatusCode(); {
	case st == http.StatusRequestTimeout, st == http.StatusTooManyRequests:
		return "", false
	case st >= 400 && st < 500:
		return hintRequest, true
	}
	return "", false
}

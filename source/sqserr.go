package source

import (
	"errors"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/lakerelay/lakerelay/internal/awserr"
)

// Hints naming what to check after a permanent SQS error.
const (
	hintQueue       = "check the queue URL and the region or SQS endpoint: the queue must exist there"
	hintAccess      = "check that the credentials may call sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility and sqs:GetQueueAttributes on the queue, and the queue's access policy"
	hintCredentials = "check the AWS credentials (access key ID, secret key, session token), the region and the clock"
	hintKMS         = "check the queue's KMS key: it must exist, be enabled and allow the credentials kms:Decrypt"
	hintRegion      = "check the region: the queue URL names another region than the one the request was signed for"
	hintRequest     = "check the queue URL, the region, the credentials and their permissions"
)

// permanentSQSError reports whether err, from an SQS call, cannot heal by
// retrying, and if so what to check. The classes come from internal/awserr:
// throttling, server (5xx) and network errors, expired session credentials
// (the SDK's provider refreshes them) and errors whose cause is unknown are
// transient; a missing queue, a denied request, rejected credentials, a
// wrong region and other client errors are not.
func permanentSQSError(err error) (hint string, ok bool) {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return "", false // no answer from SQS: network, cancelled, unknown
	}
	in := awserr.Classify(err)
	if in.Retryable {
		return "", false
	}
	switch in.Class {
	case awserr.NotFound:
		return hintQueue, true
	case awserr.PermissionDenied:
		if strings.HasPrefix(in.Code, "Kms") || strings.HasPrefix(in.Code, "KMS.") {
			return hintKMS, true
		}
		return hintAccess, true
	case awserr.Unauthenticated:
		return hintCredentials, true
	case awserr.WrongRegion:
		return hintRegion, true
	case awserr.InvalidArgument:
		if in.Code == "InvalidAddress" {
			return hintQueue, true
		}
		return hintRequest, true
	}
	return "", false
}

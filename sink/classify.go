package sink

import (
	"errors"
	"fmt"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/awserr"
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
	// ProblemWrongRegion: the bucket is in another region than the one
	// the request was signed for or sent to.
	ProblemWrongRegion
)

var problemNames = [...]string{"other", "no-bucket", "access-denied", "bad-credentials", "unreachable", "throttled", "not-found", "wrong-region"}

// String returns a short name: "no-bucket", "access-denied",
// "bad-credentials", "unreachable", "throttled", "not-found",
// "wrong-region" or "other".
func (p Problem) String() string {
	if p < 0 || int(p) >= len(problemNames) {
		return fmt.Sprintf("Problem(%d)", int(p))
	}
	return problemNames[p]
}

// ProblemOf tells what kind of failure err is, from the S3 error code, the
// HTTP status and the transport error it wraps (classified once for the
// whole module by internal/awserr).
func ProblemOf(err error) Problem {
	if err == nil {
		return ProblemOther
	}
	if errors.Is(err, ErrNotFound) {
		return ProblemNotFound
	}
	in := awserr.Classify(err)
	switch in.Class {
	case awserr.NotFound:
		if in.Code == "NoSuchBucket" {
			return ProblemNoBucket
		}
		return ProblemNotFound
	case awserr.PermissionDenied:
		return ProblemAccessDenied
	case awserr.Unauthenticated:
		return ProblemCredentials
	case awserr.Throttled:
		return ProblemThrottled
	case awserr.Unavailable:
		if in.Status == 0 {
			return ProblemUnreachable
		}
		return ProblemThrottled
	case awserr.WrongRegion:
		return ProblemWrongRegion
	}
	return ProblemOther
}

// classify marks err permanent when retrying cannot help: a missing bucket,
// a denied request, credentials that were rejected (expired session
// credentials are not: the SDK's provider refreshes them), a wrong region.
func classify(err error) error {
	switch ProblemOf(err) {
	case ProblemNoBucket, ProblemAccessDenied, ProblemWrongRegion:
		return lakerelay.Permanent(err)
	case ProblemCredentials:
		if !awserr.Classify(err).Retryable {
			return lakerelay.Permanent(err)
		}
	case ProblemNotFound:
		if !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		}
	}
	return err
}

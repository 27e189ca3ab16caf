package sink

import (
	"context"
	"fmt"
	"strings"

	"github.com/lakerelay/lakerelay/partition"
)

// ConnectionTestPrefix starts the name of the object [CheckConnection]
// writes.
const ConnectionTestPrefix = "lakerelay-connection-test-"

// ConnectionResult is what a successful [CheckConnection] found.
type ConnectionResult struct {
	// Key is the test object's key; Location is where it was written.
	Key, Location string
	// Deleted reports whether the test object was removed again. Deleting
	// is optional (write-only roles are common); when it failed, DeleteErr
	// says why and the object is still there.
	Deleted   bool
	DeleteErr error
}

// ConnectionError is the error of a failed [CheckConnection]: what kind of
// problem it is, where, what to check, and the underlying store error.
type ConnectionError struct {
	Problem  Problem
	Location string
	// Hint tells a person what to check or change.
	Hint string
	Err  error
}

func (e *ConnectionError) Error() string {
	return fmt.Sprintf("sink: connection test: %s: %s: %s (%v)", e.Location, e.Problem, e.Hint, e.Err)
}

// Unwrap returns the store error.
func (e *ConnectionError) Unwrap() error { return e.Err }

// CheckConnection tests that store accepts writes under prefix ("" or a
// prefix ending in "/"): it writes a small object named
// prefix + ConnectionTestPrefix + a unique name, and then tries to delete
// it. A failed write is a *[ConnectionError] telling missing bucket, access
// denied, bad credentials, unreachable endpoint and throttling apart; a
// failed delete is reported in the result only.
func CheckConnection(ctx context.Context, store Store, prefix string) (ConnectionResult, error) {
	if err := checkPrefix(prefix); err != nil {
		return ConnectionResult{}, fmt.Errorf("sink: connection test: %w", err)
	}
	key := prefix + ConnectionTestPrefix + partition.ObjectName(".txt")
	res := ConnectionResult{Key: key, Location: store.Location(key)}
	body := strings.NewReader("lakerelay connection test; safe to delete\n")
	if err := store.Put(ctx, key, body, PutOptions{ContentType: "text/plain"}); err != nil {
		if ctx.Err() != nil {
			return res, err
		}
		p := ProblemOf(err)
		return res, &ConnectionError{Problem: p, Location: res.Location, Hint: hint(p, store), Err: err}
	}
	if err := store.Delete(ctx, key); err != nil {
		res.DeleteErr = err
		return res, nil
	}
	res.Deleted = true
	return res, nil
}

func hint(p Problem, store Store) string {
	s3s, isS3 := store.(*S3Store)
	switch p {
	case ProblemNoBucket:
		if isS3 {
			return fmt.Sprintf("bucket %q does not exist: check the bucket name and the region (and AWS_ENDPOINT_URL_S3 for a custom endpoint)", s3s.Bucket())
		}
		return "the directory does not exist or cannot be created"
	case ProblemAccessDenied:
		if isS3 {
			return fmt.Sprintf("the credentials may not write here: allow s3:PutObject on arn:aws:s3:::%s/<prefix>* in the identity policy "+
				"and the bucket policy (plus kms:GenerateDataKey for SSE-KMS); if the bucket policy demands it, set the ACL "+
				"bucket-owner-full-control; check the expected bucket owner", s3s.Bucket())
		}
		return "no permission to write to the directory: check its owner and mode"
	case ProblemCredentials:
		return "the credentials were rejected or could not be obtained: check AWS_ACCESS_KEY_ID / AWS_PROFILE / SSO login, " +
			"their expiry, the clock, and for --role-arn the role ARN, its trust policy and the external id"
	case ProblemUnreachable:
		return "the endpoint cannot be reached: check the region, AWS_ENDPOINT_URL_S3, DNS, proxy settings and the network path (VPC endpoint, firewall)"
	case ProblemWrongRegion:
		return "the bucket is in another region: set the region (AWS_REGION or --region) to the bucket's region"
	case ProblemThrottled:
		return "the store kept throttling or failing (503 SlowDown / 5xx) through all retries: try again later, lower the write rate, or spread keys over more prefixes"
	}
	return "unexpected error; see the cause"
}

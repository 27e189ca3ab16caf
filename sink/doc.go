// Package sink writes batches of records as objects: compressed JSONL under
// a key layout from package partition, to an S3 bucket or a local directory.
//
// A [Store] is the small seam every destination implements: [S3Store]
// (streaming multipart uploads, retries with backoff) and [DirStore]
// (atomic temp-file-and-rename writes). Both pass one conformance suite.
//
// # Errors
//
// Store errors are *[StoreError] values naming the operation, bucket and
// key, wrapping the original cause, so errors.As(err, &smithy.APIError)
// works. A missing object wraps [ErrNotFound]. Causes that retrying cannot
// fix (access denied, missing bucket, bad credentials, invalid key) are
// marked with [lakerelay.Permanent]. [ProblemOf] tells which kind of failure
// an error is.
//
// # Concurrency
//
// Stores are safe for concurrent use.
package sink

// Package probe tests live AWS access for lakerelay's jobs, like a
// connector's "Test connection" button.
//
// [Run] calls sts:GetCallerIdentity, sts:AssumeRole (when
// [Options].RoleARN is set), then for a bucket s3:HeadBucket and the checks
// that fit the job ([Options].Job): a writer's PutObject of a small test
// object (carrying the job's ACL, outside any Security Lake partition) and a
// GetObject of it; a collector's HeadObject and GetObject of an existing
// object, with kms:Decrypt when it is SSE-KMS (a read-only role passes);
// and for a queue sqs:GetQueueAttributes, sqs:ReceiveMessage and
// sqs:ChangeMessageVisibility, all with the caller's credentials. Each call gives one [Result] whose [Outcome] classifies it
// (bad configuration, bad credentials, missing permission naming the IAM
// action, not found, throttled, unreachable, unsupported by the endpoint)
// with a hint saying what to check.
//
// This package holds the AWS clients so that package iamcheck, which
// writes, checks and evaluates the policies, stays pure: no I/O and no AWS
// client.
//
// # Side effects
//
// A writer's PutObject check leaves one object of a few bytes named
// [KeyPrefix]* under [WritePrefix](Options.Prefix) (deleting it would need
// s3:DeleteObject, which no job needs); the collector probe writes nothing.
// A message the ReceiveMessage check receives is made visible again at
// once; its receive count grows by one, which counts toward the queue's
// redrive maxReceiveCount.
//
// # Errors
//
// Run returns no error: every failure is a Result with Outcome other than
// [OutcomeOK], and Result.Err keeps the SDK error for errors.As (for
// example smithy.APIError). [Result.Failed] and [AnyFailed] ignore advisory
// checks (HeadBucket, and a writer's GetObject, which no job strictly
// needs). A
// cancelled context gives [OutcomeError] results.
//
// # Concurrency
//
// Run makes its calls one after another and may be called from several
// goroutines at once. It logs nothing and never reports credentials.
package probe

// Package iamcheck writes, checks and explains the IAM policies lakerelay's
// jobs need.
//
//   - [ParsePolicy] reads identity, resource (bucket, queue, topic, key) and
//     trust policies as IAM accepts them and reports grammar problems as
//     [Finding]s with a JSON path ("Statement[1].Condition.StringEquals"),
//     modelled on IAM Access Analyzer's policy checks.
//   - [Evaluate] decides a [Request] with AWS's evaluation rules: default
//     deny, explicit deny wins, same-account allow from the identity or the
//     resource policy, cross-account allow from both; case-insensitive
//     actions with "*" and "?"; ARNs matched part by part; NotAction,
//     NotResource, NotPrincipal; every condition operator family with
//     IfExists and the ForAllValues/ForAnyValue set operators; policy
//     variables with defaults and escapes (literal text unless Version is
//     2012-10-17). The [Result] names the deciding statements and says why.
//   - [Requirements] lists the exact requests a job ([JobConfig]: export,
//     Security Lake delivery, collection through SQS, with KMS when a key is
//     given) makes; [Check] evaluates a user's policies against them and
//     lints them with [Lint]; [Generate] writes least-privilege policies for
//     each job and [PolicyKind].
//
// The package is pure: the policy model, the evaluator, the lints and the
// generators do no I/O and import no AWS client (a test asserts that no
// github.com/aws/ package is among its dependencies). Live access is tested
// by package [github.com/lakerelay/lakerelay/iamcheck/probe], which calls
// STS, S3 and SQS with the caller's credentials and classifies each outcome.
//
// # What Evaluate models
//
// Identity policies and one resource policy. Permissions boundaries, SCPs,
// RCPs, session policies and ACLs are not modelled; condition keys are
// taken from Request.Context as given (nothing is derived from the
// principal). A resource policy that names an account grants to the account
// (its identity policies must allow too); role trust policies and KMS key
// policies must allow even within one account. A statement the grammar
// rejects (an invalid Effect, an unknown condition operator, an ARN with
// fewer than six parts) matches nothing, so it neither allows nor denies:
// fix the error findings first.
//
// # Errors
//
// ParsePolicy's error means the input is not a JSON object ([ErrSyntax]) or
// too large (it wraps lakerelay.ErrTooLarge); everything else is a finding.
// JobConfig errors wrap [ErrInvalidJob] and name the field; Generate wraps
// [ErrNotApplicable] when a kind does not fit the job or an input is
// missing.
//
// # Concurrency
//
// A parsed Policy is immutable; Evaluate, Lint, Check and Generate are safe
// for concurrent use.
//
// # Performance
//
// Action patterns and variable-free resource and condition patterns are
// compiled once by ParsePolicy; matching is a linear wildcard match without
// regular expressions. Evaluate allocates only the lower-cased copy of the
// request context and its result. See BENCHMARKS.md for figures.
package iamcheck

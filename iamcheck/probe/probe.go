package probe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/lakerelay/lakerelay/iamcheck"
	"github.com/lakerelay/lakerelay/internal/awserr"
)

// Outcome classifies one check.
type Outcome string

// Outcomes. Every failure names what to check in Result.Hint.
const (
	OutcomeOK Outcome = "ok"
	// OutcomeBadConfig: the request was malformed for this endpoint (HTTP
	// 400, 301): wrong region, bucket name, queue URL or parameters.
	OutcomeBadConfig Outcome = "bad_config"
	// OutcomeBadCredentials: the credentials were rejected (HTTP 401,
	// InvalidAccessKeyId, SignatureDoesNotMatch, expired tokens).
	OutcomeBadCredentials Outcome = "bad_credentials"
	// OutcomeMissingPermission: access denied (HTTP 403); Action names the
	// IAM action to grant.
	OutcomeMissingPermission Outcome = "missing_permission"
	// OutcomeNotFound: the bucket, key or queue does not exist (HTTP 404).
	OutcomeNotFound Outcome = "not_found"
	// OutcomeThrottled: the service asked to slow down (HTTP 429, 503).
	OutcomeThrottled Outcome = "throttled"
	// OutcomeUnreachable: no HTTP response (DNS, connection refused,
	// timeout): check the endpoint and the network path.
	OutcomeUnreachable Outcome = "unreachable"
	// OutcomeUnsupported: the endpoint does not implement the API (S3- or
	// SQS-compatible servers); the check is advisory.
	OutcomeUnsupported Outcome = "unsupported"
	// OutcomeSkipped: not run because an earlier check it depends on failed.
	OutcomeSkipped Outcome = "skipped"
	// OutcomeError: anything else (including a cancelled context).
	OutcomeError Outcome = "error"
)

// Options says what Run checks. Empty fields skip their checks.
type Options struct {
	// Job selects the checks that fit the job: the zero value,
	// iamcheck.JobExport and iamcheck.JobSecurityLake write (PutObject of a
	// test object); iamcheck.JobCollect only reads (HeadObject and GetObject
	// of ObjectKey, kms:Decrypt when it is SSE-KMS) and needs no write
	// permission.
	Job iamcheck.JobKind
	// Bucket is checked with HeadBucket and, for writers, a PutObject of a
	// small test object under Prefix and a GetObject of that object.
	Bucket string
	// Prefix is where the job writes or reads. A writer's test object goes
	// under Prefix cut before its first Security Lake partition segment
	// (region=, accountId=, eventDay=), so that it never lands in a
	// partition.
	Prefix string
	// ACL is the canned ACL the writer sets (for example
	// bucket-owner-full-control); the test write carries it.
	ACL string
	// ObjectKey is an existing object under Prefix that a collector
	// probe reads (required for JobCollect with a Bucket).
	ObjectKey string
	// QueueURL is checked with GetQueueAttributes, ReceiveMessage and
	// ChangeMessageVisibility (a received message is made visible again at
	// once).
	QueueURL string
	// RoleARN, when set, is assumed first (with ExternalID) and every later
	// check runs with the role's credentials.
	RoleARN     string
	ExternalID  string
	SessionName string // "lakerelay-probe" when empty
	// S3Options, SQSOptions and STSOptions adjust the clients (for example
	// path-style addressing or endpoints).
	S3Options  []func(*s3.Options)
	SQSOptions []func(*sqs.Options)
	STSOptions []func(*sts.Options)
}

// Result is the outcome of one check.
type Result struct {
	// Check is the API call, for example "s3:PutObject".
	Check string `json:"check"`
	// Target is what was called on: a bucket, an object, a queue URL, a
	// role ARN.
	Target  string  `json:"target"`
	Outcome Outcome `json:"outcome"`
	// Advisory checks are reported but do not fail the probe: no job needs
	// HeadBucket (s3:ListBucket) or, when it only writes, GetObject.
	Advisory bool `json:"advisory,omitempty"`
	// Status and Code are the HTTP status and AWS error code, when any.
	Status int    `json:"status,omitempty"`
	Code   string `json:"code,omitempty"`
	// Action is the IAM action the check needs.
	Action string `json:"action"`
	// Detail is the caller identity on success, or the error message.
	Detail string `json:"detail,omitempty"`
	// Hint says what to check.
	Hint       string `json:"hint,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	// Err is the error of the call (nil on success), for errors.As.
	Err error `json:"-"`
}

// Failed reports whether r failed and is not advisory.
func (r Result) Failed() bool {
	return !r.Advisory && r.Outcome != OutcomeOK
}

// AnyFailed reports whether any non-advisory check failed.
func AnyFailed(results []Result) bool {
	for _, r := range results {
		if r.Failed() {
			return true
		}
	}
	return false
}

// KeyPrefix starts the name of the test object Run writes under
// Prefix. The object (a few bytes) is left in place: deleting it would need
// s3:DeleteObject, which no job needs.
const KeyPrefix = "lakerelay-probe-"

// Run tests live access like a connector's "Test connection" button, with
// the checks that fit Options.Job: sts:GetCallerIdentity, sts:AssumeRole
// (when RoleARN is set), then for the bucket s3:HeadBucket (advisory) and,
// for a writer, s3:PutObject of a test object (with ACL, under
// WritePrefix(Prefix)) and s3:GetObject of it (advisory), or, for a
// collector, s3:HeadObject and s3:GetObject of ObjectKey (first byte) and
// kms:Decrypt when the object is SSE-KMS; for the queue
// sqs:GetQueueAttributes, sqs:ReceiveMessage (at most one message) and
// sqs:ChangeMessageVisibility, which makes a received message visible again
// at once (its receive count still grows by one), or, on an empty queue,
// is tried with a made-up receipt handle. A failure's Hint names the
// missing permission and the resource ("allow s3:GetObject on
// arn:aws:s3:::b/k").
// Each result is classified (see Outcome) with what to check. Run never
// returns early on a failed check except that a failed AssumeRole skips the
// checks that would have used the role. It logs nothing and never reports
// credentials.
func Run(ctx context.Context, cfg aws.Config, opts Options) []Result {
	var out []Result
	run := func(check, target, action string, advisory bool, f func() (string, error)) Result {
		start := time.Now()
		detail, err := f()
		r := classify(check, target, action, err)
		r.Advisory = r.Advisory || advisory
		r.DurationMS = time.Since(start).Milliseconds()
		if err == nil {
			r.Detail = detail
		}
		out = append(out, r)
		return r
	}
	stsClient := sts.NewFromConfig(cfg, opts.STSOptions...)
	run("sts:GetCallerIdentity", "", "sts:GetCallerIdentity", false, func() (string, error) {
		id, err := stsClient.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return "", err
		}
		return aws.ToString(id.Arn), nil
	})
	if opts.RoleARN != "" {
		session := opts.SessionName
		if session == "" {
			session = "lakerelay-probe"
		}
		var creds aws.Credentials
		r := run("sts:AssumeRole", opts.RoleARN, "sts:AssumeRole", false, func() (string, error) {
			in := &sts.AssumeRoleInput{RoleArn: aws.String(opts.RoleARN), RoleSessionName: aws.String(session)}
			if opts.ExternalID != "" {
				in.ExternalId = aws.String(opts.ExternalID)
			}
			o, err := stsClient.AssumeRole(ctx, in)
			if err != nil {
				return "", err
			}
			if o.Credentials == nil {
				return "", errors.New("probe: AssumeRole returned no credentials")
			}
			creds = aws.Credentials{AccessKeyID: aws.ToString(o.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(o.Credentials.SecretAccessKey),
				SessionToken: aws.ToString(o.Credentials.SessionToken), Source: "probe.Run AssumeRole", CanExpire: true}
			if o.AssumedRoleUser != nil {
				return aws.ToString(o.AssumedRoleUser.Arn), nil
			}
			return opts.RoleARN, nil
		})
		if r.Outcome != OutcomeOK {
			for _, c := range plannedChecks(opts) {
				out = append(out, Result{Check: c.check, Target: c.target, Action: c.check, Advisory: c.advisory, Outcome: OutcomeSkipped,
					Hint: "not run: the role could not be assumed"})
			}
			return out
		}
		cfg = cfg.Copy()
		cfg.Credentials = aws.NewCredentialsCache(credentials.StaticCredentialsProvider{Value: creds})
	}
	if opts.Bucket != "" {
		s3c := s3.NewFromConfig(cfg, opts.S3Options...)
		run("s3:HeadBucket", opts.Bucket, "s3:ListBucket", true, func() (string, error) {
			_, err := s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(opts.Bucket)})
			return "", err
		})
		if opts.Job == iamcheck.JobCollect {
			extra := readChecks(ctx, s3c, opts, run)
			out = append(out, extra...)
		} else {
			writeChecks(ctx, s3c, opts, run, &out)
		}
	}
	if opts.QueueURL != "" {
		q := sqs.NewFromConfig(cfg, opts.SQSOptions...)
		run("sqs:GetQueueAttributes", opts.QueueURL, "sqs:GetQueueAttributes", false, func() (string, error) {
			o, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(opts.QueueURL),
				AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn, sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%s, about %s messages", o.Attributes["QueueArn"], o.Attributes["ApproximateNumberOfMessages"]), nil
		})
		var received *sqstypes.Message
		recv := run("sqs:ReceiveMessage", opts.QueueURL, "sqs:ReceiveMessage", false, func() (string, error) {
			o, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(opts.QueueURL), MaxNumberOfMessages: 1})
			if err != nil {
				return "", err
			}
			if len(o.Messages) == 0 {
				return "the queue is empty", nil
			}
			received = &o.Messages[0]
			return "1 message seen; it is made visible again at once (its receive count grew by one)", nil
		})
		// Hand a received message back at once (a zero VisibilityTimeout
		// cannot be sent in ReceiveMessage: the SDK omits zero values).
		// Without one, a made-up receipt handle still tests the permission:
		// SQS authorizes the call before it looks at the handle.
		handle := "lakerelay-probe-invalid-receipt-handle"
		if received != nil {
			handle = aws.ToString(received.ReceiptHandle)
		}
		if recv.Outcome == OutcomeOK {
			run("sqs:ChangeMessageVisibility", opts.QueueURL, "sqs:ChangeMessageVisibility", false, func() (string, error) {
				_, err := q.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(opts.QueueURL),
					ReceiptHandle: aws.String(handle), VisibilityTimeout: 0})
				if received == nil && isInvalidHandle(err) {
					return "allowed (a made-up receipt handle was rejected, as expected, after authorization)", nil
				}
				if err != nil && received != nil {
					return "", fmt.Errorf("the message seen could not be made visible again and reappears after the queue's visibility timeout: %w", err)
				}
				return "the message seen is visible again", err
			})
		} else {
			out = append(out, Result{Check: "sqs:ChangeMessageVisibility", Target: opts.QueueURL, Action: "sqs:ChangeMessageVisibility", Outcome: OutcomeSkipped,
				Hint: "not run: ReceiveMessage failed"})
		}
	}
	return out
}

type plannedCheck struct {
	check, target string
	advisory      bool
}

func plannedChecks(o Options) []plannedCheck {
	var out []plannedCheck
	if o.Bucket != "" {
		out = append(out, plannedCheck{"s3:HeadBucket", o.Bucket, true})
		if o.Job == iamcheck.JobCollect {
			out = append(out, plannedCheck{"s3:HeadObject", o.Bucket + "/" + o.ObjectKey, false}, plannedCheck{"s3:GetObject", o.Bucket + "/" + o.ObjectKey, false})
		} else {
			out = append(out, plannedCheck{"s3:PutObject", o.Bucket, false}, plannedCheck{"s3:GetObject", o.Bucket, true})
		}
	}
	if o.QueueURL != "" {
		out = append(out, plannedCheck{"sqs:GetQueueAttributes", o.QueueURL, false}, plannedCheck{"sqs:ReceiveMessage", o.QueueURL, false},
			plannedCheck{"sqs:ChangeMessageVisibility", o.QueueURL, false})
	}
	return out
}

type runFunc func(check, target, action string, advisory bool, f func() (string, error)) Result

// writeChecks writes a test object (with the job's ACL) outside any
// Security Lake partition and reads it back (advisory).
func writeChecks(ctx context.Context, s3c *s3.Client, opts Options, run runFunc, out *[]Result) {
	key := testKey(WritePrefix(opts.Prefix))
	target := opts.Bucket + "/" + key
	put := run("s3:PutObject", target, "s3:PutObject", false, func() (string, error) {
		in := &s3.PutObjectInput{Bucket: aws.String(opts.Bucket), Key: aws.String(key),
			Body: strings.NewReader("lakerelay connection test\n"), ContentType: aws.String("text/plain")}
		if opts.ACL != "" {
			in.ACL = s3types.ObjectCannedACL(opts.ACL)
		}
		_, err := s3c.PutObject(ctx, in)
		return "", err
	})
	if put.Outcome == OutcomeMissingPermission && opts.ACL != "" {
		r := &(*out)[len(*out)-1]
		r.Hint += fmt.Sprintf("; the write sets the ACL %s, which also needs s3:PutObjectAcl (and a bucket policy that demands this ACL denies writes without it)", opts.ACL)
	}
	if put.Outcome != OutcomeOK {
		*out = append(*out, Result{Check: "s3:GetObject", Target: target, Action: "s3:GetObject", Advisory: true, Outcome: OutcomeSkipped,
			Hint: "not run: the test object could not be written"})
		return
	}
	run("s3:GetObject", target, "s3:GetObject", true, func() (string, error) {
		o, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(opts.Bucket), Key: aws.String(key)})
		if err != nil {
			return "", err
		}
		defer o.Body.Close()
		_, err = io.Copy(io.Discard, io.LimitReader(o.Body, 1<<10))
		return "", err
	})
}

// readChecks reads an existing object as a collector does: HeadObject,
// then the first byte with GetObject, which for an SSE-KMS object also
// needs kms:Decrypt (reported as its own check). It returns the results
// it adds without run (bad configuration, kms:Decrypt).
func readChecks(ctx context.Context, s3c *s3.Client, opts Options, run runFunc) []Result {
	target := opts.Bucket + "/" + opts.ObjectKey
	if opts.ObjectKey == "" {
		return []Result{{Check: "s3:GetObject", Target: opts.Bucket, Action: "s3:GetObject", Outcome: OutcomeBadConfig,
			Hint: "the collector probe reads an existing object and writes nothing: name one under the prefix (ObjectKey, --object-key)"}}
	}
	if dir := prefixDir(opts.Prefix); !strings.HasPrefix(opts.ObjectKey, dir) {
		return []Result{{Check: "s3:GetObject", Target: target, Action: "s3:GetObject", Outcome: OutcomeBadConfig,
			Hint: fmt.Sprintf("the object is not under the watched prefix %q: name one the collector will read", dir)}}
	}
	var kmsKey string
	head := run("s3:HeadObject", target, "s3:GetObject", false, func() (string, error) {
		o, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(opts.Bucket), Key: aws.String(opts.ObjectKey)})
		if err != nil {
			return "", err
		}
		kmsKey = DecryptKey(o.ServerSideEncryption, aws.ToString(o.SSEKMSKeyId))
		if kmsKey != "" {
			return fmt.Sprintf("%d bytes, SSE-KMS with %s: kms:Decrypt is required", aws.ToInt64(o.ContentLength), kmsKey), nil
		}
		return fmt.Sprintf("%d bytes", aws.ToInt64(o.ContentLength)), nil
	})
	get := run("s3:GetObject", target, "s3:GetObject", false, func() (string, error) {
		o, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(opts.Bucket), Key: aws.String(opts.ObjectKey), Range: aws.String("bytes=0-0")})
		if err != nil {
			return "", err
		}
		defer o.Body.Close()
		_, err = io.Copy(io.Discard, io.LimitReader(o.Body, 16))
		return "first byte read", err
	})
	if kmsKey == "" || head.Outcome != OutcomeOK {
		return nil
	}
	// GetObject of an SSE-KMS object is where kms:Decrypt is used.
	r := Result{Check: "kms:Decrypt", Target: kmsKey, Action: "kms:Decrypt", Outcome: get.Outcome, Status: get.Status, Code: get.Code,
		Detail: "required: the object is SSE-KMS", Err: get.Err}
	if get.Outcome == OutcomeMissingPermission {
		r.Hint = fmt.Sprintf("access denied reading an SSE-KMS object: allow kms:Decrypt on %s in the identity policy and the key policy, as well as s3:GetObject on arn:aws:s3:::%s", kmsKey, target)
	} else if get.Outcome != OutcomeOK {
		r.Outcome, r.Hint = OutcomeSkipped, "not known: GetObject failed for another reason"
	}
	return []Result{r}
}

// DecryptKey returns the KMS key a reader of an object encrypted as sse
// ("aws:kms", "aws:kms:dsse") with keyID needs kms:Decrypt on, or "" when
// it needs none (SSE-S3, no encryption).
func DecryptKey(sse s3types.ServerSideEncryption, keyID string) string {
	if !strings.HasPrefix(string(sse), "aws:kms") {
		return ""
	}
	if keyID == "" {
		return "the bucket's KMS key"
	}
	return keyID
}

// WritePrefix is where a writer's test object goes: prefix (as a folder)
// cut before its first Security Lake partition segment (region=,
// accountId=, eventDay=), so that the object never lands in a partition a
// query engine reads.
func WritePrefix(prefix string) string {
	var keep []string
	for _, seg := range strings.Split(strings.Trim(prefix, "/"), "/") {
		lower := strings.ToLower(seg)
		if strings.HasPrefix(lower, "region=") || strings.HasPrefix(lower, "accountid=") || strings.HasPrefix(lower, "eventday=") {
			break
		}
		if seg != "" {
			keep = append(keep, seg)
		}
	}
	return prefixDir(strings.Join(keep, "/"))
}

func prefixDir(p string) string {
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// isInvalidHandle reports SQS's answer to an authorized call with a
// receipt handle it does not know.
func isInvalidHandle(err error) bool {
	switch awserr.Classify(err).Code {
	case "ReceiptHandleIsInvalid", "InvalidParameterValue", "AWS.SimpleQueueService.ReceiptHandleIsInvalid", "MessageNotInflight":
		return true
	}
	return false
}

func testKey(prefix string) string {
	prefix = prefixDir(prefix)
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + KeyPrefix + time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:]) + ".txt"
}

// classify turns an AWS SDK error into an outcome with a hint. The kind of
// failure is internal/awserr's; the probe adds what to check.
func classify(check, target, action string, err error) Result {
	r := Result{Check: check, Target: target, Action: action, Outcome: OutcomeOK, Err: err}
	if err == nil {
		return r
	}
	in := awserr.Classify(err)
	r.Code, r.Status, r.Detail = in.Code, in.Status, in.Message
	if r.Detail == "" {
		r.Detail = err.Error()
	}
	switch in.Class {
	case awserr.Canceled:
		r.Outcome, r.Hint = OutcomeError, "the probe was cancelled or timed out"
	case awserr.Unauthenticated:
		r.Outcome = OutcomeBadCredentials
		switch r.Code {
		case "SignatureDoesNotMatch":
			r.Hint = "the signature does not match: the secret access key is wrong for this access key id (or a proxy changed the request)"
		case "InvalidAccessKeyId", "InvalidClientTokenId":
			r.Hint = "the access key id is unknown to this endpoint: check AWS_ACCESS_KEY_ID / the profile and that the endpoint is the right one"
		default:
			r.Hint = "the credentials were rejected: check the access key id and secret (or the session token and its expiry), the profile, and that the clock is right"
		}
	case awserr.PermissionDenied:
		r.Outcome = OutcomeMissingPermission
		switch check {
		case "s3:HeadBucket":
			r.Hint = "HEAD responses carry no error code: either s3:ListBucket on the bucket is not allowed (no job needs it) or the credentials are wrong; the PutObject check tells which"
		case "sts:AssumeRole":
			r.Hint = "the role cannot be assumed: its trust policy must allow this caller (with the external id, if one is required) and the caller's policy must allow sts:AssumeRole on it"
		default:
			r.Hint = fmt.Sprintf("access denied: allow %s on %s in the identity policy (and in the resource's policy for another account), and check for an explicit Deny, permissions boundary or SCP", action, targetARN(check, target))
		}
	case awserr.NotFound:
		r.Outcome = OutcomeNotFound
		r.Hint = fmt.Sprintf("%s does not exist: check the name, the region and the account", target)
	case awserr.Throttled:
		r.Outcome = OutcomeThrottled
		r.Hint = "the service is throttling: retry later, lower the request rate, or check the service quotas"
	case awserr.WrongRegion:
		r.Outcome = OutcomeBadConfig
		r.Hint = "the bucket is in another region: set --region (AWS_REGION) to the bucket's region"
	case awserr.InvalidArgument:
		msg := strings.ToLower(r.Detail)
		if r.Code == "NotImplemented" || r.Status == 501 || strings.Contains(msg, "unsupported action") || strings.Contains(msg, "not implemented") {
			r.Outcome, r.Advisory = OutcomeUnsupported, true
			r.Hint = "the endpoint does not implement this API (an S3- or SQS-compatible server); the other checks still apply"
			break
		}
		r.Outcome = OutcomeBadConfig
		r.Hint = "the request was rejected as malformed: check the region, the endpoint, path-style addressing, the bucket name and the queue URL"
	case awserr.Unavailable:
		if r.Status == 0 {
			r.Outcome = OutcomeUnreachable
			r.Hint = "no response: check the endpoint URL (AWS_ENDPOINT_URL_*), DNS, proxies and that the service is reachable"
			break
		}
		r.Outcome = OutcomeError
		r.Hint = fmt.Sprintf("the service failed (HTTP %d): retry later; if it persists, check the service's health", r.Status)
	default:
		r.Outcome = OutcomeError
		r.Hint = "unexpected error: see detail"
	}
	return r
}

// targetARN renders the ARN an action needs, for hints.
func targetARN(check, target string) string {
	switch {
	case strings.HasPrefix(check, "s3:"):
		return "arn:aws:s3:::" + target
	case strings.HasPrefix(check, "sqs:"):
		return "the queue " + target
	}
	return target
}

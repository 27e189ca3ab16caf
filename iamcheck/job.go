package iamcheck

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// JobKind names one of the connector jobs whose permissions iamcheck knows.
type JobKind string

// Jobs.
const (
	// JobExport writes raw records as objects under a prefix (gzip JSONL).
	JobExport JobKind = "export"
	// JobSecurityLake writes Parquet objects to a Security Lake custom
	// source location (Bucket and Prefix of the source's S3 location).
	JobSecurityLake JobKind = "securitylake"
	// JobCollect reads S3 event notifications from an SQS queue (sent by
	// S3 directly, or through an SNS topic) and fetches the objects.
	JobCollect JobKind = "collect"
)

// PolicyKind names the kind of policy a generator writes or a lint checks.
type PolicyKind string

// Policy kinds.
const (
	KindIdentity PolicyKind = "identity" // attached to the role or user that runs the job
	KindTrust    PolicyKind = "trust"    // the job role's trust policy
	KindQueue    PolicyKind = "queue"    // SQS queue policy
	KindTopic    PolicyKind = "topic"    // SNS topic policy
	KindBucket   PolicyKind = "bucket"   // S3 bucket policy
	KindKMS      PolicyKind = "kms"      // KMS key policy
)

// ParseJobKind and ParsePolicyKind accept the lower-case names above.
func ParseJobKind(s string) (JobKind, error) {
	switch k := JobKind(s); k {
	case JobExport, JobSecurityLake, JobCollect:
		return k, nil
	}
	return "", fmt.Errorf("iamcheck: unknown job %q (want export, securitylake or collect)", s)
}

// ParsePolicyKind parses a policy kind name.
func ParsePolicyKind(s string) (PolicyKind, error) {
	switch k := PolicyKind(s); k {
	case KindIdentity, KindTrust, KindQueue, KindTopic, KindBucket, KindKMS:
		return k, nil
	}
	return "", fmt.Errorf("iamcheck: unknown policy kind %q (want identity, trust, queue, topic, bucket or kms)", s)
}

// ACLBucketOwnerFullControl is the canned ACL that hands ownership of
// objects written into another account's bucket to the bucket owner.
const ACLBucketOwnerFullControl = "bucket-owner-full-control"

// JobConfig describes one job's resources. The zero value of each optional
// field means "not used".
type JobConfig struct {
	Job JobKind
	// Bucket is the S3 bucket written (export, securitylake) or read
	// (collect).
	Bucket string
	// Prefix scopes object access; it is treated as a folder ("logs" and
	// "logs/" both mean keys under "logs/"). Empty means the whole bucket.
	Prefix string
	// QueueARN is the SQS queue a collector reads (collect only).
	QueueARN string
	// TopicARN is the SNS topic between the bucket and the queue, when
	// notifications go through SNS (collect only).
	TopicARN string
	// RuleARN is the EventBridge rule that forwards the bucket's Object
	// Created events to the queue, when notifications go through
	// EventBridge (collect only; excludes TopicARN).
	RuleARN string
	// KMSKeyARN is the customer managed key that encrypts the objects (and,
	// for collect, the queue or topic).
	KMSKeyARN string
	// RoleARN is the IAM role (or user) the job runs as. Bucket, queue and
	// key policies grant to it; requests are made by a session of it.
	RoleARN string
	// TrustedPrincipal may assume RoleARN: an account id or an IAM ARN of a
	// third party (the vendor running the job).
	TrustedPrincipal string
	// ExternalID is the sts:ExternalId the trusted principal must pass.
	ExternalID string
	// SourceAccount owns the bucket; S3 sends notifications with it as
	// aws:SourceAccount.
	SourceAccount string
	// SessionTags says the job passes session tags when assuming RoleARN
	// (then the trust policy must allow sts:TagSession).
	SessionTags bool
	// ObjectACL is the canned ACL the job sets on objects it writes, for
	// example ACLBucketOwnerFullControl.
	ObjectACL string
}

// externalIDChars are the characters STS accepts in an ExternalId.
var externalIDChars = regexp.MustCompile(`^[\w+=,.@:/-]+$`)

// ValidExternalID reports whether s is an sts:ExternalId that STS accepts:
// 2 to 1224 characters of A-Z, a-z, 0-9 and _+=,.@:/-.
func ValidExternalID(s string) bool {
	return len(s) >= 2 && len(s) <= 1224 && externalIDChars.MatchString(s)
}

// ErrInvalidJob is wrapped by JobConfig.Validate's errors.
var ErrInvalidJob = errors.New("iamcheck: invalid job")

// Validate reports every problem of the configuration, joined; each names
// its field and wraps ErrInvalidJob.
func (j JobConfig) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalidJob, field, fmt.Sprintf(format, args...)))
	}
	if _, err := ParseJobKind(string(j.Job)); err != nil {
		bad("Job", "%q is not export, securitylake or collect", j.Job)
	}
	if j.Bucket != "" && !validBucketName(j.Bucket) {
		bad("Bucket", "%q is not a valid S3 bucket name", j.Bucket)
	}
	if strings.ContainsAny(j.Prefix, "*?") || strings.Contains(j.Prefix, "${") || strings.HasPrefix(j.Prefix, "/") {
		bad("Prefix", "%q may not start with / or contain *, ? or ${", j.Prefix)
	}
	checkARN := func(field, v, service, typ string) {
		if v == "" {
			return
		}
		a, ok := parseARN(v)
		if !ok || a.Service != service || !isAccountID(a.Account) || a.Region == "" || (typ != "" && !strings.HasPrefix(a.Resource, typ)) || strings.ContainsAny(v, "*?") {
			bad(field, "%q is not a %s ARN", v, service)
		}
	}
	checkARN("QueueARN", j.QueueARN, "sqs", "")
	checkARN("TopicARN", j.TopicARN, "sns", "")
	checkARN("RuleARN", j.RuleARN, "events", "rule/")
	checkARN("KMSKeyARN", j.KMSKeyARN, "kms", "")
	if j.RuleARN != "" && j.TopicARN != "" {
		bad("RuleARN", "notifications go through an SNS topic or an EventBridge rule, not both")
	}
	if j.RoleARN != "" {
		a, ok := parseARN(j.RoleARN)
		if !ok || a.Service != "iam" || !isAccountID(a.Account) || !(strings.HasPrefix(a.Resource, "role/") || strings.HasPrefix(a.Resource, "user/")) || strings.ContainsAny(j.RoleARN, "*?") {
			bad("RoleARN", "%q is not an IAM role or user ARN", j.RoleARN)
		}
	}
	if j.TrustedPrincipal != "" && !isAccountID(j.TrustedPrincipal) {
		a, ok := parseARN(j.TrustedPrincipal)
		if !ok || (a.Service != "iam" && a.Service != "sts") || !isAccountID(a.Account) || strings.ContainsAny(j.TrustedPrincipal, "*?") {
			bad("TrustedPrincipal", "%q is not an account id or an IAM principal ARN", j.TrustedPrincipal)
		}
	}
	if j.ExternalID != "" && !ValidExternalID(j.ExternalID) {
		bad("ExternalID", "%q is not 2-1224 characters of A-Z, a-z, 0-9 and _+=,.@:/-", j.ExternalID)
	}
	if j.SourceAccount != "" && !isAccountID(j.SourceAccount) {
		bad("SourceAccount", "%q is not a 12-digit account id", j.SourceAccount)
	}
	switch j.ObjectACL {
	case "", "private", ACLBucketOwnerFullControl, "bucket-owner-read":
	default:
		bad("ObjectACL", "%q is not a canned ACL lakerelay sets (private, bucket-owner-read, bucket-owner-full-control)", j.ObjectACL)
	}
	switch j.Job {
	case JobExport, JobSecurityLake:
		if j.Bucket == "" {
			bad("Bucket", "required for the %s job", j.Job)
		}
		if j.QueueARN != "" || j.TopicARN != "" || j.RuleARN != "" {
			bad("QueueARN", "the %s job uses no queue, topic or rule", j.Job)
		}
	case JobCollect:
		if j.Bucket == "" {
			bad("Bucket", "required for the collect job")
		}
		if j.QueueARN == "" {
			bad("QueueARN", "required for the collect job")
		}
		if j.ObjectACL != "" {
			bad("ObjectACL", "the collect job writes no objects")
		}
	}
	return errors.Join(errs...)
}

func validBucketName(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return b[0] != '-' && b[0] != '.' && b[len(b)-1] != '-' && b[len(b)-1] != '.'
}

// prefixDir is Prefix as a folder: "" or "p/".
func (j JobConfig) prefixDir() string {
	p := j.Prefix
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

func (j JobConfig) bucketARN() string  { return "arn:aws:s3:::" + j.Bucket }
func (j JobConfig) objectsARN() string { return j.bucketARN() + "/" + j.prefixDir() + "*" }

// sampleObjectARN is an object the job reads or writes.
func (j JobConfig) sampleObjectARN() string {
	return j.bucketARN() + "/" + j.prefixDir() + "lakerelay/2024-01-01/object.gz"
}

// account is the account the job's resources are in, as far as known.
func (j JobConfig) account() string {
	if j.SourceAccount != "" {
		return j.SourceAccount
	}
	for _, s := range []string{j.RoleARN, j.QueueARN, j.TopicARN, j.KMSKeyARN} {
		if a, ok := parseARN(s); ok && isAccountID(a.Account) {
			return a.Account
		}
	}
	return ""
}

// roleAccount is the account of RoleARN, else account().
func (j JobConfig) roleAccount() string {
	if a, ok := parseARN(j.RoleARN); ok {
		return a.Account
	}
	return j.account()
}

// PlaceholderAccount stands in for an account nobody named, in requests
// built for evaluation only (never in generated policies).
const PlaceholderAccount = "123456789012"

// caller is the principal that makes the job's requests: a session of
// RoleARN (or the user itself), or a placeholder role in the job's account.
func (j JobConfig) caller() string {
	role := j.RoleARN
	if role == "" {
		acct := j.account()
		if acct == "" {
			acct = PlaceholderAccount
		}
		role = "arn:aws:iam::" + acct + ":role/lakerelay"
	}
	a, _ := parseARN(role)
	if name, ok := strings.CutPrefix(a.Resource, "role/"); ok {
		return "arn:aws:sts::" + a.Account + ":assumed-role/" + lastSegment(name) + "/lakerelay"
	}
	return role
}

func (j JobConfig) roleOrPlaceholder() string {
	if j.RoleARN != "" {
		return j.RoleARN
	}
	acct := j.account()
	if acct == "" {
		acct = PlaceholderAccount
	}
	return "arn:aws:iam::" + acct + ":role/lakerelay"
}

// Requirement is one request a job makes, with the policy kind that governs
// it on the resource side.
type Requirement struct {
	Request
	// Governs is the resource policy that applies: KindBucket, KindQueue,
	// KindTopic, KindKMS or KindTrust.
	Governs PolicyKind `json:"governs"`
	// Why says what the job needs the request for.
	Why string `json:"why"`
}

// Actions each job needs, exported for documentation and tests.
var (
	WriteActions   = []string{"s3:PutObject", "s3:AbortMultipartUpload"}
	ReadActions    = []string{"s3:GetObject"}
	ConsumeActions = []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"}
)

// Requirements lists the exact requests job makes: the job role's own S3,
// SQS and KMS calls, the calls AWS services make on the job's behalf (S3
// sending notifications to the queue or topic, SNS to the queue, and their
// use of the KMS key), and the AssumeRole call of the trusted principal.
// Requests carry the context AWS sets (aws:SecureTransport, aws:SourceArn,
// aws:SourceAccount, sts:ExternalId, s3:x-amz-acl). The job must be valid
// (see Validate); Requirements does not check it.
func Requirements(j JobConfig) []Requirement {
	caller := j.caller()
	tls := map[string][]string{"aws:SecureTransport": {"true"}}
	var out []Requirement
	add := func(r Requirement) { out = append(out, r) }
	s3Account := j.SourceAccount
	if s3Account == "" {
		s3Account = j.roleAccount()
	}
	switch j.Job {
	case JobExport, JobSecurityLake:
		ctx := map[string][]string{"aws:SecureTransport": {"true"}}
		if j.ObjectACL != "" {
			ctx["s3:x-amz-acl"] = []string{j.ObjectACL}
		}
		add(Requirement{Request{caller, "s3:PutObject", j.sampleObjectARN(), s3Account, ctx}, KindBucket, "write objects under the prefix"})
		add(Requirement{Request{caller, "s3:AbortMultipartUpload", j.sampleObjectARN(), s3Account, tls}, KindBucket, "clean up a failed multipart upload"})
		if j.KMSKeyARN != "" {
			add(Requirement{Request{caller, "kms:GenerateDataKey", j.KMSKeyARN, "", tls}, KindKMS, "encrypt new objects with the key (SSE-KMS)"})
			add(Requirement{Request{caller, "kms:Decrypt", j.KMSKeyARN, "", tls}, KindKMS, "complete multipart uploads of SSE-KMS objects"})
		}
	case JobCollect:
		for _, a := range ConsumeActions {
			add(Requirement{Request{caller, a, j.QueueARN, "", tls}, KindQueue, "consume notifications from the queue"})
		}
		add(Requirement{Request{caller, "s3:GetObject", j.sampleObjectARN(), s3Account, tls}, KindBucket, "read the notified objects"})
		if j.KMSKeyARN != "" {
			add(Requirement{Request{caller, "kms:Decrypt", j.KMSKeyARN, "", tls}, KindKMS, "read SSE-KMS objects and messages of an encrypted queue"})
		}
		s3ctx := map[string][]string{"aws:SourceArn": {j.bucketARN()}, "aws:SecureTransport": {"true"}}
		if j.SourceAccount != "" {
			s3ctx["aws:SourceAccount"] = []string{j.SourceAccount}
		}
		ruleCtx := map[string][]string{"aws:SourceArn": {j.RuleARN}, "aws:SecureTransport": {"true"}}
		switch {
		case j.RuleARN != "":
			add(Requirement{Request{"events.amazonaws.com", "sqs:SendMessage", j.QueueARN, "", ruleCtx}, KindQueue, "the EventBridge rule delivers the bucket's events to the queue"})
		case j.TopicARN != "":
			add(Requirement{Request{"s3.amazonaws.com", "sns:Publish", j.TopicARN, "", s3ctx}, KindTopic, "S3 publishes object-created events to the topic"})
			add(Requirement{Request{"sns.amazonaws.com", "sqs:SendMessage", j.QueueARN, "",
				map[string][]string{"aws:SourceArn": {j.TopicARN}, "aws:SecureTransport": {"true"}}}, KindQueue, "SNS delivers the events to the queue"})
		default:
			add(Requirement{Request{"s3.amazonaws.com", "sqs:SendMessage", j.QueueARN, "", s3ctx}, KindQueue, "S3 sends object-created events to the queue"})
		}
		if j.KMSKeyARN != "" {
			type sender struct {
				service string
				ctx     map[string][]string
			}
			senders := []sender{{"s3.amazonaws.com", s3ctx}}
			whys := []string{"S3 sends events to the encrypted queue"}
			if j.RuleARN != "" {
				senders = []sender{{"events.amazonaws.com", ruleCtx}}
				whys = []string{"EventBridge delivers to the encrypted queue"}
			}
			if j.TopicARN != "" {
				whys[0] = "S3 publishes to the encrypted topic"
				senders = append(senders, sender{"sns.amazonaws.com", map[string][]string{"aws:SourceArn": {j.TopicARN}, "aws:SecureTransport": {"true"}}})
				whys = append(whys, "SNS delivers to the encrypted queue")
			}
			for i, s := range senders {
				add(Requirement{Request{s.service, "kms:GenerateDataKey", j.KMSKeyARN, "", s.ctx}, KindKMS, whys[i]})
				add(Requirement{Request{s.service, "kms:Decrypt", j.KMSKeyARN, "", s.ctx}, KindKMS, whys[i]})
			}
		}
	}
	if j.TrustedPrincipal != "" {
		ctx := map[string][]string{}
		if j.ExternalID != "" {
			ctx["sts:ExternalId"] = []string{j.ExternalID}
		}
		tp := j.TrustedPrincipal
		add(Requirement{Request{tp, "sts:AssumeRole", j.roleOrPlaceholder(), "", ctx}, KindTrust, "the trusted principal assumes the job role"})
		if j.SessionTags {
			add(Requirement{Request{tp, "sts:TagSession", j.roleOrPlaceholder(), "", ctx}, KindTrust, "the trusted principal passes session tags"})
		}
	}
	return out
}

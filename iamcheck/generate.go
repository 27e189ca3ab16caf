package iamcheck

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNotApplicable is wrapped by Generate's error when a policy kind does
// not apply to a job (a queue policy for an export) or a required input is
// missing.
var ErrNotApplicable = errors.New("iamcheck: policy not applicable")

// Generate writes the least-privilege policy of kind for job, as indented
// JSON ending in a newline:
//
//   - identity: the job role's own permissions, object access scoped to
//     Bucket/Prefix and conditioned on aws:SecureTransport (and on
//     s3:x-amz-acl when ObjectACL is set), queue and key access to the named
//     ARNs;
//   - trust: TrustedPrincipal may call sts:AssumeRole (and sts:TagSession
//     when SessionTags) with the ExternalID; an ExternalID is required for a
//     principal outside the job's account;
//   - queue / topic (collect): S3 (or SNS) may send only for the job's bucket
//     (aws:SourceArn) in the bucket owner's account (aws:SourceAccount); with
//     RuleARN, only that EventBridge rule may send (aws:SourceArn);
//   - bucket: RoleARN may write (or read) under the prefix; every request
//     without TLS is denied;
//   - kms: the key policy statements for RoleARN and, for collect, the
//     services that encrypt notifications, next to the account's default
//     administration statement.
//
// The job is validated first (errors wrap ErrInvalidJob); missing inputs and
// kinds that do not apply wrap ErrNotApplicable.
func Generate(job JobConfig, kind PolicyKind) ([]byte, error) {
	if err := job.Validate(); err != nil {
		return nil, err
	}
	stmts, err := generate(job, kind)
	if err != nil {
		return nil, err
	}
	doc := struct {
		Version   string      `json:"Version"`
		Statement []statement `json:"Statement"`
	}{Version2012, stmts}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("iamcheck: render policy: %w", err)
	}
	return append(out, '\n'), nil
}

func notApplicable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotApplicable, fmt.Sprintf(format, args...))
}

func strs(s ...string) *stringOrList {
	l := stringOrList(s)
	return &l
}

type conds map[string]map[string]stringOrList

func (c conds) add(op, key string, values ...string) conds {
	if c[op] == nil {
		c[op] = map[string]stringOrList{}
	}
	c[op][key] = append(c[op][key], values...)
	return c
}

func generate(j JobConfig, kind PolicyKind) ([]statement, error) {
	tls := func() conds { return conds{}.add("Bool", "aws:SecureTransport", "true") }
	switch kind {
	case KindIdentity:
		var out []statement
		switch j.Job {
		case JobExport, JobSecurityLake:
			c := tls()
			if j.ObjectACL != "" {
				c.add("StringEquals", "s3:x-amz-acl", j.ObjectACL)
				out = append(out,
					statement{Sid: "WriteObjects", Effect: Allow, Action: strs("s3:PutObject"), Resource: strs(j.objectsARN()), Condition: c},
					statement{Sid: "AbortUploads", Effect: Allow, Action: strs("s3:AbortMultipartUpload"), Resource: strs(j.objectsARN()), Condition: tls()})
			} else {
				out = append(out, statement{Sid: "WriteObjects", Effect: Allow, Action: strs(WriteActions...), Resource: strs(j.objectsARN()), Condition: c})
			}
			if j.KMSKeyARN != "" {
				out = append(out, statement{Sid: "EncryptObjects", Effect: Allow, Action: strs("kms:GenerateDataKey", "kms:Decrypt"), Resource: strs(j.KMSKeyARN)})
			}
		case JobCollect:
			out = append(out,
				statement{Sid: "ConsumeNotifications", Effect: Allow, Action: strs(ConsumeActions...), Resource: strs(j.QueueARN)},
				statement{Sid: "ReadObjects", Effect: Allow, Action: strs(ReadActions...), Resource: strs(j.objectsARN()), Condition: tls()})
			if j.KMSKeyARN != "" {
				out = append(out, statement{Sid: "DecryptObjectsAndMessages", Effect: Allow, Action: strs("kms:Decrypt"), Resource: strs(j.KMSKeyARN)})
			}
		}
		return out, nil
	case KindTrust:
		if j.TrustedPrincipal == "" {
			return nil, notApplicable("a trust policy needs the trusted principal (--principal)")
		}
		pr := parsePrincipal(j.TrustedPrincipal)
		if j.ExternalID == "" && pr.account != j.roleAccount() {
			return nil, notApplicable("principal %s is not in the job's account, so an external id (--external-id) is required", j.TrustedPrincipal)
		}
		actions := []string{"sts:AssumeRole"}
		if j.SessionTags {
			actions = append(actions, "sts:TagSession")
		}
		s := statement{Sid: "AssumeJobRole", Effect: Allow, Principal: &Principal{AWS: []string{j.TrustedPrincipal}}, Action: strs(actions...)}
		if j.ExternalID != "" {
			s.Condition = conds{}.add("StringEquals", "sts:ExternalId", j.ExternalID)
		}
		return []statement{s}, nil
	case KindQueue:
		if j.Job != JobCollect {
			return nil, notApplicable("the %s job uses no queue", j.Job)
		}
		var out []statement
		if j.RuleARN != "" {
			out = append(out, statement{Sid: "AllowRuleDelivery", Effect: Allow, Principal: &Principal{Service: []string{"events.amazonaws.com"}},
				Action: strs("sqs:SendMessage"), Resource: strs(j.QueueARN), Condition: conds{}.add("ArnEquals", "aws:SourceArn", j.RuleARN)})
		} else if j.TopicARN != "" {
			out = append(out, statement{Sid: "AllowTopicDelivery", Effect: Allow, Principal: &Principal{Service: []string{"sns.amazonaws.com"}},
				Action: strs("sqs:SendMessage"), Resource: strs(j.QueueARN), Condition: conds{}.add("ArnEquals", "aws:SourceArn", j.TopicARN)})
		} else {
			c, err := s3SourceConditions(j)
			if err != nil {
				return nil, err
			}
			out = append(out, statement{Sid: "AllowS3Notifications", Effect: Allow, Principal: &Principal{Service: []string{"s3.amazonaws.com"}},
				Action: strs("sqs:SendMessage"), Resource: strs(j.QueueARN), Condition: c})
		}
		if q, _ := parseARN(j.QueueARN); j.RoleARN != "" && q.Account != j.roleAccount() {
			out = append(out, statement{Sid: "AllowConsumer", Effect: Allow, Principal: &Principal{AWS: []string{j.RoleARN}},
				Action: strs(ConsumeActions...), Resource: strs(j.QueueARN)})
		}
		return out, nil
	case KindTopic:
		if j.Job != JobCollect || j.TopicARN == "" {
			return nil, notApplicable("a topic policy needs the collect job with a topic (--topic-arn)")
		}
		c, err := s3SourceConditions(j)
		if err != nil {
			return nil, err
		}
		return []statement{{Sid: "AllowS3Notifications", Effect: Allow, Principal: &Principal{Service: []string{"s3.amazonaws.com"}},
			Action: strs("sns:Publish"), Resource: strs(j.TopicARN), Condition: c}}, nil
	case KindBucket:
		if j.RoleARN == "" {
			return nil, notApplicable("a bucket policy needs the job role (--principal)")
		}
		role := &Principal{AWS: []string{j.RoleARN}}
		var out []statement
		switch j.Job {
		case JobExport, JobSecurityLake:
			c := tls()
			if j.ObjectACL != "" {
				c.add("StringEquals", "s3:x-amz-acl", j.ObjectACL)
				out = append(out,
					statement{Sid: "AllowJobWrites", Effect: Allow, Principal: role, Action: strs("s3:PutObject"), Resource: strs(j.objectsARN()), Condition: c},
					statement{Sid: "AllowJobAborts", Effect: Allow, Principal: role, Action: strs("s3:AbortMultipartUpload"), Resource: strs(j.objectsARN()), Condition: tls()})
			} else {
				out = append(out, statement{Sid: "AllowJobWrites", Effect: Allow, Principal: role, Action: strs(WriteActions...), Resource: strs(j.objectsARN()), Condition: c})
			}
		case JobCollect:
			out = append(out, statement{Sid: "AllowJobReads", Effect: Allow, Principal: role, Action: strs(ReadActions...), Resource: strs(j.objectsARN()), Condition: tls()})
		}
		deny := statement{Sid: "DenyInsecureTransport", Effect: Deny, Principal: &Principal{Any: true}, Action: strs("s3:*"),
			Resource: strs(j.bucketARN(), j.bucketARN()+"/*"), Condition: conds{}.add("Bool", "aws:SecureTransport", "false")}
		return append(out, deny), nil
	case KindKMS:
		if j.KMSKeyARN == "" {
			return nil, notApplicable("a key policy needs the key (--kms-key-arn)")
		}
		key, _ := parseARN(j.KMSKeyARN)
		out := []statement{{Sid: "EnableIAMPolicies", Effect: Allow, Principal: &Principal{AWS: []string{"arn:aws:iam::" + key.Account + ":root"}},
			Action: strs("kms:*"), Resource: strs("*")}}
		if j.RoleARN != "" {
			actions := []string{"kms:GenerateDataKey", "kms:Decrypt"}
			if j.Job == JobCollect {
				actions = []string{"kms:Decrypt"}
			}
			out = append(out, statement{Sid: "AllowJobRole", Effect: Allow, Principal: &Principal{AWS: []string{j.RoleARN}}, Action: strs(actions...), Resource: strs("*")})
		}
		if j.Job == JobCollect && j.RuleARN != "" {
			out = append(out, statement{Sid: "AllowEventBridgeEncryptedDelivery", Effect: Allow, Principal: &Principal{Service: []string{"events.amazonaws.com"}},
				Action: strs("kms:GenerateDataKey", "kms:Decrypt"), Resource: strs("*"), Condition: conds{}.add("ArnEquals", "aws:SourceArn", j.RuleARN)})
		} else if j.Job == JobCollect {
			c, err := s3SourceConditions(j)
			if err != nil {
				return nil, err
			}
			out = append(out, statement{Sid: "AllowS3EncryptedNotifications", Effect: Allow, Principal: &Principal{Service: []string{"s3.amazonaws.com"}},
				Action: strs("kms:GenerateDataKey", "kms:Decrypt"), Resource: strs("*"), Condition: c})
			if j.TopicARN != "" {
				out = append(out, statement{Sid: "AllowSNSEncryptedDelivery", Effect: Allow, Principal: &Principal{Service: []string{"sns.amazonaws.com"}},
					Action: strs("kms:GenerateDataKey", "kms:Decrypt"), Resource: strs("*"), Condition: conds{}.add("ArnEquals", "aws:SourceArn", j.TopicARN)})
			}
		}
		return out, nil
	}
	return nil, notApplicable("unknown policy kind %q", kind)
}

// s3SourceConditions limits an S3 service principal to the job's bucket in
// the bucket owner's account (Amazon S3 User Guide, "Granting permissions to
// publish event notification messages to a destination").
func s3SourceConditions(j JobConfig) (conds, error) {
	if j.SourceAccount == "" {
		return nil, notApplicable("S3 notifications need the bucket owner's account (--source-account) for aws:SourceAccount")
	}
	return conds{}.add("ArnLike", "aws:SourceArn", "arn:aws:s3:*:*:"+j.Bucket).add("StringEquals", "aws:SourceAccount", j.SourceAccount), nil
}

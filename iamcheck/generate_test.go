package iamcheck

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const (
	custAcct   = "111122223333"
	vendorAcct = "444455556666"
)

// proofJobs are the job shapes the generators are proven on.
var proofJobs = map[string]JobConfig{
	"export-same-account": {Job: JobExport, Bucket: "cust-logs", Prefix: "lakerelay/raw", RoleARN: "arn:aws:iam::" + custAcct + ":role/exporter",
		SourceAccount: custAcct},
	"export-cross-account-acl-kms": {Job: JobExport, Bucket: "cust-logs", Prefix: "vendor/", RoleARN: "arn:aws:iam::" + vendorAcct + ":role/vendor-writer",
		SourceAccount: custAcct, ObjectACL: ACLBucketOwnerFullControl, KMSKeyARN: "arn:aws:kms:us-east-1:" + custAcct + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"},
	"export-assumed-by-vendor": {Job: JobExport, Bucket: "cust-logs", RoleARN: "arn:aws:iam::" + custAcct + ":role/lakerelay-export",
		TrustedPrincipal: "arn:aws:iam::" + vendorAcct + ":role/vendor", ExternalID: "tenant-42", SessionTags: true, SourceAccount: custAcct},
	"securitylake": {Job: JobSecurityLake, Bucket: "aws-security-data-lake-us-east-1-abcdefgh", Prefix: "ext/mysource/1.0/",
		RoleARN: "arn:aws:iam::" + custAcct + ":role/AmazonSecurityLake-Provider-mysource", TrustedPrincipal: vendorAcct, ExternalID: "sl-ext", SourceAccount: custAcct},
	"collect-s3-direct": {Job: JobCollect, Bucket: "cloudtrail-logs", Prefix: "AWSLogs/", QueueARN: "arn:aws:sqs:us-east-1:" + custAcct + ":ct-events",
		RoleARN: "arn:aws:iam::" + custAcct + ":role/collector", SourceAccount: custAcct},
	"collect-sns-kms": {Job: JobCollect, Bucket: "cloudtrail-logs", QueueARN: "arn:aws:sqs:us-east-1:" + custAcct + ":ct-events",
		TopicARN: "arn:aws:sns:us-east-1:" + custAcct + ":ct-topic", KMSKeyARN: "arn:aws:kms:us-east-1:" + custAcct + ":key/1234abcd-12ab-34cd-56ef-1234567890ab",
		RoleARN: "arn:aws:iam::" + custAcct + ":role/collector", SourceAccount: custAcct},
	"collect-eventbridge-kms": {Job: JobCollect, Bucket: "cloudtrail-logs", QueueARN: "arn:aws:sqs:us-east-1:" + custAcct + ":ct-events",
		RuleARN: "arn:aws:events:us-east-1:" + custAcct + ":rule/ct-objects", KMSKeyARN: "arn:aws:kms:us-east-1:" + custAcct + ":key/1234abcd-12ab-34cd-56ef-1234567890ab",
		RoleARN: "arn:aws:iam::" + custAcct + ":role/collector", SourceAccount: custAcct},
	"collect-cross-account-consumer": {Job: JobCollect, Bucket: "cloudtrail-logs", QueueARN: "arn:aws:sqs:us-east-1:" + custAcct + ":ct-events",
		RoleARN: "arn:aws:iam::" + vendorAcct + ":role/collector", SourceAccount: custAcct},
}

// kindsFor lists the policy kinds that apply to a job.
func kindsFor(j JobConfig) []PolicyKind {
	kinds := []PolicyKind{KindIdentity, KindBucket}
	if j.TrustedPrincipal != "" {
		kinds = append(kinds, KindTrust)
	}
	if j.Job == JobCollect {
		kinds = append(kinds, KindQueue)
		if j.TopicARN != "" {
			kinds = append(kinds, KindTopic)
		}
	}
	if j.KMSKeyARN != "" {
		kinds = append(kinds, KindKMS)
	}
	return kinds
}

type policySet struct {
	identity  []*Policy
	resources map[PolicyKind]*Policy
}

func generated(t *testing.T, j JobConfig) policySet {
	t.Helper()
	set := policySet{resources: map[PolicyKind]*Policy{}}
	for _, k := range kindsFor(j) {
		out, err := Generate(j, k)
		if err != nil {
			t.Fatalf("Generate(%s): %v", k, err)
		}
		p, fs, err := ParsePolicy(out)
		if err != nil {
			t.Fatalf("generated %s policy does not parse: %v\n%s", k, err, out)
		}
		if len(fs) > 0 {
			t.Fatalf("generated %s policy has grammar findings %+v\n%s", k, fs, out)
		}
		if fs := Lint(p, k, &j); len(fs) > 0 {
			t.Fatalf("generated %s policy fails our lints: %+v\n%s", k, fs, out)
		}
		p.Name = string(k)
		if k == KindIdentity {
			set.identity = []*Policy{p}
		} else {
			set.resources[k] = p
		}
	}
	return set
}

func (s policySet) eval(j JobConfig, r Requirement) Result {
	var idp []*Policy
	switch {
	case r.Principal == j.caller():
		idp = s.identity
	case r.Governs == KindTrust:
		idp = []*Policy{allowAll}
	}
	return Evaluate(r.Request, idp, s.resources[r.Governs])
}

type mutation struct {
	name string
	req  Requirement
	// otherResource: the request targets a resource whose own policy is
	// not the generated one (a key policy's Resource "*" means its key).
	otherResource bool
}

// nearbyRequests derives requests that the generated policies must deny.
func nearbyRequests(j JobConfig, r Requirement) []mutation {
	var out []mutation
	mut := func(name string, f func(*Requirement)) {
		m := r
		m.Context = cloneContext(r.Context)
		f(&m)
		out = append(out, mutation{name: name, req: m})
	}
	if strings.HasPrefix(r.Resource, "arn:aws:s3:::") {
		mut("other bucket", func(m *Requirement) {
			m.Resource = strings.Replace(m.Resource, j.Bucket, j.Bucket+"-other", 1)
		})
		if j.Prefix != "" {
			mut("other prefix", func(m *Requirement) {
				m.Resource = strings.Replace(m.Resource, "/"+j.prefixDir(), "/other/", 1)
			})
			mut("prefix as a name prefix", func(m *Requirement) {
				m.Resource = strings.Replace(m.Resource, "/"+j.prefixDir(), "/"+strings.TrimSuffix(j.prefixDir(), "/")+"-x/", 1)
			})
		}
		mut("bucket instead of objects", func(m *Requirement) { m.Resource = j.bucketARN() })
		mut("missing aws:SecureTransport", func(m *Requirement) { delete(m.Context, "aws:SecureTransport") })
		mut("aws:SecureTransport false", func(m *Requirement) { m.Context["aws:SecureTransport"] = []string{"false"} })
		for _, a := range []string{"s3:DeleteObject", "s3:PutObjectAcl", "s3:PutBucketPolicy", "s3:GetObject", "s3:PutObject", "s3:ListBucket"} {
			if containsFold(WriteActions, a) && (j.Job != JobCollect) || containsFold(ReadActions, a) && j.Job == JobCollect {
				continue
			}
			mut("other action "+a, func(m *Requirement) { m.Action = a })
		}
		if j.ObjectACL != "" && r.Action == "s3:PutObject" {
			mut("missing ACL", func(m *Requirement) { delete(m.Context, "s3:x-amz-acl") })
			mut("other ACL", func(m *Requirement) { m.Context["s3:x-amz-acl"] = []string{"public-read"} })
		}
	}
	if strings.HasPrefix(r.Resource, "arn:aws:sqs:") {
		mut("other queue", func(m *Requirement) { m.Resource += "-other" })
		for _, a := range []string{"sqs:DeleteQueue", "sqs:SetQueueAttributes", "sqs:PurgeQueue"} {
			mut("other action "+a, func(m *Requirement) { m.Action = a })
		}
		if r.Principal == j.caller() {
			mut("caller sends", func(m *Requirement) { m.Action = "sqs:SendMessage" })
		}
	}
	if strings.HasPrefix(r.Resource, "arn:aws:kms:") {
		mut("other key", func(m *Requirement) { m.Resource = strings.Replace(m.Resource, "key/", "key/0000-", 1) })
		out[len(out)-1].otherResource = true
		for _, a := range []string{"kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:CreateGrant"} {
			mut("other action "+a, func(m *Requirement) { m.Action = a })
		}
	}
	if strings.HasSuffix(r.Principal, ".amazonaws.com") {
		if _, ok := r.Context["aws:SourceAccount"]; ok {
			mut("missing aws:SourceAccount", func(m *Requirement) { delete(m.Context, "aws:SourceAccount") })
			mut("other aws:SourceAccount", func(m *Requirement) { m.Context["aws:SourceAccount"] = []string{"999999999999"} })
		}
		mut("missing aws:SourceArn", func(m *Requirement) { delete(m.Context, "aws:SourceArn") })
		mut("other aws:SourceArn", func(m *Requirement) {
			m.Context["aws:SourceArn"] = []string{strings.Replace(r.Context["aws:SourceArn"][0], ":", ":", 1) + "-other"}
		})
		mut("other service", func(m *Requirement) {
			m.Principal = "events.amazonaws.com"
			if r.Principal == m.Principal {
				m.Principal = "s3.amazonaws.com"
			}
		})
	}
	if r.Governs == KindTrust {
		mut("missing sts:ExternalId", func(m *Requirement) { delete(m.Context, "sts:ExternalId") })
		mut("wrong sts:ExternalId", func(m *Requirement) { m.Context["sts:ExternalId"] = []string{"guess"} })
		mut("other account", func(m *Requirement) { m.Principal = "arn:aws:iam::999999999999:role/vendor" })
		mut("other role in the trusted account", func(m *Requirement) {
			if pr := parsePrincipal(r.Principal); pr.role != "" || pr.user != "" {
				m.Principal = "arn:aws:iam::" + pr.account + ":role/someone-else"
			} else {
				m.Principal = "arn:aws:iam::999999999999:root"
			}
		})
	}
	if r.Principal == j.caller() {
		mut("other principal in another account", func(m *Requirement) {
			m.Principal = "arn:aws:sts::999999999999:assumed-role/intruder/s"
		})
	}
	return out
}

// TestGeneratedPoliciesAllowExactlyTheJob proves, by evaluation, that the
// generated policies together allow every request of the job and deny the
// nearby ones.
func TestGeneratedPoliciesAllowExactlyTheJob(t *testing.T) {
	for name, j := range proofJobs {
		t.Run(name, func(t *testing.T) {
			set := generated(t, j)
			reqs := Requirements(j)
			if len(reqs) == 0 {
				t.Fatal("no requirements")
			}
			denied := 0
			for _, r := range reqs {
				if res := set.eval(j, r); !res.Allowed() {
					t.Errorf("%s %s on %s by %s not allowed: %s", r.Why, r.Action, r.Resource, r.Principal, res.Reason)
				}
				for _, m := range nearbyRequests(j, r) {
					s := set
					if m.otherResource {
						s = policySet{identity: set.identity, resources: map[PolicyKind]*Policy{}}
					}
					if res := s.eval(j, m.req); res.Allowed() {
						t.Errorf("%s (%s on %s by %s, context %v): allowed by %v", m.name, m.req.Action, m.req.Resource, m.req.Principal, m.req.Context, res.Statements)
					}
					denied++
				}
			}
			if denied < 10 {
				t.Errorf("only %d nearby requests tested", denied)
			}
			check, err := Check(j, set.identity, set.resources)
			if err != nil {
				t.Fatal(err)
			}
			if !check.OK() || len(check.Unchecked) > 0 || len(check.Findings) > 0 {
				t.Fatalf("Check of the generated policies: %+v", check)
			}
		})
	}
}

func TestGenerateErrors(t *testing.T) {
	base := proofJobs["collect-s3-direct"]
	tests := []struct {
		name string
		job  JobConfig
		kind PolicyKind
		want error
	}{
		{"invalid job", JobConfig{Job: "sync", Bucket: "b-b-b"}, KindIdentity, ErrInvalidJob},
		{"bad bucket", JobConfig{Job: JobExport, Bucket: "Bad_Bucket"}, KindIdentity, ErrInvalidJob},
		{"wildcard prefix", JobConfig{Job: JobExport, Bucket: "bbb", Prefix: "a/*"}, KindIdentity, ErrInvalidJob},
		{"collect without queue", JobConfig{Job: JobCollect, Bucket: "bbb"}, KindIdentity, ErrInvalidJob},
		{"external id with a quote", JobConfig{Job: JobExport, Bucket: "bbb", TrustedPrincipal: "444455556666", ExternalID: "ext\"id"}, KindTrust, ErrInvalidJob},
		{"external id not UTF-8", JobConfig{Job: JobExport, Bucket: "bbb", TrustedPrincipal: "444455556666", ExternalID: "\xa8\xa8"}, KindTrust, ErrInvalidJob},
		{"external id too short", JobConfig{Job: JobExport, Bucket: "bbb", TrustedPrincipal: "444455556666", ExternalID: "a"}, KindTrust, ErrInvalidJob},
		{"bad queue arn", JobConfig{Job: JobCollect, Bucket: "bbb", QueueARN: "arn:aws:sns:us-east-1:111122223333:t"}, KindIdentity, ErrInvalidJob},
		{"bad source account", JobConfig{Job: JobExport, Bucket: "bbb", SourceAccount: "12"}, KindIdentity, ErrInvalidJob},
		{"queue for export", JobConfig{Job: JobExport, Bucket: "bbb"}, KindQueue, ErrNotApplicable},
		{"topic without topic", base, KindTopic, ErrNotApplicable},
		{"queue without source account", JobConfig{Job: JobCollect, Bucket: "bbb", QueueARN: base.QueueARN}, KindQueue, ErrNotApplicable},
		{"bucket without role", JobConfig{Job: JobExport, Bucket: "bbb"}, KindBucket, ErrNotApplicable},
		{"trust without principal", JobConfig{Job: JobExport, Bucket: "bbb"}, KindTrust, ErrNotApplicable},
		{"trust third party without external id", JobConfig{Job: JobExport, Bucket: "bbb", RoleARN: "arn:aws:iam::111122223333:role/r", TrustedPrincipal: vendorAcct}, KindTrust, ErrNotApplicable},
		{"kms without key", JobConfig{Job: JobExport, Bucket: "bbb"}, KindKMS, ErrNotApplicable},
		{"unknown kind", JobConfig{Job: JobExport, Bucket: "bbb"}, "acl", ErrNotApplicable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Generate(tt.job, tt.kind)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v (output %s)", err, tt.want, out)
			}
		})
	}
}

func TestGenerateTrustSameAccountNeedsNoExternalID(t *testing.T) {
	j := JobConfig{Job: JobExport, Bucket: "bbb", RoleARN: "arn:aws:iam::111122223333:role/r", TrustedPrincipal: "arn:aws:iam::111122223333:role/ci"}
	out, err := Generate(j, KindTrust)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "ExternalId") {
		t.Fatalf("same-account trust got an external id condition:\n%s", out)
	}
	p, fs, err := ParsePolicy(out)
	if err != nil || len(fs) > 0 {
		t.Fatalf("parse: %v %+v", err, fs)
	}
	if fs := Lint(p, KindTrust, &j); len(fs) > 0 {
		t.Fatalf("lint: %+v", fs)
	}
	r := Evaluate(Request{Principal: "arn:aws:sts::111122223333:assumed-role/ci/run", Action: "sts:AssumeRole", Resource: j.RoleARN}, nil, p)
	if !r.Allowed() {
		t.Fatalf("the CI role cannot assume the job role: %s", r.Reason)
	}
}

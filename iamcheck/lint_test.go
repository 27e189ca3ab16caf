package iamcheck

import (
	"strings"
	"testing"
)

func mustParse(t *testing.T, s string) *Policy {
	t.Helper()
	if strings.HasPrefix(strings.TrimSpace(s), "[") {
		s = `{"Version":"2012-10-17","Statement":` + s + `}`
	}
	p, _, err := ParsePolicy([]byte(s))
	if err != nil {
		t.Fatalf("ParsePolicy: %v", err)
	}
	return p
}

func TestLint(t *testing.T) {
	export := proofJobs["export-cross-account-acl-kms"]
	trustJob := proofJobs["export-assumed-by-vendor"]
	collect := proofJobs["collect-s3-direct"]
	q := collect.QueueARN
	tests := []struct {
		name   string
		kind   PolicyKind
		job    *JobConfig
		policy string
		code   string
		path   string
	}{
		{"identity with principal", KindIdentity, nil, `[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]`, "principal-in-identity-policy", "Statement[0].Principal"},
		{"identity without resource", KindIdentity, nil, `[{"Effect":"Allow","Action":"s3:GetObject"}]`, "missing-resource", "Statement[0]"},
		{"identity full access", KindIdentity, nil, `[{"Effect":"Allow","Action":"*","Resource":"*"}]`, "full-access", "Statement[0]"},
		{"identity allow notaction", KindIdentity, nil, `[{"Effect":"Allow","NotAction":"iam:*","Resource":"arn:aws:s3:::b/*"}]`, "allow-with-notaction", "Statement[0].NotAction"},
		{"identity wildcard bucket", KindIdentity, &export, `[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::*/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]`, "wildcard-resource", "Statement[0].Resource[0]"},
		{"identity star resource", KindIdentity, &export, `[{"Effect":"Allow","Action":["s3:PutObject","s3:AbortMultipartUpload"],"Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]`, "wildcard-resource", "Statement[0].Resource[0]"},
		{"identity outside prefix", KindIdentity, &export, `[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::cust-logs/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]`, "wildcard-resource", "Statement[0].Resource[0]"},
		{"identity bucket name prefix", KindIdentity, &export, `[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::cust-logs*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]`, "wildcard-resource", "Statement[0].Resource[0]"},
		{"identity wildcard queue", KindIdentity, &collect, `[{"Effect":"Allow","Action":"sqs:*","Resource":"arn:aws:sqs:us-east-1:*:*"}]`, "wildcard-resource", "Statement[0].Resource[0]"},
		{"identity without tls", KindIdentity, &export, `[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::cust-logs/vendor/*"}]`, "missing-secure-transport", "Statement[0]"},
		{"trust notprincipal", KindTrust, nil, `[{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]`, "notprincipal-in-trust-policy", "Statement[0].NotPrincipal"},
		{"trust with resource", KindTrust, nil, `[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole","Resource":"*","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]`, "resource-in-trust-policy", "Statement[0]"},
		{"trust wrong action", KindTrust, nil, `[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]`, "invalid-trust-action", "Statement[0].Action[0]"},
		{"trust public", KindTrust, nil, `[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]`, "public-trust", "Statement[0].Principal"},
		{"trust third party without external id", KindTrust, &trustJob, `[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/vendor"},"Action":["sts:AssumeRole","sts:TagSession"]}]`, "missing-external-id", "Statement[0].Principal.AWS[0]"},
		{"trust unknown account without external id", KindTrust, nil, `[{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole"}]`, "missing-external-id", "Statement[0].Principal.AWS[0]"},
		{"trust without tag session", KindTrust, &trustJob, `[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/vendor"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"tenant-42"}}}]`, "missing-tag-session", "Statement"},
		{"trust wrong external id", KindTrust, &trustJob, `[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/vendor"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"sts:ExternalId":"other"}}}]`, "trust-denies-job", "Statement"},
		{"trust external id optional", KindTrust, &trustJob, `[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/vendor"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEqualsIfExists":{"sts:ExternalId":"tenant-42"}}}]`, "missing-external-id", "Statement[0]"},
		{"queue without principal", KindQueue, nil, `[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"` + q + `"}]`, "missing-principal", "Statement[0]"},
		{"queue s3 without conditions", KindQueue, nil, `[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"` + q + `"}]`, "missing-source-arn", "Statement[0]"},
		{"queue s3 without source account", KindQueue, nil, `[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"` + q + `","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:*:*:cloudtrail-logs"}}}]`, "missing-source-account", "Statement[0]"},
		{"queue public with sourcearn only", KindQueue, nil, `[{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"` + q + `","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:*:*:cloudtrail-logs"}}}]`, "missing-source-account", "Statement[0]"},
		{"queue public no condition", KindQueue, nil, `[{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"` + q + `"}]`, "public-access", "Statement[0].Principal"},
		{"queue any bucket", KindQueue, &collect, `[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"` + q + `","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:*:*:*"},"StringEquals":{"aws:SourceAccount":"111122223333"}}}]`, "allows-other-source", "Statement[0]"},
		{"topic s3 without source account", KindTopic, nil, `[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"sns:Publish","Resource":"arn:aws:sns:us-east-1:111122223333:t","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::b"}}}]`, "missing-source-account", "Statement[0]"},
		{"kms service without conditions", KindKMS, nil, `[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"kms:Decrypt","Resource":"*"}]`, "missing-source-arn", "Statement[0]"},
		{"bucket without tls deny", KindBucket, nil, `[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/w"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}]`, "missing-secure-transport", "Statement"},
		{"bucket without acl requirement", KindBucket, &export, `[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/vendor-writer"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::cust-logs/vendor/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
			{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::cust-logs/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]`, "acl-not-required", "Statement[0]"},
		{"bucket public", KindBucket, nil, `[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]`, "public-access", "Statement[0].Principal"},
		{"unknown kind", "acl", nil, `[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]`, "unknown-kind", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Lint(mustParse(t, tt.policy), tt.kind, tt.job)
			for _, f := range fs {
				if f.Code == tt.code && f.Path == tt.path {
					return
				}
			}
			t.Fatalf("no %s finding at %q; got %+v", tt.code, tt.path, fs)
		})
	}
}

func TestLintCleanPolicies(t *testing.T) {
	// AWS's own examples for S3 notifications pass without findings.
	p := mustParse(t, `[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"SQS:SendMessage","Resource":"arn:aws:sqs:us-east-1:111122223333:q",
	 "Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:*:*:docs"},"StringEquals":{"aws:SourceAccount":"111122223333"}}}]`)
	if fs := Lint(p, KindQueue, nil); len(fs) != 0 {
		t.Fatalf("findings: %+v", fs)
	}
	tr := mustParse(t, `[{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]`)
	if fs := Lint(tr, KindTrust, nil); len(fs) != 0 {
		t.Fatalf("findings: %+v", fs)
	}
}

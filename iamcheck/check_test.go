package iamcheck

import (
	"errors"
	"testing"
)

func TestCheckFindsMissingPermissions(t *testing.T) {
	j := proofJobs["collect-s3-direct"]
	tests := []struct {
		name     string
		identity string
		queue    string
		missing  []string // actions reported missing
	}{
		{"no delete", `[{"Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:ChangeMessageVisibility","sqs:GetQueueAttributes"],"Resource":"arn:aws:sqs:us-east-1:111122223333:ct-events"},
			{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::cloudtrail-logs/AWSLogs/*"}]`, "", []string{"sqs:DeleteMessage"}},
		{"object read on another prefix", `[{"Effect":"Allow","Action":"sqs:*","Resource":"arn:aws:sqs:us-east-1:111122223333:ct-events"},
			{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::cloudtrail-logs/Other/*"}]`, "", []string{"s3:GetObject"}},
		{"condition not met", `[{"Effect":"Allow","Action":"sqs:*","Resource":"arn:aws:sqs:us-east-1:111122223333:ct-events"},
			{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::cloudtrail-logs/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]`, "", []string{"s3:GetObject"}},
		{"explicit deny", `[{"Effect":"Allow","Action":["sqs:*","s3:*"],"Resource":"*"},{"Effect":"Deny","Action":"sqs:DeleteMessage","Resource":"*"}]`, "", []string{"sqs:DeleteMessage"}},
		{"queue policy open to caller but not s3", `[{"Effect":"Allow","Action":["sqs:*","s3:GetObject"],"Resource":["arn:aws:sqs:us-east-1:111122223333:ct-events","arn:aws:s3:::cloudtrail-logs/*"]}]`,
			`[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:111122223333:ct-events","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:*:*:other-bucket"},"StringEquals":{"aws:SourceAccount":"111122223333"}}}]`,
			[]string{"sqs:SendMessage"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := map[PolicyKind]*Policy{}
			if tt.queue != "" {
				res[KindQueue] = mustParse(t, tt.queue)
			}
			got, err := Check(j, []*Policy{mustParse(t, tt.identity)}, res)
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, m := range got.Missing {
				actions = append(actions, m.Action)
				if m.Result.Allowed() || m.Result.Reason == "" {
					t.Errorf("missing %s with result %+v", m.Action, m.Result)
				}
			}
			if len(actions) != len(tt.missing) {
				t.Fatalf("missing = %v, want %v", actions, tt.missing)
			}
			for i := range actions {
				if actions[i] != tt.missing[i] {
					t.Fatalf("missing = %v, want %v", actions, tt.missing)
				}
			}
			if got.OK() {
				t.Fatal("OK with missing permissions")
			}
			if tt.queue == "" && len(got.Unchecked) != 1 {
				t.Fatalf("unchecked = %+v, want the S3 notification request only", got.Unchecked)
			}
		})
	}
}

func TestCheckInvalidJob(t *testing.T) {
	_, err := Check(JobConfig{Job: JobCollect}, nil, nil)
	if !errors.Is(err, ErrInvalidJob) {
		t.Fatalf("err = %v", err)
	}
}

func TestCheckReportsFindings(t *testing.T) {
	j := proofJobs["export-same-account"]
	id := mustParse(t, `[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]`)
	got, err := Check(j, []*Policy{id}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Missing) != 0 {
		t.Fatalf("missing = %+v", got.Missing)
	}
	found := false
	for _, f := range got.Findings {
		if f.Code == "wildcard-resource" && f.Policy == "identity[0]" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no wildcard-resource finding: %+v", got.Findings)
	}
}

func TestRequirementsShape(t *testing.T) {
	for name, j := range proofJobs {
		for _, r := range Requirements(j) {
			if r.Principal == "" || r.Action == "" || r.Resource == "" || r.Governs == "" || r.Why == "" {
				t.Errorf("%s: incomplete requirement %+v", name, r)
			}
		}
	}
	j := proofJobs["collect-sns-kms"]
	var services []string
	for _, r := range Requirements(j) {
		if r.Principal == "s3.amazonaws.com" || r.Principal == "sns.amazonaws.com" {
			services = append(services, r.Principal+" "+r.Action)
		}
	}
	want := []string{"s3.amazonaws.com sns:Publish", "sns.amazonaws.com sqs:SendMessage",
		"s3.amazonaws.com kms:GenerateDataKey", "s3.amazonaws.com kms:Decrypt", "sns.amazonaws.com kms:GenerateDataKey", "sns.amazonaws.com kms:Decrypt"}
	if len(services) != len(want) {
		t.Fatalf("service requests = %v, want %v", services, want)
	}
	for i := range want {
		if services[i] != want[i] {
			t.Fatalf("service requests = %v, want %v", services, want)
		}
	}
}

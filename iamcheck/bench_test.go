package iamcheck

import (
	"strings"
	"testing"
)

// A typical policy set: the collector's generated identity policy plus a
// hand-written one with conditions, and a bucket policy; a request that is
// allowed after looking at every statement.
var (
	benchIdentity = `{"Version":"2012-10-17","Statement":[
	 {"Sid":"Consume","Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:ChangeMessageVisibility","sqs:GetQueueAttributes"],"Resource":"arn:aws:sqs:us-east-1:111122223333:ct-events"},
	 {"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::cloudtrail-logs/AWSLogs/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
	 {"Sid":"Home","Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":["arn:aws:s3:::docs","arn:aws:s3:::docs/home/${aws:username}/*"],"Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*"]}}},
	 {"Sid":"Region","Effect":"Deny","NotAction":["iam:*","sts:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}},
	 {"Sid":"Net","Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]},"Bool":{"aws:ViaAWSService":"false"}}}]}`
	benchBucket = `{"Version":"2012-10-17","Statement":[
	 {"Sid":"Reader","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/collector"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::cloudtrail-logs/AWSLogs/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
	 {"Sid":"TLS","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::cloudtrail-logs","arn:aws:s3:::cloudtrail-logs/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}},
	 {"Sid":"Org","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::cloudtrail-logs/*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}`
	benchRequest = Request{
		Principal: "arn:aws:sts::111122223333:assumed-role/collector/lakerelay",
		Action:    "s3:GetObject",
		Resource:  "arn:aws:s3:::cloudtrail-logs/AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/file.json.gz",
		Context: map[string][]string{"aws:SecureTransport": {"true"}, "aws:SourceIp": {"10.1.2.3"}, "aws:RequestedRegion": {"us-east-1"},
			"aws:PrincipalOrgID": {"o-abc123"}, "aws:username": {"collector"}, "aws:ViaAWSService": {"false"}},
	}
)

func BenchmarkEvaluate(b *testing.B) {
	id, _, err := ParsePolicy([]byte(benchIdentity))
	if err != nil {
		b.Fatal(err)
	}
	bp, _, err := ParsePolicy([]byte(benchBucket))
	if err != nil {
		b.Fatal(err)
	}
	if r := Evaluate(benchRequest, []*Policy{id}, bp); !r.Allowed() {
		b.Fatalf("benchmark request not allowed: %s", r.Reason)
	}
	b.SetBytes(int64(len(benchIdentity) + len(benchBucket)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Evaluate(benchRequest, []*Policy{id}, bp)
	}
}

// BenchmarkEqualFoldLoop is the primitive: compare the request's action
// case-insensitively with every action string of the same policies (what a
// string-matching checker does at least), no wildcards, resources or
// conditions.
func BenchmarkEqualFoldLoop(b *testing.B) {
	id, _, _ := ParsePolicy([]byte(benchIdentity))
	bp, _, _ := ParsePolicy([]byte(benchBucket))
	var actions []string
	for _, p := range []*Policy{id, bp} {
		for _, s := range p.Statements {
			actions = append(actions, s.Action...)
			actions = append(actions, s.NotAction...)
		}
	}
	b.SetBytes(int64(len(benchIdentity) + len(benchBucket)))
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for _, a := range actions {
			if strings.EqualFold(a, benchRequest.Action) {
				n++
			}
		}
	}
	if n == 0 {
		b.Fatal("no match")
	}
}

func BenchmarkParsePolicy(b *testing.B) {
	data := []byte(benchIdentity)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParsePolicy(data); err != nil {
			b.Fatal(err)
		}
	}
}

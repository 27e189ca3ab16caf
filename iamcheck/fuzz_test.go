package iamcheck

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var validSeverity = map[Severity]bool{SeverityError: true, SeveritySecurityWarning: true, SeverityWarning: true, SeveritySuggestion: true}

// fuzzRequests derives requests from the policy's own strings, so that the
// round-trip check exercises matching statements, not only misses.
func fuzzRequests(p *Policy) []Request {
	ctx := map[string][]string{
		"aws:username": {"alice"}, "aws:SourceArn": {"arn:aws:s3:::docs"}, "aws:SourceAccount": {"111122223333"},
		"aws:SecureTransport": {"true"}, "aws:TagKeys": {"a", "b"}, "aws:SourceIp": {"203.0.113.7"},
		"aws:CurrentTime": {"2024-05-01T00:00:00Z"}, "s3:max-keys": {"10"},
	}
	principals := []string{"arn:aws:iam::111122223333:user/alice", "arn:aws:sts::111122223333:assumed-role/app/s1",
		"s3.amazonaws.com", "", "444455556666"}
	reqs := []Request{{Principal: principals[0], Action: "s3:GetObject", Resource: "arn:aws:s3:::docs/a", Context: ctx}}
	for i, s := range p.Statements {
		if i > 8 {
			break
		}
		a, r := "s3:GetObject", "arn:aws:s3:::docs/a"
		if len(s.Action) > 0 {
			a = strings.NewReplacer("*", "x", "?", "y").Replace(s.Action[0])
		}
		if len(s.Resource) > 0 {
			r = strings.NewReplacer("*", "x", "?", "y").Replace(s.Resource[0])
		}
		for _, pr := range principals {
			reqs = append(reqs, Request{Principal: pr, Action: a, Resource: r, Context: ctx})
		}
	}
	return reqs
}

func FuzzParsePolicy(f *testing.F) {
	files, _ := filepath.Glob("testdata/corpus/*.json")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var cases []corpusCase
		if err := json.Unmarshal(data, &cases); err != nil {
			f.Fatal(err)
		}
		for _, c := range cases {
			for _, raw := range append(c.Identity, c.Resource) {
				if len(raw) > 0 && raw[0] == '[' {
					raw = json.RawMessage(`{"Version":"2012-10-17","Statement":` + string(raw) + `}`)
				}
				if len(raw) > 0 {
					f.Add([]byte(raw))
				}
			}
		}
	}
	f.Add([]byte(`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username, 'x'}${*}"}}`))
	f.Add([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["111122223333"]},"NotAction":[],"NotResource":[]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, fs, err := ParsePolicy(data)
		if err != nil {
			if p != nil || fs != nil {
				t.Fatal("policy or findings returned with an error")
			}
			return
		}
		for _, fd := range fs {
			if fd.Code == "" || fd.Message == "" || !validSeverity[fd.Severity] {
				t.Fatalf("bad finding %+v", fd)
			}
		}
		out, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		q, _, err := ParsePolicy(out)
		if err != nil {
			t.Fatalf("reparse of %s: %v", out, err)
		}
		for _, req := range fuzzRequests(p) {
			a := Evaluate(req, []*Policy{p}, p)
			b := Evaluate(req, []*Policy{q}, q)
			if a.Decision != b.Decision {
				t.Fatalf("round trip changed %+v: %s (%s) vs %s (%s)\nmarshalled: %s", req, a.Decision, a.Reason, b.Decision, b.Reason, out)
			}
		}
	})
}

func FuzzEvaluate(f *testing.F) {
	pol, _, err := ParsePolicy([]byte(`{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":["s3:Get*","sqs:*"],"Resource":["arn:aws:s3:::docs/${aws:username}/*","arn:aws:sqs:*:*:q?"],
	  "Condition":{"StringLike":{"s3:prefix":"a*"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"DateLessThan":{"aws:CurrentTime":"2030-01-01"}}},
	 {"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:role/x","111122223333"]},"NotAction":"iam:*","NotResource":"arn:aws:s3:::z/*",
	  "Condition":{"ForAllValues:StringNotEquals":{"aws:TagKeys":"${aws:PrincipalTag/t, 'd'}"},"NumericGreaterThan":{"n":"1.5"},"ArnLike":{"aws:SourceArn":"arn:*:s3:::*"}}}]}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Add("arn:aws:iam::111122223333:user/alice", "s3:GetObject", "arn:aws:s3:::docs/alice/x", "", "aws:SourceIp", "10.1.2.3")
	f.Add("s3.amazonaws.com", "SQS:SendMessage", "arn:aws:sqs:us-east-1:1:q1", "1", "aws:TagKeys", "")
	f.Add("arn:aws:sts::1:assumed-role/x/y", "iam:*", "*", "2", "n", "abc")
	f.Fuzz(func(t *testing.T, principal, action, resource, account, key, value string) {
		req := Request{Principal: principal, Action: action, Resource: resource, ResourceAccount: account,
			Context: map[string][]string{key: {value}, "aws:username": {value}, "aws:CurrentTime": {value}}}
		r := Evaluate(req, []*Policy{pol, nil}, pol)
		switch r.Decision {
		case DecisionAllow, DecisionExplicitDeny, DecisionImplicitDeny:
		default:
			t.Fatalf("decision %q", r.Decision)
		}
		if r.Reason == "" || (r.Decision != DecisionImplicitDeny && len(r.Statements) == 0) {
			t.Fatalf("result without reason or statements: %+v", r)
		}
	})
}

func FuzzRequestJSON(f *testing.F) {
	f.Add([]byte(`{"principal":"arn:aws:iam::111122223333:user/u","action":"s3:GetObject","resource":"arn:aws:s3:::b/k","resource_account":"444455556666","context":{"aws:TagKeys":["a","b"],"n":1,"b":true}}`))
	f.Add([]byte(`{"action":"sqs:SendMessage","resource":"*","context":{"k":[]}}`))
	pol, _, err := ParsePolicy([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":"a*"}}}]}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Request
		if err := json.Unmarshal(data, &r); err != nil {
			return
		}
		for k, v := range r.Context {
			if k == "" && v == nil {
				t.Fatal("nil context value")
			}
		}
		res := Evaluate(r, []*Policy{pol}, pol)
		if res.Decision == "" || res.Reason == "" {
			t.Fatalf("empty result %+v", res)
		}
	})
}

package iamcheck

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/lakerelay/lakerelay"
)

func TestParsePolicyErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", ``, ErrSyntax},
		{"not json", `{"Version":`, ErrSyntax},
		{"array", `[{"Effect":"Allow"}]`, ErrSyntax},
		{"string", `"policy"`, ErrSyntax},
		{"trailing data", `{"Version":"2012-10-17"} {}`, ErrSyntax},
		{"too large", `{"Id":"` + strings.Repeat("x", MaxPolicySize) + `"}`, lakerelay.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, fs, err := ParsePolicy([]byte(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if p != nil || fs != nil {
				t.Fatalf("got policy %v / findings %v with an error", p, fs)
			}
		})
	}
}

// TestParsePolicyFindings checks the grammar findings, modelled on IAM
// Access Analyzer's policy checks, and the JSON path of each.
func TestParsePolicyFindings(t *testing.T) {
	const v = `"Version":"2012-10-17",`
	tests := []struct {
		name     string
		in       string
		code     string
		path     string
		severity Severity
	}{
		{"missing version", `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`, "missing-version", "Version", SeverityWarning},
		{"unknown version", `{"Version":"2012-10-18","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`, "invalid-version", "Version", SeverityError},
		{"old version", `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`, "old-version", "Version", SeveritySuggestion},
		{"version not string", `{"Version":2012,"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`, "invalid-version", "Version", SeverityError},
		{"unknown top element", `{` + v + `"Statements":[]}`, "unknown-element", "Statements", SeverityError},
		{"missing statement", `{` + v + `"Id":"x"}`, "missing-statement", "Statement", SeverityError},
		{"empty statement array", `{` + v + `"Statement":[]}`, "missing-statement", "Statement", SeverityError},
		{"statement not object", `{` + v + `"Statement":["x"]}`, "invalid-statement", "Statement[0]", SeverityError},
		{"statement wrong type", `{` + v + `"Statement":7}`, "invalid-statement", "Statement", SeverityError},
		{"unknown statement element", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Actions":"x"}]}`, "unknown-element", "Statement[0].Actions", SeverityError},
		{"element case", `{` + v + `"Statement":[{"effect":"Allow","Action":"s3:*","Resource":"*"}]}`, "unknown-element", "Statement[0].effect", SeverityError},
		{"missing effect", `{` + v + `"Statement":[{"Action":"s3:*","Resource":"*"}]}`, "missing-effect", "Statement[0].Effect", SeverityError},
		{"invalid effect", `{` + v + `"Statement":[{"Effect":"Permit","Action":"s3:*","Resource":"*"}]}`, "invalid-effect", "Statement[0].Effect", SeverityError},
		{"lower-case effect", `{` + v + `"Statement":[{"Effect":"allow","Action":"s3:*","Resource":"*"}]}`, "invalid-effect", "Statement[0].Effect", SeverityError},
		{"effect not string", `{` + v + `"Statement":[{"Effect":true,"Action":"s3:*","Resource":"*"}]}`, "invalid-effect", "Statement[0].Effect", SeverityError},
		{"action and notaction", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","NotAction":"iam:*","Resource":"*"}]}`, "action-and-notaction", "Statement[0]", SeverityError},
		{"missing action", `{` + v + `"Statement":[{"Effect":"Allow","Resource":"*"}]}`, "missing-action", "Statement[0]", SeverityError},
		{"resource and notresource", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","NotResource":"*"}]}`, "resource-and-notresource", "Statement[0]", SeverityError},
		{"principal and notprincipal", `{` + v + `"Statement":[{"Effect":"Deny","Principal":"*","NotPrincipal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"*"}]}`, "principal-and-notprincipal", "Statement[0]", SeverityError},
		{"allow with notprincipal", `{` + v + `"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"*"}]}`, "allow-with-notprincipal", "Statement[0].NotPrincipal", SeveritySecurityWarning},
		{"invalid action", `{` + v + `"Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}`, "invalid-action", "Statement[0].Action[0]", SeverityError},
		{"invalid action chars", `{` + v + `"Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:Get Object"],"Resource":"*"}]}`, "invalid-action", "Statement[0].Action[1]", SeverityError},
		{"empty action list", `{` + v + `"Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}`, "empty-list", "Statement[0].Action", SeverityError},
		{"action not string", `{` + v + `"Statement":[{"Effect":"Allow","Action":[true],"Resource":"*"}]}`, "invalid-value", "Statement[0].Action[0]", SeverityError},
		{"malformed arn", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:bucket"}]}`, "malformed-arn", "Statement[0].Resource[0]", SeverityError},
		{"resource not arn", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"my-bucket/*"}]}`, "malformed-arn", "Statement[0].Resource[0]", SeverityError},
		{"service wildcard", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s*:::b"}]}`, "malformed-arn", "Statement[0].Resource[0]", SeverityError},
		{"variable before fifth colon", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:sqs:${aws:RequestedRegion}:111122223333:q"}]}`, "variable-position", "Statement[0].Resource[0]", SeverityError},
		{"unterminated variable", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username"}]}`, "invalid-variable", "Statement[0].Resource[0]", SeverityError},
		{"variable without version", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*"}]}`, "literal-variable", "Statement[0].Resource[0]", SeverityWarning},
		{"unknown partition", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:amazon:s3:::b"}]}`, "unknown-partition", "Statement[0].Resource[0]", SeverityWarning},
		{"unknown operator", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqual":{"aws:username":"a"}}}]}`, "unknown-condition-operator", "Statement[0].Condition.StringEqual", SeverityError},
		{"null with set operator", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"ForAnyValue:Null":{"aws:TagKeys":"true"}}}]}`, "unknown-condition-operator", "Statement[0].Condition.ForAnyValue:Null", SeverityError},
		{"condition not object", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":["x"]}]}`, "invalid-condition", "Statement[0].Condition", SeverityError},
		{"operator value not object", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":"x"}}]}`, "invalid-condition", "Statement[0].Condition.StringEquals", SeverityError},
		{"condition value object", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:username":{"a":1}}}}]}`, "invalid-condition-value", "Statement[0].Condition.StringEquals.aws:username", SeverityError},
		{"wildcard without like", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"s3:prefix":"home/*"}}}]}`, "wildcard-without-like-operator", "Statement[0].Condition.StringEquals.s3:prefix", SeverityWarning},
		{"numeric not number", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}}]}`, "invalid-condition-value", "Statement[0].Condition.NumericLessThan.s3:max-keys", SeverityError},
		{"date invalid", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"yesterday"}}}]}`, "invalid-condition-value", "Statement[0].Condition.DateLessThan.aws:CurrentTime", SeverityError},
		{"bool invalid", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}]}`, "invalid-condition-value", "Statement[0].Condition.Bool.aws:SecureTransport", SeverityError},
		{"ip invalid", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","10.0.0.300"]}}}]}`, "invalid-condition-value", "Statement[0].Condition.IpAddress.aws:SourceIp[1]", SeverityError},
		{"arnlike not arn", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"my-bucket"}}}]}`, "malformed-arn", "Statement[0].Condition.ArnLike.aws:SourceArn", SeverityError},
		{"null with variable", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Null":{"aws:username":"${aws:username}"}}}]}`, "variable-in-null", "Statement[0].Condition.Null.aws:username", SeverityError},
		{"set operator on single-valued key", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:SourceAccount":"111122223333"}}}]}`, "set-operator-single-valued-key", "Statement[0].Condition.ForAnyValue:StringEquals.aws:SourceAccount", SeverityWarning},
		{"forallvalues missing key", `{` + v + `"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":"a"}}}]}`, "forallvalues-missing-key", "Statement[0].Condition.ForAllValues:StringEquals.aws:TagKeys", SeveritySuggestion},
		{"principal string", `{` + v + `"Statement":[{"Effect":"Allow","Principal":"111122223333","Action":"s3:*","Resource":"*"}]}`, "invalid-principal", "Statement[0].Principal", SeverityError},
		{"principal wildcard arn", `{` + v + `"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/*"},"Action":"s3:*","Resource":"*"}]}`, "principal-wildcard", "Statement[0].Principal.AWS[0]", SeverityError},
		{"principal bad arn", `{` + v + `"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:s3:::bucket"},"Action":"s3:*","Resource":"*"}]}`, "invalid-principal", "Statement[0].Principal.AWS[0]", SeverityError},
		{"principal unknown key", `{` + v + `"Statement":[{"Effect":"Allow","Principal":{"aws":"*"},"Action":"s3:*","Resource":"*"}]}`, "unknown-element", "Statement[0].Principal.aws", SeverityError},
		{"service principal wildcard", `{` + v + `"Statement":[{"Effect":"Allow","Principal":{"Service":"*.amazonaws.com"},"Action":"s3:*","Resource":"*"}]}`, "principal-wildcard", "Statement[0].Principal.Service[0]", SeverityError},
		{"principal account as number", `{` + v + `"Statement":[{"Effect":"Allow","Principal":{"AWS":111122223333},"Action":"s3:*","Resource":"*"}]}`, "number-value", "Statement[0].Principal.AWS", SeverityWarning},
		{"duplicate sid", `{` + v + `"Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"}]}`, "duplicate-sid", "Statement[1].Sid", SeverityError},
		{"single statement path", `{` + v + `"Statement":{"Effect":"Maybe","Action":"s3:*","Resource":"*"}}`, "invalid-effect", "Statement.Effect", SeverityError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, fs, err := ParsePolicy([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParsePolicy: %v", err)
			}
			for _, f := range fs {
				if f.Code == tt.code && f.Path == tt.path {
					if f.Severity != tt.severity {
						t.Errorf("severity = %s, want %s", f.Severity, tt.severity)
					}
					if f.Message == "" {
						t.Errorf("empty message")
					}
					return
				}
			}
			t.Fatalf("no finding %s at %s; got %+v", tt.code, tt.path, fs)
		})
	}
}

func TestParsePolicyClean(t *testing.T) {
	in := `{"Version":"2012-10-17","Id":"q","Statement":[
	 {"Sid":"S3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"sqs:SendMessage",
	  "Resource":"arn:aws:sqs:us-east-1:111122223333:q",
	  "Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:*:*:docs"},"StringEquals":{"aws:SourceAccount":"111122223333"}}},
	 {"Effect":"Deny","Principal":"*","Action":"sqs:*","Resource":"arn:aws:sqs:us-east-1:111122223333:q","Condition":{"Bool":{"aws:SecureTransport":false}}},
	 {"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:role/app"]},"Action":["sqs:ReceiveMessage"],"Resource":["arn:aws:sqs:us-east-1:111122223333:q"],
	  "Condition":{"IpAddress":{"aws:SourceIp":"2001:db8::/32"},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},"NumericLessThan":{"aws:MultiFactorAuthAge":3600}}}]}`
	p, fs, err := ParsePolicy([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 0 {
		t.Fatalf("findings for a valid policy: %+v", fs)
	}
	if p.Version != Version2012 || p.ID != "q" || len(p.Statements) != 3 {
		t.Fatalf("policy = %+v", p)
	}
	s := p.Statements[0]
	if s.Sid != "S3" || s.Effect != Allow || s.Principal == nil || s.Principal.Service[0] != "s3.amazonaws.com" || len(s.Conditions) != 2 {
		t.Fatalf("statement 0 = %+v", s)
	}
	if c := p.Statements[1].Conditions[0]; c.Values[0] != "false" || c.Path != "Statement[1].Condition.Bool.aws:SecureTransport" {
		t.Fatalf("condition = %+v", c)
	}
	if !p.Statements[1].Principal.Any {
		t.Fatal("Principal \"*\" not parsed as Any")
	}
}

func TestParseARN(t *testing.T) {
	a, ok := ParseARN("arn:aws:logs:us-east-1:111122223333:log-group:app:*")
	if !ok || a.Service != "logs" || a.Account != "111122223333" || a.Resource != "log-group:app:*" {
		t.Fatalf("ParseARN = %+v, %v", a, ok)
	}
	if a.String() != "arn:aws:logs:us-east-1:111122223333:log-group:app:*" {
		t.Fatalf("String = %s", a)
	}
	for _, bad := range []string{"", "arn:aws:s3", "urn:aws:s3:::b:x", "arn:aws:s3::"} {
		if _, ok := ParseARN(bad); ok {
			t.Errorf("ParseARN(%q) ok", bad)
		}
	}
}

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pat, s string
		fold   bool
		want   bool
	}{
		{"", "", false, true},
		{"*", "", false, true},
		{"*", "anything/at:all", false, true},
		{"a*b*c", "aXXbYYc", false, true},
		{"a*b*c", "aXXbYY", false, false},
		{"a?c", "abc", false, true},
		{"a?c", "ac", false, false},
		{"a?c", "aéc", false, true},
		{"**a", "ba", false, true},
		{"S3:GET*", "s3:GetObject", true, true},
		{"S3:GET*", "s3:GetObject", false, false},
		{"*a*a*a*a*a*b", strings.Repeat("a", 200), false, false},
	}
	for _, tt := range tests {
		if got := compileGlob(tt.pat).match(tt.s, tt.fold); got != tt.want {
			t.Errorf("match(%q, %q, fold=%v) = %v, want %v", tt.pat, tt.s, tt.fold, got, tt.want)
		}
	}
}

func TestRequestUnmarshalJSON(t *testing.T) {
	var r Request
	err := json.Unmarshal([]byte(`{"principal":"s3.amazonaws.com","action":"sqs:SendMessage","resource":"arn:aws:sqs:us-east-1:111122223333:q",
	  "resource_account":"111122223333","context":{"aws:SourceAccount":111122223333,"aws:SecureTransport":true,"aws:TagKeys":["a","b"],"s3:max-keys":[10]}}`), &r)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"aws:SourceAccount": {"111122223333"}, "aws:SecureTransport": {"true"}, "aws:TagKeys": {"a", "b"}, "s3:max-keys": {"10"}}
	if r.Principal != "s3.amazonaws.com" || r.ResourceAccount != "111122223333" || len(r.Context) != len(want) {
		t.Fatalf("request = %+v", r)
	}
	for k, v := range want {
		if strings.Join(r.Context[k], ",") != strings.Join(v, ",") {
			t.Errorf("context %s = %q, want %q", k, r.Context[k], v)
		}
	}
	for _, bad := range []string{
		`{"principle":"arn:aws:iam::111122223333:user/u","action":"s3:GetObject","resource":"*"}`,
		`{"action":"s3:GetObject","resource":"*","context":{"k":{"a":1}}}`,
		`{"action":"s3:GetObject","resource":"*","context":{"k":[null]}}`,
		`{"action":1}`,
	} {
		var r Request
		if err := json.Unmarshal([]byte(bad), &r); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

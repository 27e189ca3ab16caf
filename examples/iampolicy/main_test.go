package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/lakerelay/lakerelay/iamcheck"
	"github.com/lakerelay/lakerelay/iamcheck/probe"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func build(t *testing.T) string { return testenv.Program(t) }

type result struct {
	code    int
	stdout  string
	stderr  string
	summary map[string]any
}

func runCLI(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(build(t), args...)
	if env != nil {
		cmd.Env = env
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(errb.String(), "\n"), "\n")
	var summary map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &summary); err != nil {
		t.Fatalf("last stderr line is not a JSON summary: %q (%v)", lines[len(lines)-1], err)
	}
	if int(summary["exit"].(float64)) != code {
		t.Fatalf("summary exit %v, process exit %d", summary["exit"], code)
	}
	return result{code, out.String(), errb.String(), summary}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGenerate(t *testing.T) {
	common := []string{"--bucket", "cloudtrail-logs", "--prefix", "AWSLogs/", "--source-account", "111122223333"}
	tests := []struct {
		name string
		args []string
		want string // a string the policy must contain
	}{
		{"export identity", []string{"--job", "export", "--kind", "identity"}, `"s3:PutObject"`},
		{"export bucket", []string{"--job", "export", "--kind", "bucket", "--principal", "arn:aws:iam::444455556666:role/vendor"}, `"DenyInsecureTransport"`},
		{"export trust", []string{"--job", "securitylake", "--kind", "trust", "--principal", "444455556666", "--external-id", "ext-1"}, `"sts:ExternalId": "ext-1"`},
		{"collect identity", []string{"--job", "collect", "--kind", "identity", "--queue-arn", "arn:aws:sqs:us-east-1:111122223333:q"}, `"sqs:DeleteMessage"`},
		{"collect queue", []string{"--job", "collect", "--kind", "queue", "--queue-arn", "arn:aws:sqs:us-east-1:111122223333:q"}, `"aws:SourceAccount": "111122223333"`},
		{"collect topic", []string{"--job", "collect", "--kind", "topic", "--queue-arn", "arn:aws:sqs:us-east-1:111122223333:q", "--topic-arn", "arn:aws:sns:us-east-1:111122223333:t"}, `"sns:Publish"`},
		{"collect kms", []string{"--job", "collect", "--kind", "kms", "--queue-arn", "arn:aws:sqs:us-east-1:111122223333:q", "--kms-key-arn", "arn:aws:kms:us-east-1:111122223333:key/k-1"}, `"kms:GenerateDataKey"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, append(append([]string{"generate"}, tt.args...), common...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if !strings.Contains(r.stdout, tt.want) {
				t.Fatalf("policy lacks %s:\n%s", tt.want, r.stdout)
			}
			p, fs, err := iamcheck.ParsePolicy([]byte(r.stdout))
			if err != nil || len(fs) > 0 {
				t.Fatalf("generated policy: %v %+v", err, fs)
			}
			// The generated policy passes lint through the CLI too.
			kind := tt.args[3]
			file := writeFile(t, "p.json", r.stdout)
			l := runCLI(t, nil, append(append([]string{"lint", "--policy", file}, tt.args...), common...)...)
			if l.code != 0 || l.stdout != "" {
				t.Fatalf("lint of generated %s policy: exit %d\n%s%s", kind, l.code, l.stdout, l.stderr)
			}
			_ = p
		})
	}
}

func TestGenerateUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"generate", "--job", "export", "--kind", "acl", "--bucket", "bbb"},
		{"generate", "--job", "sync", "--kind", "identity", "--bucket", "bbb"},
		{"generate", "--job", "export", "--kind", "queue", "--bucket", "bbb"},
		{"generate", "--job", "export", "--kind", "trust", "--bucket", "bbb", "--principal", "444455556666"},
		{"generate", "--job", "export", "--kind", "identity", "--bucket", "Bad_Name"},
		{"generate", "--nope"},
		{"frobnicate"},
		{},
	} {
		r := runCLI(t, nil, args...)
		if r.code != 2 || r.summary["error"] == nil {
			t.Errorf("%q: exit %d, summary %v", args, r.code, r.summary)
		}
	}
}

func TestCheck(t *testing.T) {
	identity := writeFile(t, "id.json", `{"Version":"2012-10-17","Statement":[{"Sid":"Write","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::cust/*"}]}`)
	bucket := writeFile(t, "bucket.json", `{"Version":"2012-10-17","Statement":[{"Sid":"Vendor","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/vendor"},
	  "Action":"s3:PutObject","Resource":"arn:aws:s3:::cust/*","Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}}]}`)
	queue := writeFile(t, "queue.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"sqs:SendMessage",
	  "Resource":"arn:aws:sqs:us-east-1:444455556666:q","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:*:*:cust"},"StringEquals":{"aws:SourceAccount":"444455556666"}}}]}`)
	tag := writeFile(t, "tag.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}}]}`)
	req := func(s string) string { return writeFile(t, "req.json", s) }
	tests := []struct {
		name       string
		args       []string
		decision   string
		statements int
	}{
		{"cross-account with acl", []string{"--policy", identity, "--resource-policy", bucket, "--request", req(`{"principal":"arn:aws:sts::111122223333:assumed-role/vendor/s1","action":"s3:PutObject","resource":"arn:aws:s3:::cust/k","resource_account":"444455556666","context":{"s3:x-amz-acl":"bucket-owner-full-control"}}`)}, "allow", 2},
		{"cross-account without acl", []string{"--policy", identity, "--resource-policy", bucket, "--request", req(`{"principal":"arn:aws:sts::111122223333:assumed-role/vendor/s1","action":"s3:PutObject","resource":"arn:aws:s3:::cust/k","resource_account":"444455556666"}`)}, "implicit_deny", 1},
		{"service principal", []string{"--resource-policy", queue, "--request", req(`{"principal":"s3.amazonaws.com","action":"sqs:SendMessage","resource":"arn:aws:sqs:us-east-1:444455556666:q","context":{"aws:SourceArn":"arn:aws:s3:::cust","aws:SourceAccount":"444455556666"}}`)}, "allow", 1},
		{"service principal other account", []string{"--resource-policy", queue, "--action", "sqs:SendMessage", "--resource", "arn:aws:sqs:us-east-1:444455556666:q", "--principal", "s3.amazonaws.com",
			"--context", "aws:SourceArn=arn:aws:s3:::cust", "--context", "aws:SourceAccount=999999999999"}, "implicit_deny", 0},
		{"multivalued context", []string{"--policy", tag, "--request", req(`{"principal":"arn:aws:iam::111122223333:user/u","action":"ec2:CreateTags","resource":"*","context":{"aws:TagKeys":["a","c"]}}`)}, "implicit_deny", 0},
		{"repeated context key", []string{"--policy", tag, "--action", "ec2:CreateTags", "--resource", "*", "--principal", "arn:aws:iam::111122223333:user/u", "--context", "aws:TagKeys=a", "--context", "aws:TagKeys=b"}, "allow", 1},
		{"default caller", []string{"--policy", identity, "--action", "s3:PutObject", "--resource", "arn:aws:s3:::cust/k"}, "allow", 1},
		{"explicit deny", []string{"--policy", writeFile(t, "deny.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]}`),
			"--action", "s3:PutObject", "--resource", "arn:aws:s3:::cust/k", "--principal", "arn:aws:iam::111122223333:user/u"}, "explicit_deny", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"check"}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			var out struct {
				Decision   string           `json:"decision"`
				Statements []map[string]any `json:"statements"`
				Reason     string           `json:"reason"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
				t.Fatalf("stdout %q: %v", r.stdout, err)
			}
			if out.Decision != tt.decision || len(out.Statements) != tt.statements || out.Reason == "" {
				t.Fatalf("got %+v, want %s with %d statements", out, tt.decision, tt.statements)
			}
			if r.summary["decision"] != tt.decision {
				t.Fatalf("summary %v", r.summary)
			}
		})
	}
}

// TestCheckPrincipal shows the principal check evaluated, and that a
// missing one is defaulted only with identity policies, visibly.
func TestCheckPrincipal(t *testing.T) {
	identity := writeFile(t, "id.json", `{"Version":"2012-10-17","Statement":[{"Sid":"Write","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::cust/*"}]}`)
	queue := writeFile(t, "queue.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:444455556666:q"}]}`)
	req := func(s string) string { return writeFile(t, "req.json", s) }
	tests := []struct {
		name      string
		args      []string
		principal string
		defaulted bool
		decision  string
	}{
		{"flags, account from nowhere", []string{"--policy", identity, "--action", "s3:PutObject", "--resource", "arn:aws:s3:::cust/k"},
			"arn:aws:iam::" + iamcheck.PlaceholderAccount + ":role/caller", true, "allow"},
		{"flags, account from the ARN", []string{"--policy", identity, "--action", "sqs:SendMessage", "--resource", "arn:aws:sqs:us-east-1:444455556666:q"},
			"arn:aws:iam::444455556666:role/caller", true, "implicit_deny"},
		{"file, account from resource_account", []string{"--policy", identity, "--request", req(`{"action":"s3:PutObject","resource":"arn:aws:s3:::cust/k","resource_account":"444455556666"}`)},
			"arn:aws:iam::444455556666:role/caller", true, "allow"},
		{"file, empty principal", []string{"--policy", identity, "--request", req(`{"principal":"","action":"s3:PutObject","resource":"arn:aws:s3:::cust/k"}`)},
			"arn:aws:iam::" + iamcheck.PlaceholderAccount + ":role/caller", true, "allow"},
		{"given principal is kept", []string{"--policy", identity, "--action", "s3:PutObject", "--resource", "arn:aws:s3:::cust/k", "--principal", "arn:aws:iam::111122223333:user/u"},
			"arn:aws:iam::111122223333:user/u", false, "allow"},
		{"given principal in the file", []string{"--policy", identity, "--request", req(`{"principal":"arn:aws:iam::111122223333:user/u","action":"s3:PutObject","resource":"arn:aws:s3:::cust/k"}`)},
			"arn:aws:iam::111122223333:user/u", false, "allow"},
		{"no policy: anonymous", []string{"--resource-policy", queue, "--action", "sqs:SendMessage", "--resource", "arn:aws:sqs:us-east-1:444455556666:q"},
			"", false, "allow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"check"}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			var out struct {
				Decision           string  `json:"decision"`
				Principal          *string `json:"principal"`
				PrincipalDefaulted *bool   `json:"principal_defaulted"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
				t.Fatalf("stdout %q: %v", r.stdout, err)
			}
			if out.Principal == nil || out.PrincipalDefaulted == nil {
				t.Fatalf("stdout lacks principal or principal_defaulted: %s", r.stdout)
			}
			if *out.Principal != tt.principal || *out.PrincipalDefaulted != tt.defaulted || out.Decision != tt.decision {
				t.Fatalf("got principal %q defaulted %v decision %s, want %q %v %s", *out.Principal, *out.PrincipalDefaulted, out.Decision,
					tt.principal, tt.defaulted, tt.decision)
			}
			noted := strings.Contains(r.stderr, "no principal given; evaluating as "+tt.principal)
			if noted != tt.defaulted {
				t.Fatalf("stderr note of the default = %v, want %v:\n%s", noted, tt.defaulted, r.stderr)
			}
			if r.summary["principal_defaulted"] != tt.defaulted {
				t.Fatalf("summary %v", r.summary)
			}
		})
	}
}

func TestCheckParseErrors(t *testing.T) {
	good := writeFile(t, "good.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	bad := writeFile(t, "bad.json", `{"Version":"2012-10-17","Statement":[`)
	badReq := writeFile(t, "req.json", `{"principal":1}`)
	ctxReq := writeFile(t, "ctx.json", `{"action":"s3:GetObject","resource":"*","context":{"k":{"nested":true}}}`)
	for _, args := range [][]string{
		{"check", "--policy", bad, "--action", "s3:GetObject", "--resource", "*"},
		{"check", "--resource-policy", bad, "--action", "s3:GetObject", "--resource", "*"},
		{"check", "--policy", good, "--request", badReq},
		{"check", "--policy", good, "--request", ctxReq},
		{"check", "--policy", filepath.Join(t.TempDir(), "missing.json"), "--action", "s3:GetObject", "--resource", "*"},
		{"check", "--policy", good},
		{"check", "--policy", good, "--request", good, "--action", "s3:GetObject"},
		{"check", "--action", "s3:GetObject", "--resource", "*", "--context", "novalue"},
	} {
		r := runCLI(t, nil, args...)
		if r.code != 2 || r.stdout != "" {
			t.Errorf("%q: exit %d, stdout %q", args, r.code, r.stdout)
		}
	}
}

func TestLint(t *testing.T) {
	bad := writeFile(t, "trust.json", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/vendor"},"Action":"sts:AssumeRole","Resource":"*"}]}`)
	r := runCLI(t, nil, "lint", "--policy", bad, "--kind", "trust", "--job", "export", "--bucket", "bbb", "--principal", "arn:aws:iam::444455556666:role/vendor",
		"--external-id", "ext-1", "--source-account", "111122223333")
	if r.code != 1 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	codes := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var f struct{ Severity, Code, Path, Message string }
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if f.Severity == "" || f.Message == "" {
			t.Fatalf("incomplete finding %q", line)
		}
		codes[f.Code] = true
	}
	for _, want := range []string{"missing-version", "resource-in-trust-policy", "missing-external-id"} {
		if !codes[want] {
			t.Errorf("no %s finding in\n%s", want, r.stdout)
		}
	}
	warn := writeFile(t, "warn.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)
	if r := runCLI(t, nil, "lint", "--policy", warn, "--kind", "identity", "--job", "collect", "--bucket", "bbb", "--queue-arn", "arn:aws:sqs:us-east-1:111122223333:q"); r.code != 0 || !strings.Contains(r.stdout, "wildcard-resource") {
		t.Fatalf("exit %d, stdout %s", r.code, r.stdout)
	}
	for _, args := range [][]string{
		{"lint", "--kind", "identity"},
		{"lint", "--policy", warn, "--kind", "nope"},
		{"lint", "--policy", warn, "--kind", "identity", "--job", "collect"},
		{"lint", "--policy", writeFile(t, "x.json", "[]"), "--kind", "identity"},
	} {
		if r := runCLI(t, nil, args...); r.code != 2 {
			t.Errorf("%q: exit %d", args, r.code)
		}
	}
}

func probeResults(t *testing.T, stdout string) map[string]probe.Result {
	t.Helper()
	out := map[string]probe.Result{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var r probe.Result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out[r.Check] = r
	}
	return out
}

func envWith(env []string, kv ...string) []string {
	out := append([]string{}, env...)
	for _, s := range kv {
		k, _, _ := strings.Cut(s, "=")
		for i, e := range out {
			if strings.HasPrefix(e, k+"=") {
				out = append(out[:i], out[i+1:]...)
				break
			}
		}
		out = append(out, s)
	}
	return out
}

func sqsEndpoint(q *testenv.SQS) string {
	for _, e := range q.Env() {
		if v, ok := strings.CutPrefix(e, "AWS_ENDPOINT_URL_SQS="); ok {
			return v
		}
	}
	return q.Endpoint
}

func TestProbeAgainstMinIOAndSQS(t *testing.T) {
	m := testenv.StartMinIO(t)
	q := testenv.StartSQS(t)
	bucket := m.NewBucket(t)
	queue := q.NewQueue(t, testenv.QueueOptions{})
	env := envWith(m.Env(), "AWS_ENDPOINT_URL_SQS="+sqsEndpoint(q))

	r := runCLI(t, env, "probe", "--bucket", bucket, "--prefix", "raw/", "--queue-url", queue.URL)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	got := probeResults(t, r.stdout)
	for _, c := range []string{"s3:HeadBucket", "s3:PutObject", "s3:GetObject", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"} {
		if got[c].Outcome != probe.OutcomeOK {
			t.Errorf("%s: %+v", c, got[c])
		}
	}
	if !strings.Contains(r.stderr, "CHECK") || !strings.Contains(r.stderr, "s3:PutObject") {
		t.Fatalf("no table on stderr:\n%s", r.stderr)
	}

	// Wrong secret: the write is rejected as bad credentials.
	r = runCLI(t, envWith(env, "AWS_SECRET_ACCESS_KEY=wrong"), "probe", "--bucket", bucket)
	if r.code != 1 {
		t.Fatalf("wrong secret: exit %d\n%s", r.code, r.stderr)
	}
	if p := probeResults(t, r.stdout)["s3:PutObject"]; p.Outcome != probe.OutcomeBadCredentials || p.Code != "SignatureDoesNotMatch" {
		t.Fatalf("wrong secret: %+v", p)
	}

	// Restricted credentials: the write is a missing permission.
	ak, sk, token := m.AssumeRole(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::`+bucket+`/*"}]}`)
	r = runCLI(t, envWith(env, "AWS_ACCESS_KEY_ID="+ak, "AWS_SECRET_ACCESS_KEY="+sk, "AWS_SESSION_TOKEN="+token), "probe", "--bucket", bucket)
	if p := probeResults(t, r.stdout)["s3:PutObject"]; r.code != 1 || p.Outcome != probe.OutcomeMissingPermission || p.Action != "s3:PutObject" {
		t.Fatalf("restricted: exit %d, %+v", r.code, p)
	}

	// The same read-only credentials pass the collector probe, which
	// reads an existing object and writes nothing.
	obj := "raw/events.json"
	if _, err := m.S3(t).PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &obj, Body: strings.NewReader("{}")}); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, envWith(env, "AWS_ACCESS_KEY_ID="+ak, "AWS_SECRET_ACCESS_KEY="+sk, "AWS_SESSION_TOKEN="+token), "probe", "--job", "collect",
		"--bucket", bucket, "--prefix", "raw/", "--object-key", obj, "--queue-url", queue.URL)
	got = probeResults(t, r.stdout)
	if _, wrote := got["s3:PutObject"]; r.code != 0 || wrote || got["s3:GetObject"].Outcome != probe.OutcomeOK || got["sqs:ChangeMessageVisibility"].Outcome != probe.OutcomeOK {
		t.Fatalf("collector probe: exit %d, %+v\n%s", r.code, got, r.stderr)
	}

	// Missing bucket and missing queue.
	r = runCLI(t, env, "probe", "--bucket", "lr-missing-bucket-1234", "--queue-url", q.Endpoint+"/"+q.AccountID+"/missing-queue")
	got = probeResults(t, r.stdout)
	if r.code != 1 || got["s3:PutObject"].Outcome != probe.OutcomeNotFound || got["sqs:GetQueueAttributes"].Outcome != probe.OutcomeNotFound {
		t.Fatalf("missing: exit %d, %+v", r.code, got)
	}

	// AssumeRole with an external id, then the checks with the role.
	r = runCLI(t, env, "probe", "--bucket", bucket, "--role-arn", "arn:aws:iam::123456789012:role/lakerelay", "--external-id", "ext-1")
	got = probeResults(t, r.stdout)
	if r.code != 0 || got["sts:AssumeRole"].Outcome != probe.OutcomeOK || got["s3:PutObject"].Outcome != probe.OutcomeOK {
		t.Fatalf("assume role: exit %d, %+v\n%s", r.code, got, r.stderr)
	}

	for _, args := range [][]string{{"probe"}, {"probe", "--bucket", bucket, "--external-id", "x1"}, {"probe", "extra"},
		{"probe", "--bucket", bucket, "--role-arn", "arn:aws:iam::123:role/x"}, {"probe", "--job", "collect", "--bucket", bucket},
		{"probe", "--job", "collect", "--queue-url", queue.URL, "--acl", "bucket-owner-full-control"}, {"probe", "--bucket", bucket, "--object-key", "k"},
		{"probe", "--job", "sync", "--bucket", bucket}, {"probe", "--bucket", bucket, "--acl", "public-read"}} {
		if r := runCLI(t, env, args...); r.code != 2 {
			t.Errorf("%q: exit %d", args, r.code)
		}
	}
}

package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lakerelay/lakerelay/internal/testenv"
	"github.com/lakerelay/lakerelay/setup"
	"go.yaml.in/yaml/v3"
)

func TestGenerateTemplates(t *testing.T) {
	job := []string{"--job", "collect", "--bucket", "cloudtrail-logs", "--prefix", "AWSLogs/", "--source-account", "111122223333",
		"--queue-arn", "arn:aws:sqs:us-east-1:111122223333:ct-events", "--role-arn", "arn:aws:iam::111122223333:role/collector",
		"--principal", "444455556666", "--external-id", "tenant-42", "--session-tags", "--deny-insecure-transport", "--max-receive-count", "4"}
	for _, format := range []string{"cloudformation", "cloudformation-yaml", "terraform"} {
		t.Run(format, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"generate", "--format", format}, job...)...)
			if r.code != 0 || r.summary["format"] != format {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			var doc map[string]any
			var err error
			if format == "cloudformation-yaml" {
				err = yaml.Unmarshal([]byte(r.stdout), &doc)
			} else {
				err = json.Unmarshal([]byte(r.stdout), &doc)
			}
			if err != nil {
				t.Fatalf("output does not parse: %v", err)
			}
			// The template is the library's rendering, flags and all.
			for _, want := range []string{"tenant-42", "sts:TagSession", "DenyInsecureTransport", "ct-events-dlq"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("template lacks %s", want)
				}
			}
			if format == "terraform" && !strings.Contains(r.stdout, "maxReceiveCount = 4") {
				t.Errorf("terraform redrive lacks maxReceiveCount = 4")
			}
		})
	}
	// json stays the default: one policy of --kind.
	r := runCLI(t, nil, "generate", "--job", "collect", "--kind", "queue", "--bucket", "b-logs", "--source-account", "111122223333",
		"--queue-arn", "arn:aws:sqs:us-east-1:111122223333:q")
	if r.code != 0 || !strings.Contains(r.stdout, `"Statement"`) {
		t.Fatalf("default format: exit %d\n%s", r.code, r.stdout)
	}
	for _, args := range [][]string{
		append([]string{"generate", "--format", "pulumi"}, job...),
		append([]string{"generate", "--format", "terraform", "--kind", "identity"}, job...),
		{"generate", "--format", "terraform", "--job", "collect", "--bucket", "b-logs", "--principal", "444455556666"},
		append([]string{"generate", "--format", "terraform", "--max-receive-count", "0"}, job[:len(job)-2]...),
		append(append([]string{"generate", "--format", "terraform"}, job...), "--raw-message-delivery"),
	} {
		if r := runCLI(t, nil, args...); r.code != 2 || r.summary["error"] == nil {
			t.Errorf("%q: exit %d, summary %v", args, r.code, r.summary)
		}
	}
}

func TestSetupPlanApply(t *testing.T) {
	q := testenv.StartSQS(t)
	name := "cli-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	args := []string{"--queue-arn", "arn:aws:sqs:" + q.Region + ":" + q.AccountID + ":" + name, "--bucket", "cloudtrail-logs",
		"--source-account", q.AccountID, "--prefix", "AWSLogs/"}
	run := func(action string, wantChanges float64) setup.Plan {
		t.Helper()
		r := runCLI(t, q.Env(), append([]string{"setup", action}, args...)...)
		if r.code != 0 || r.summary["changes"] != wantChanges || r.summary["action"] != action {
			t.Fatalf("setup %s: exit %d, summary %v\n%s", action, r.code, r.summary, r.stderr)
		}
		var p setup.Plan
		if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
			t.Fatalf("plan is not JSON: %v\n%s", err, r.stdout)
		}
		if !strings.Contains(r.stderr, "put-bucket-notification-configuration --bucket cloudtrail-logs") {
			t.Fatalf("no notification command on stderr:\n%s", r.stderr)
		}
		return p
	}
	p := run("plan", 2)
	if p.Steps[0].Action != setup.ActionCreate || p.Notification.QueueConfigurations[0].Filter.Key.FilterRules[0].Value != "AWSLogs/" {
		t.Fatalf("plan = %+v", p)
	}
	run("plan", 2) // plan changes nothing
	run("apply", 2)
	p = run("apply", 0)
	if p.Steps[1].Action != setup.ActionNone || p.Steps[1].URL == "" {
		t.Fatalf("second apply = %+v", p)
	}
	run("plan", 0)
	for _, a := range [][]string{{"setup"}, {"setup", "destroy"}, {"setup", "plan", "--bucket", "b-logs"}, {"setup", "apply", "--queue-arn", "x"}} {
		if r := runCLI(t, q.Env(), a...); r.code != 2 {
			t.Errorf("%q: exit %d", a, r.code)
		}
	}
	down := envWith(q.Env(), "AWS_ENDPOINT_URL_SQS="+testenv.ClosedEndpoint(t), "AWS_MAX_ATTEMPTS=1")
	if r := runCLI(t, down, append([]string{"setup", "apply"}, args...)...); r.code != 1 || !strings.Contains(r.stderr, name) {
		t.Fatalf("unreachable SQS: exit %d\n%s", r.code, r.stderr)
	}
}

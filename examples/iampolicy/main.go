// Command iampolicy generates, checks and lints the IAM policies lakerelay's
// jobs need, and probes live access.
//
// Usage:
//
//	iampolicy generate --job export|securitylake|collect --kind identity|trust|queue|topic|bucket|kms
//	  [--bucket B] [--prefix P] [--queue-arn ARN] [--topic-arn ARN | --rule-arn ARN] [--kms-key-arn ARN]
//	  [--principal ARN] [--role-arn ARN] [--external-id ID] [--source-account ID] [--acl ACL] [--session-tags]
//	iampolicy generate --format cloudformation|cloudformation-yaml|terraform --job J --role-arn ARN --principal P
//	  [flags as above] [--max-receive-count N] [--visibility-timeout D] [--raw-message-delivery]
//	  [--deny-insecure-transport]
//	iampolicy setup plan|apply --queue-arn ARN --bucket B --source-account ID [--prefix P]
//	  [--topic-arn ARN | --rule-arn ARN] [--kms-key-arn ARN] [--max-receive-count N] [--visibility-timeout D]
//	  [--region R]
//	iampolicy check [--policy FILE]... [--resource-policy FILE]
//	  (--request FILE | --action A --resource ARN [--principal ARN] [--context KEY=VALUE]...)
//	iampolicy lint --policy FILE --kind identity|trust|queue|topic|bucket|kms [--job J] [flags as generate]
//	iampolicy probe [--job export|securitylake|collect] [--bucket B] [--prefix P] [--object-key K] [--acl ACL]
//	  [--queue-url URL] [--role-arn ARN] [--external-id ID] [--region R] [--path-style]
//
// generate prints the least-privilege policy of --kind for --job on stdout.
// --principal is the trusted principal for --kind trust (a vendor's account
// id or role ARN, which then needs --external-id unless it is in
// --source-account), and the job's role for the other kinds (the bucket,
// queue and key policies grant to it). --source-account is the account that
// owns the bucket (aws:SourceAccount of S3 notifications). With --role-arn
// (the job's role), --principal is always the trusted principal. --rule-arn
// is an EventBridge rule that forwards the bucket's events to the queue;
// --acl the canned ACL the job sets on objects it writes; --session-tags lets
// the trusted principal pass session tags (sts:TagSession).
//
// generate --format json (the default) prints one policy as above;
// cloudformation, cloudformation-yaml and terraform (Terraform JSON syntax,
// save it as *.tf.json) print one deployable template of the whole job
// (package setup): for collect the queue and its dead-letter queue (redrive
// after --max-receive-count receives, default 5; SQS-managed encryption or
// --kms-key-arn), the queue policy, the SNS topic with its policy and
// subscription (--topic-arn; --raw-message-delivery) or the EventBridge rule
// and target (--rule-arn), the bucket notification; and for every job the
// role --role-arn with its trust policy for --principal (--external-id) and
// its identity policy (--deny-insecure-transport adds a deny of requests
// without TLS). The policies are the ones --format json prints. --kind does
// not apply.
//
// setup plan prints on stdout, as JSON, what setup apply would do to the
// collector's queue and its dead-letter queue (QUEUE-dlq): create, update
// the differing attributes, or nothing; setup apply does it with the SQS
// client (standard credential chain, AWS_ENDPOINT_URL_SQS honoured) and is
// idempotent. Both print the bucket notification to set, the exact
// PutBucketNotificationConfiguration body, in the plan's "notification"
// field and as an aws s3api command on stderr; neither changes the bucket.
//
// check evaluates one request with AWS's policy evaluation rules and prints
// {"decision":"allow|explicit_deny|implicit_deny","statements":[...],"reason":"...",
// "principal":"...","principal_defaulted":false} on stdout (exit 0 whatever
// the decision); principal is the one evaluated ("" for anonymous). --policy (repeatable) gives the
// principal's identity policies, --resource-policy the resource's policy.
// The request file is
//
//	{"principal":"arn:aws:iam::111122223333:role/r","action":"s3:PutObject","resource":"arn:aws:s3:::b/k",
//	 "resource_account":"444455556666","context":{"aws:SourceAccount":"111122223333","aws:TagKeys":["a","b"]}}
//
// principal is an IAM ARN or a service principal such as s3.amazonaws.com
// (which only a resource policy can allow); resource_account owns the
// resource (needed for S3 ARNs, which carry none; default: the principal's
// account); context holds the condition keys the policies test. With
// --action, --context KEY=VALUE may repeat (a repeated key is multivalued).
// When neither --principal nor the request file names a principal and
// --policy is given, the caller defaults to the role
// arn:aws:iam::ACCOUNT:role/caller in the resource's account (resource_account,
// else the ARN's account, else 123456789012), a same-account request; check
// then says so on stderr and prints "principal_defaulted":true. Without
// --policy the request is anonymous. A policy or request that cannot be
// parsed is an error (exit 2).
//
// lint prints the policy's findings, one JSON object per line
// ({"severity","code","path","message"}): the grammar findings and the
// checks for --kind, plus, with --job and the generate flags, the checks
// against that job. Exit 1 if any finding is an error.
//
// probe tests live access (package iamcheck/probe) with the standard AWS
// credential chain (environment, shared config, SSO, IMDS;
// AWS_ENDPOINT_URL_S3/_SQS/_STS are honoured): sts:GetCallerIdentity, sts:AssumeRole when --role-arn is given
// (with --external-id), s3:HeadBucket, then the checks that fit --job: for
// export and securitylake (the default is export) a PutObject of a small
// test object named lakerelay-probe-* under --prefix cut before any
// Security Lake partition segment (region=…, left in place), carrying --acl,
// and a GetObject of it; for collect (a read-only role passes) HeadObject
// and GetObject of --object-key (an existing object under --prefix) and
// kms:Decrypt when it is SSE-KMS; then sqs:GetQueueAttributes,
// sqs:ReceiveMessage and sqs:ChangeMessageVisibility (a message seen is
// made visible again at once). It prints a table on stderr and one JSON result
// per line on stdout; each failure is classified (bad_config,
// bad_credentials, missing_permission naming the action, not_found,
// throttled, unreachable) with what to check. Path-style addressing is used
// with a custom S3 endpoint or --path-style. Exit 1 if any check that is not
// advisory failed.
//
// Every command ends stderr with one JSON summary line. Exit status: 0 ok,
// 1 failure (lint errors, failed probe), 2 bad usage or unparsable input.
//
// --cpuprofile FILE and --memprofile FILE write a CPU profile and a heap
// profile of the run, to read with `go tool pprof`, and --trace FILE an
// execution trace (where goroutines wait), to read with `go tool trace`
// (see BENCHMARKS.md).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/lakerelay/lakerelay/iamcheck"
	"github.com/lakerelay/lakerelay/iamcheck/probe"
	"github.com/lakerelay/lakerelay/internal/awsenv"
	"github.com/lakerelay/lakerelay/internal/profiling"
	"github.com/lakerelay/lakerelay/setup"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// cli carries the output streams and writes the summary line.
type cli struct {
	stdout, stderr io.Writer
	summary        map[string]any
	profile        profiling.Flags
	stopProfile    func() error
}

func (c *cli) finish(code int) int {
	if c.stopProfile != nil {
		if err := c.stopProfile(); err != nil {
			fmt.Fprintln(c.stderr, "iampolicy:", err)
			c.summary["error"] = err.Error()
			code = exitFail
		}
	}
	c.summary["exit"] = code
	b, _ := json.Marshal(c.summary)
	fmt.Fprintln(c.stderr, string(b))
	return code
}

func (c *cli) fail(code int, format string, args ...any) int {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintln(c.stderr, "iampolicy: "+msg)
	c.summary["error"] = msg
	return c.finish(code)
}

const usage = `usage: iampolicy generate|check|lint|probe|setup [flags]; run "iampolicy <command> -h" for the flags`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{stdout: stdout, stderr: stderr, summary: map[string]any{}}
	if len(args) == 0 {
		return c.fail(exitUsage, "%s", usage)
	}
	c.summary["command"] = args[0]
	switch args[0] {
	case "generate":
		return c.generate(args[1:])
	case "check":
		return c.check(args[1:])
	case "lint":
		return c.lint(args[1:])
	case "probe":
		return c.probe(ctx, args[1:])
	case "setup":
		return c.setupQueues(ctx, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stderr, usage)
		return c.finish(exitOK)
	}
	return c.fail(exitUsage, "unknown command %q; %s", args[0], usage)
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// jobFlags are the flags generate and lint share.
type jobFlags struct {
	job, kind, bucket, prefix, queueARN, topicARN, ruleARN, kmsKeyARN, principal, roleARN, externalID, sourceAccount, acl string
	sessionTags                                                                                                           bool
}

func (f *jobFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.job, "job", "", "export, securitylake or collect")
	fs.StringVar(&f.kind, "kind", "", "identity, trust, queue, topic, bucket or kms")
	fs.StringVar(&f.bucket, "bucket", "", "S3 bucket the job writes or reads")
	fs.StringVar(&f.prefix, "prefix", "", "key prefix that scopes object access")
	fs.StringVar(&f.queueARN, "queue-arn", "", "SQS queue ARN (collect)")
	fs.StringVar(&f.topicARN, "topic-arn", "", "SNS topic ARN between bucket and queue (collect)")
	fs.StringVar(&f.ruleARN, "rule-arn", "", "EventBridge rule ARN between bucket and queue (collect)")
	fs.StringVar(&f.roleARN, "role-arn", "", "the job's role; then --principal is always the trusted principal")
	fs.StringVar(&f.acl, "acl", "", "canned ACL the job sets on objects it writes (bucket-owner-full-control)")
	fs.BoolVar(&f.sessionTags, "session-tags", false, "the trusted principal passes session tags (trust allows sts:TagSession)")
	fs.StringVar(&f.kmsKeyARN, "kms-key-arn", "", "KMS key ARN encrypting objects or messages")
	fs.StringVar(&f.principal, "principal", "", "trusted principal (--kind trust) or the job's role ARN (other kinds)")
	fs.StringVar(&f.externalID, "external-id", "", "sts:ExternalId the trusted principal must pass")
	fs.StringVar(&f.sourceAccount, "source-account", "", "account that owns the bucket (aws:SourceAccount)")
}

func (f *jobFlags) config(kind iamcheck.PolicyKind) iamcheck.JobConfig {
	j := iamcheck.JobConfig{Job: iamcheck.JobKind(f.job), Bucket: f.bucket, Prefix: f.prefix, QueueARN: f.queueARN, TopicARN: f.topicARN,
		RuleARN: f.ruleARN, KMSKeyARN: f.kmsKeyARN, ExternalID: f.externalID, SourceAccount: f.sourceAccount, ObjectACL: f.acl, SessionTags: f.sessionTags}
	if f.roleARN != "" {
		j.RoleARN, j.TrustedPrincipal = f.roleARN, f.principal
	} else if kind == iamcheck.KindTrust {
		j.TrustedPrincipal = f.principal
	} else {
		j.RoleARN = f.principal
	}
	return j
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func (c *cli) parse(fs *flag.FlagSet, args []string) (int, bool) {
	c.profile.Register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c.finish(exitOK), false
		}
		return c.fail(exitUsage, "%v", err), false
	}
	if fs.NArg() > 0 {
		return c.fail(exitUsage, "unexpected arguments %q", fs.Args()), false
	}
	stop, err := c.profile.Start()
	if err != nil {
		return c.fail(exitFail, "%v", err), false
	}
	c.stopProfile = stop
	return 0, true
}

// templateFlags are the flags of generate --format other than json.
type templateFlags struct {
	format string
	opts   setup.Options
}

func (t *templateFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&t.opts.MaxReceiveCount, "max-receive-count", setup.DefaultMaxReceiveCount, "receives before SQS moves a message to the dead-letter queue")
	fs.DurationVar(&t.opts.VisibilityTimeout, "visibility-timeout", 0, "the queue's visibility timeout, whole seconds (default: SQS's 30s)")
}

// validate rejects an explicit 0, which the library would read as the
// default.
func (t *templateFlags) validate() error {
	if t.opts.MaxReceiveCount < 1 {
		return fmt.Errorf("--max-receive-count %d: want 1 to 1000", t.opts.MaxReceiveCount)
	}
	return t.opts.Validate()
}

func (c *cli) generate(args []string) int {
	var f jobFlags
	var t templateFlags
	fs := newFlagSet("generate", c.stderr)
	f.register(fs)
	t.register(fs)
	fs.StringVar(&t.format, "format", "json", "json (one policy of --kind), cloudformation, cloudformation-yaml or terraform (a template of the whole job)")
	fs.BoolVar(&t.opts.RawMessageDelivery, "raw-message-delivery", false, "templates: the SNS subscription delivers the raw S3 event")
	fs.BoolVar(&t.opts.DenyInsecureTransport, "deny-insecure-transport", false, "templates: the role denies every request without TLS")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	if t.format != "json" {
		return c.template(f, t)
	}
	kind, err := iamcheck.ParsePolicyKind(f.kind)
	if err != nil {
		return c.fail(exitUsage, "--kind: %v", err)
	}
	if _, err := iamcheck.ParseJobKind(f.job); err != nil {
		return c.fail(exitUsage, "--job: %v", err)
	}
	c.summary["job"], c.summary["kind"] = f.job, f.kind
	return c.emit(iamcheck.Generate(f.config(kind), kind))
}

// emit writes generated output, or fails with its error as bad usage (the
// generators reject only their input).
func (c *cli) emit(out []byte, err error) int {
	if err != nil {
		return c.fail(exitUsage, "%v", err)
	}
	if _, err := c.stdout.Write(out); err != nil {
		return c.fail(exitFail, "write: %v", err)
	}
	c.summary["bytes"] = len(out)
	return c.finish(exitOK)
}

// template writes the whole job's template (generate --format F).
func (c *cli) template(f jobFlags, t templateFlags) int {
	format, err := setup.ParseFormat(t.format)
	if err != nil {
		return c.fail(exitUsage, "--format: %v (or json)", err)
	}
	if f.kind != "" {
		return c.fail(exitUsage, "--kind applies to --format json; a template holds every policy of the job")
	}
	if err := t.validate(); err != nil {
		return c.fail(exitUsage, "%v", err)
	}
	if _, err := iamcheck.ParseJobKind(f.job); err != nil {
		return c.fail(exitUsage, "--job: %v", err)
	}
	if f.roleARN == "" {
		return c.fail(exitUsage, "--format %s needs --role-arn (the role to create) and --principal (who assumes it)", t.format)
	}
	c.summary["job"], c.summary["format"] = f.job, t.format
	return c.emit(setup.Render(f.config(""), format, t.opts))
}

// setupQueues is "setup plan" and "setup apply".
func (c *cli) setupQueues(ctx context.Context, args []string) int {
	if len(args) == 0 || (args[0] != "plan" && args[0] != "apply") {
		return c.fail(exitUsage, "usage: iampolicy setup plan|apply --queue-arn ARN --bucket B --source-account ID [flags]")
	}
	action := args[0]
	c.summary["action"] = action
	var f jobFlags
	var t templateFlags
	var region string
	fs := newFlagSet("setup "+action, c.stderr)
	fs.StringVar(&f.bucket, "bucket", "", "bucket whose notifications the queue receives")
	fs.StringVar(&f.prefix, "prefix", "", "key prefix the notification is limited to")
	fs.StringVar(&f.queueARN, "queue-arn", "", "ARN of the queue to create (its dead-letter queue is NAME"+setup.DeadLetterSuffix+")")
	fs.StringVar(&f.topicARN, "topic-arn", "", "the SNS topic that sends to the queue")
	fs.StringVar(&f.ruleARN, "rule-arn", "", "the EventBridge rule that sends to the queue")
	fs.StringVar(&f.kmsKeyARN, "kms-key-arn", "", "KMS key for the queues' encryption (default: SQS-managed keys)")
	fs.StringVar(&f.sourceAccount, "source-account", "", "account that owns the bucket (aws:SourceAccount)")
	fs.StringVar(&region, "region", "", "AWS region (default from the environment or shared config)")
	t.register(fs)
	if code, ok := c.parse(fs, args[1:]); !ok {
		return code
	}
	f.job = string(iamcheck.JobCollect)
	job := f.config("")
	if err := (awsenv.Options{Region: region}).Validate(); err != nil {
		return c.fail(exitUsage, "%v", err)
	}
	if _, err := setup.Notification(job); err != nil {
		return c.fail(exitUsage, "%v", err)
	}
	if err := t.validate(); err != nil {
		return c.fail(exitUsage, "%v", err)
	}
	cfg, err := awsenv.Load(ctx, awsenv.Options{Region: region})
	if err != nil {
		return c.fail(exitUsage, "%v", err)
	}
	client := sqs.NewFromConfig(cfg)
	do := setup.NewPlan
	if action == "apply" {
		do = setup.Apply
	}
	plan, err := do(ctx, client, job, t.opts)
	if plan != nil {
		for _, s := range plan.Steps {
			fmt.Fprintf(c.stderr, "iampolicy: %s: queue %s %s\n", action, s.Queue, describeStep(action, s))
		}
	}
	if err != nil {
		if errors.Is(err, iamcheck.ErrInvalidJob) || errors.Is(err, iamcheck.ErrNotApplicable) || errors.Is(err, setup.ErrInvalidOptions) {
			return c.fail(exitUsage, "%v", err)
		}
		return c.fail(exitFail, "%v", err)
	}
	b, err := json.MarshalIndent(plan, "", "  ")
	if err != nil {
		return c.fail(exitFail, "%v", err)
	}
	fmt.Fprintln(c.stdout, string(b))
	body, _ := json.Marshal(plan.Notification)
	fmt.Fprintf(c.stderr, "iampolicy: not done: set the bucket notification (it replaces the bucket's whole configuration; merge existing ones first):\n"+
		"  aws s3api put-bucket-notification-configuration --bucket %s --notification-configuration '%s'\n", plan.Bucket, body)
	c.summary["changes"] = plan.Changes()
	c.summary["queues"] = len(plan.Steps)
	return c.finish(exitOK)
}

func describeStep(action string, s setup.Step) string {
	done := action == "apply"
	switch s.Action {
	case setup.ActionCreate:
		return map[bool]string{false: "would be created", true: "created"}[done]
	case setup.ActionUpdate:
		return map[bool]string{false: "would be updated: ", true: "updated: "}[done] + strings.Join(slices.Sorted(maps.Keys(s.Attributes)), ", ")
	}
	return "exists as wanted"
}

func readPolicy(path string) (*iamcheck.Policy, []iamcheck.Finding, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	p, fs, err := iamcheck.ParsePolicy(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	p.Name = path
	return p, fs, nil
}

// checkOutput is what check prints: the decision, and the principal it was
// made for ("" for an anonymous request) with whether that principal is the
// default.
type checkOutput struct {
	iamcheck.Result
	Principal          string `json:"principal"`
	PrincipalDefaulted bool   `json:"principal_defaulted"`
}

// defaultPrincipal is the caller check assumes when identity policies are
// given without a principal: the role "caller" in the resource's account
// (resource_account, else the resource ARN's account, else
// iamcheck.PlaceholderAccount), so that the request is same-account.
func defaultPrincipal(req iamcheck.Request) string {
	acct := req.ResourceAccount
	if acct == "" {
		if a, ok := iamcheck.ParseARN(req.Resource); ok && a.Account != "" {
			acct = a.Account
		}
	}
	if acct == "" {
		acct = iamcheck.PlaceholderAccount
	}
	return "arn:aws:iam::" + acct + ":role/caller"
}

func (c *cli) check(args []string) int {
	var policies, contexts multiFlag
	var resourcePolicy, requestFile, action, resource, principal string
	fs := newFlagSet("check", c.stderr)
	fs.Var(&policies, "policy", "identity policy file (repeatable)")
	fs.StringVar(&resourcePolicy, "resource-policy", "", "resource policy file (bucket, queue, topic, key or trust policy)")
	fs.StringVar(&requestFile, "request", "", "request JSON file; an absent \"principal\" defaults as for --principal")
	fs.StringVar(&action, "action", "", "action, for example s3:PutObject")
	fs.StringVar(&resource, "resource", "", "resource ARN")
	fs.StringVar(&principal, "principal", "", "principal ARN or service principal; when absent: with --policy, arn:aws:iam::ACCOUNT:role/caller\n"+
		"in the resource's account (ACCOUNT "+iamcheck.PlaceholderAccount+" when the ARN has none), shown in the output; else anonymous")
	fs.Var(&contexts, "context", "condition key KEY=VALUE (repeatable)")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	var req iamcheck.Request
	switch {
	case requestFile != "" && (action != "" || resource != "" || principal != "" || len(contexts) > 0):
		return c.fail(exitUsage, "--request excludes --action, --resource, --principal and --context")
	case requestFile != "":
		data, err := os.ReadFile(requestFile)
		if err != nil {
			return c.fail(exitUsage, "--request: %v", err)
		}
		if err := json.Unmarshal(data, &req); err != nil {
			return c.fail(exitUsage, "--request %s: %v", requestFile, err)
		}
		if req.Action == "" || req.Resource == "" {
			return c.fail(exitUsage, "--request %s: action and resource are required", requestFile)
		}
	case action != "" && resource != "":
		req = iamcheck.Request{Principal: principal, Action: action, Resource: resource}
		for _, kv := range contexts {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return c.fail(exitUsage, "--context %q: want KEY=VALUE", kv)
			}
			if req.Context == nil {
				req.Context = map[string][]string{}
			}
			req.Context[k] = append(req.Context[k], v)
		}
	default:
		return c.fail(exitUsage, "give --request FILE or --action and --resource")
	}
	// Identity policies belong to a principal; an anonymous request would
	// ignore them. Without a principal, evaluate as a role in the
	// resource's account, and say so.
	defaulted := false
	if req.Principal == "" && len(policies) > 0 {
		req.Principal = defaultPrincipal(req)
		defaulted = true
		fmt.Fprintf(c.stderr, "iampolicy: no principal given; evaluating as %s (set --principal or the request's \"principal\")\n", req.Principal)
	}
	var identity []*iamcheck.Policy
	findings := 0
	for _, path := range policies {
		p, fs, err := readPolicy(path)
		if err != nil {
			return c.fail(exitUsage, "--policy %v", err)
		}
		findings += len(fs)
		identity = append(identity, p)
	}
	var res *iamcheck.Policy
	if resourcePolicy != "" {
		p, fs, err := readPolicy(resourcePolicy)
		if err != nil {
			return c.fail(exitUsage, "--resource-policy %v", err)
		}
		findings += len(fs)
		res = p
	}
	result := iamcheck.Evaluate(req, identity, res)
	b, err := json.Marshal(checkOutput{Result: result, Principal: req.Principal, PrincipalDefaulted: defaulted})
	if err != nil {
		return c.fail(exitFail, "%v", err)
	}
	fmt.Fprintln(c.stdout, string(b))
	if findings > 0 {
		fmt.Fprintf(c.stderr, "iampolicy: the policies have %d grammar findings; run iampolicy lint\n", findings)
	}
	c.summary["decision"] = result.Decision
	c.summary["principal_defaulted"] = defaulted
	c.summary["policies"] = len(identity)
	c.summary["resource_policy"] = res != nil
	c.summary["findings"] = findings
	return c.finish(exitOK)
}

func (c *cli) lint(args []string) int {
	var f jobFlags
	var policy string
	fs := newFlagSet("lint", c.stderr)
	f.register(fs)
	fs.StringVar(&policy, "policy", "", "policy file to lint")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	if policy == "" {
		return c.fail(exitUsage, "--policy is required")
	}
	kind, err := iamcheck.ParsePolicyKind(f.kind)
	if err != nil {
		return c.fail(exitUsage, "--kind: %v", err)
	}
	var job *iamcheck.JobConfig
	if f.job != "" {
		j := f.config(kind)
		if err := j.Validate(); err != nil {
			return c.fail(exitUsage, "%v", err)
		}
		job = &j
	}
	p, findings, err := readPolicy(policy)
	if err != nil {
		return c.fail(exitUsage, "--policy %v", err)
	}
	findings = append(findings, iamcheck.Lint(p, kind, job)...)
	enc := json.NewEncoder(c.stdout)
	errs := 0
	for _, fd := range findings {
		if err := enc.Encode(fd); err != nil {
			return c.fail(exitFail, "write: %v", err)
		}
		if fd.Severity == iamcheck.SeverityError {
			errs++
		}
	}
	c.summary["kind"] = f.kind
	c.summary["findings"] = len(findings)
	c.summary["errors"] = errs
	if errs > 0 {
		return c.finish(exitFail)
	}
	return c.finish(exitOK)
}

func (c *cli) probe(ctx context.Context, args []string) int {
	var o probe.Options
	var region, job string
	var pathStyle bool
	fs := newFlagSet("probe", c.stderr)
	fs.StringVar(&job, "job", "export", "export, securitylake (write a test object) or collect (read --object-key; no write)")
	fs.StringVar(&o.ObjectKey, "object-key", "", "collect: an existing object under --prefix to read")
	fs.StringVar(&o.ACL, "acl", "", "export, securitylake: canned ACL of the test write (bucket-owner-full-control)")
	fs.StringVar(&o.Bucket, "bucket", "", "bucket to check")
	fs.StringVar(&o.Prefix, "prefix", "", "prefix for the test object")
	fs.StringVar(&o.QueueURL, "queue-url", "", "SQS queue URL to check")
	fs.StringVar(&o.RoleARN, "role-arn", "", "role to assume before the checks")
	fs.StringVar(&o.ExternalID, "external-id", "", "external id for --role-arn")
	fs.StringVar(&region, "region", "", "AWS region (default from the environment or shared config)")
	fs.BoolVar(&pathStyle, "path-style", false, "force path-style S3 addressing")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	if o.Bucket == "" && o.QueueURL == "" && o.RoleARN == "" {
		return c.fail(exitUsage, "give at least one of --bucket, --queue-url, --role-arn")
	}
	kind, err := iamcheck.ParseJobKind(job)
	if err != nil {
		return c.fail(exitUsage, "--job: %v", err)
	}
	o.Job = kind
	switch {
	case kind == iamcheck.JobCollect && o.ACL != "":
		return c.fail(exitUsage, "--acl applies to the jobs that write (export, securitylake)")
	case kind != iamcheck.JobCollect && o.ObjectKey != "":
		return c.fail(exitUsage, "--object-key applies to --job collect")
	case kind == iamcheck.JobCollect && o.Bucket != "" && o.ObjectKey == "":
		return c.fail(exitUsage, "--job collect with --bucket needs --object-key: the collector probe reads an existing object and writes nothing")
	}
	if err := (iamcheck.JobConfig{Job: kind, Bucket: "probe", ObjectACL: o.ACL}).Validate(); o.ACL != "" && err != nil {
		return c.fail(exitUsage, "--acl %q: want private, bucket-owner-read or bucket-owner-full-control", o.ACL)
	}
	c.summary["job"] = job
	if err := (awsenv.Options{Region: region, RoleARN: o.RoleARN, ExternalID: o.ExternalID}).Validate(); err != nil {
		return c.fail(exitUsage, "%v", err)
	}
	// The role is assumed by the probe itself, so that a failure is
	// reported as a classified check.
	cfg, err := awsenv.Load(ctx, awsenv.Options{Region: region})
	if err != nil {
		return c.fail(exitUsage, "%v", err)
	}
	o.S3Options = []func(*s3.Options){awsenv.S3Options(cfg, pathStyle)}
	fmt.Fprintln(c.stderr, "iampolicy: probing...")
	results := probe.Run(ctx, cfg, o)
	tw := tabwriter.NewWriter(c.stderr, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tTARGET\tOUTCOME\tSTATUS\tCODE\tWHAT TO CHECK")
	enc := json.NewEncoder(c.stdout)
	failed := 0
	for _, r := range results {
		outcome := string(r.Outcome)
		if r.Advisory && r.Outcome != probe.OutcomeOK {
			outcome += " (advisory)"
		}
		status := ""
		if r.Status != 0 {
			status = fmt.Sprint(r.Status)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Check, r.Target, outcome, status, r.Code, r.Hint)
		if err := enc.Encode(r); err != nil {
			return c.fail(exitFail, "write: %v", err)
		}
		if r.Failed() {
			failed++
		}
	}
	tw.Flush()
	c.summary["checks"] = len(results)
	c.summary["failed"] = failed
	if failed > 0 {
		return c.finish(exitFail)
	}
	return c.finish(exitOK)
}

package setup

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/iamcheck"
	"go.yaml.in/yaml/v3"
)

const (
	acct   = "111122223333"
	vendor = "444455556666"
	keyARN = "arn:aws:kms:us-east-1:" + acct + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"
)

var jobs = map[string]iamcheck.JobConfig{
	"collect-direct": {Job: iamcheck.JobCollect, Bucket: "cloudtrail-logs", Prefix: "AWSLogs", QueueARN: "arn:aws:sqs:us-east-1:" + acct + ":ct-events",
		RoleARN: "arn:aws:iam::" + acct + ":role/collector", TrustedPrincipal: "arn:aws:iam::" + vendor + ":role/vendor", ExternalID: "tenant-42",
		SessionTags: true, SourceAccount: acct},
	"collect-sns-kms": {Job: iamcheck.JobCollect, Bucket: "cloudtrail-logs", QueueARN: "arn:aws:sqs:us-east-1:" + acct + ":ct-events",
		TopicARN: "arn:aws:sns:us-east-1:" + acct + ":ct-topic", KMSKeyARN: keyARN, RoleARN: "arn:aws:iam::" + acct + ":role/lakerelay/collector",
		TrustedPrincipal: vendor, ExternalID: "tenant-42", SourceAccount: acct},
	"collect-eventbridge": {Job: iamcheck.JobCollect, Bucket: "cloudtrail-logs", Prefix: "AWSLogs/", QueueARN: "arn:aws:sqs:us-east-1:" + acct + ":ct-events",
		RuleARN: "arn:aws:events:us-east-1:" + acct + ":rule/ct-objects", RoleARN: "arn:aws:iam::" + acct + ":role/collector",
		TrustedPrincipal: vendor, ExternalID: "tenant-42", SourceAccount: acct},
	"export-acl-kms": {Job: iamcheck.JobExport, Bucket: "cust-logs", Prefix: "vendor/", RoleARN: "arn:aws:iam::" + acct + ":role/exporter",
		TrustedPrincipal: vendor, ExternalID: "tenant-7", SourceAccount: acct, ObjectACL: iamcheck.ACLBucketOwnerFullControl, KMSKeyARN: keyARN},
}

// template is a rendered template parsed back, with its policies.
type template struct {
	identity  []*iamcheck.Policy
	resources map[iamcheck.PolicyKind]*iamcheck.Policy
	// refs are the resources referenced; names the resources declared.
	refs, names []string
	doc         map[string]any
}

func parsePolicy(t *testing.T, where string, v any) *iamcheck.Policy {
	t.Helper()
	var data []byte
	switch x := v.(type) {
	case string:
		data = []byte(x)
	default:
		var err error
		if data, err = json.Marshal(x); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
	}
	p, fs, err := iamcheck.ParsePolicy(data)
	if err != nil || lakerelay.HasErrors(fs) {
		t.Fatalf("%s: policy does not parse: %v %+v\n%s", where, err, fs, data)
	}
	p.Name = where
	return p
}

func m(v any) map[string]any { x, _ := v.(map[string]any); return x }

// walk calls f for every string in v.
func walk(v any, f func(key string, v any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			f(k, e)
			walk(e, f)
		}
	case []any:
		for _, e := range x {
			walk(e, f)
		}
	}
}

func parseCloudFormation(t *testing.T, out []byte, yamlSyntax bool) template {
	t.Helper()
	var doc map[string]any
	var err error
	if yamlSyntax {
		err = yaml.Unmarshal(out, &doc)
	} else {
		err = json.Unmarshal(out, &doc)
	}
	if err != nil {
		t.Fatalf("template does not parse: %v\n%s", err, out)
	}
	if doc["AWSTemplateFormatVersion"] != "2010-09-09" {
		t.Fatalf("AWSTemplateFormatVersion = %v", doc["AWSTemplateFormatVersion"])
	}
	tp := template{resources: map[iamcheck.PolicyKind]*iamcheck.Policy{}, doc: doc}
	for name, r := range m(doc["Resources"]) {
		tp.names = append(tp.names, name)
		res := m(r)
		props := m(res["Properties"])
		if props == nil || !strings.HasPrefix(fmt.Sprint(res["Type"]), "AWS::") {
			t.Fatalf("resource %s: no Type or Properties: %v", name, res)
		}
		switch res["Type"] {
		case "AWS::IAM::Role":
			tp.resources[iamcheck.KindTrust] = parsePolicy(t, name+".AssumeRolePolicyDocument", props["AssumeRolePolicyDocument"])
			for i, p := range props["Policies"].([]any) {
				tp.identity = append(tp.identity, parsePolicy(t, fmt.Sprintf("%s.Policies[%d]", name, i), m(p)["PolicyDocument"]))
			}
		case "AWS::SQS::QueuePolicy":
			tp.resources[iamcheck.KindQueue] = parsePolicy(t, name, props["PolicyDocument"])
		case "AWS::SNS::TopicPolicy":
			tp.resources[iamcheck.KindTopic] = parsePolicy(t, name, props["PolicyDocument"])
		}
		if d, ok := res["DependsOn"].([]any); ok {
			for _, n := range d {
				tp.refs = append(tp.refs, n.(string))
			}
		}
	}
	if kp := m(m(doc["Outputs"])["KeyPolicy"]); kp != nil {
		tp.resources[iamcheck.KindKMS] = parsePolicy(t, "Outputs.KeyPolicy", kp["Value"])
	}
	walk(doc, func(k string, v any) {
		switch k {
		case "Ref":
			tp.refs = append(tp.refs, v.(string))
		case "Fn::GetAtt":
			tp.refs = append(tp.refs, v.([]any)[0].(string))
		}
	})
	return tp
}

var tfRefRE = regexp.MustCompile(`\$\{[^}]*?\b(aws_[a-z0-9_]+\.[a-z0-9_]+)\.[a-z_]+`)

func parseTerraform(t *testing.T, out []byte) template {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("template is not JSON: %v", err)
	}
	tp := template{resources: map[iamcheck.PolicyKind]*iamcheck.Policy{}, doc: doc}
	for typ, byName := range m(doc["resource"]) {
		if !strings.HasPrefix(typ, "aws_") || m(byName) == nil {
			t.Fatalf("resource type %q: %v", typ, byName)
		}
		for name, r := range m(byName) {
			addr := typ + "." + name
			tp.names = append(tp.names, addr)
			res := m(r)
			switch typ {
			case "aws_iam_role":
				tp.resources[iamcheck.KindTrust] = parsePolicy(t, addr, res["assume_role_policy"])
			case "aws_iam_role_policy":
				tp.identity = append(tp.identity, parsePolicy(t, addr, res["policy"]))
			case "aws_sqs_queue_policy":
				tp.resources[iamcheck.KindQueue] = parsePolicy(t, addr, res["policy"])
			case "aws_sns_topic_policy":
				tp.resources[iamcheck.KindTopic] = parsePolicy(t, addr, res["policy"])
			}
			if d, ok := res["depends_on"].([]any); ok {
				for _, n := range d {
					tp.refs = append(tp.refs, n.(string))
				}
			}
		}
	}
	if kp := m(m(doc["output"])["key_policy"]); kp != nil {
		tp.resources[iamcheck.KindKMS] = parsePolicy(t, "output.key_policy", kp["value"])
	}
	walk(doc, func(_ string, v any) {
		if s, ok := v.(string); ok {
			for _, mt := range tfRefRE.FindAllStringSubmatch(s, -1) {
				tp.refs = append(tp.refs, mt[1])
			}
			if strings.Contains(s, "${") && !tfRefRE.MatchString(s) {
				t.Errorf("unresolvable interpolation in %q", s)
			}
		}
	})
	return tp
}

func render(t *testing.T, j iamcheck.JobConfig, f Format, o Options) template {
	t.Helper()
	out, err := Render(j, f, o)
	if err != nil {
		t.Fatalf("Render(%s): %v", f, err)
	}
	var tp template
	switch f {
	case FormatTerraform:
		tp = parseTerraform(t, out)
	default:
		tp = parseCloudFormation(t, out, f == FormatCloudFormationYAML)
	}
	for _, r := range tp.refs {
		found := false
		for _, n := range tp.names {
			found = found || n == r
		}
		if !found {
			t.Errorf("%s: reference to undeclared resource %q (declared %v)", f, r, tp.names)
		}
	}
	return tp
}

var allowAll = func() *iamcheck.Policy {
	p, _, _ := iamcheck.ParsePolicy([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`))
	return p
}()

func (tp template) eval(j iamcheck.JobConfig, r iamcheck.Request, governs iamcheck.PolicyKind) iamcheck.Result {
	var idp []*iamcheck.Policy
	switch {
	case strings.HasPrefix(r.Principal, "arn:aws:sts::") && strings.Contains(r.Principal, ":assumed-role/"):
		idp = tp.identity
	case governs == iamcheck.KindTrust:
		idp = []*iamcheck.Policy{allowAll}
	}
	return iamcheck.Evaluate(r, idp, tp.resources[governs])
}

// nearby are requests a step away from r that the template must deny.
func nearby(j iamcheck.JobConfig, r iamcheck.Requirement, o Options) map[string]iamcheck.Request {
	out := map[string]iamcheck.Request{}
	mut := func(name string, f func(*iamcheck.Request)) {
		c := r.Request
		c.Context = map[string][]string{}
		for k, v := range r.Context {
			c.Context[k] = v
		}
		f(&c)
		out[name] = c
	}
	if _, ok := r.Context["aws:SourceAccount"]; ok {
		mut("wrong source account", func(c *iamcheck.Request) { c.Context["aws:SourceAccount"] = []string{"999999999999"} })
		mut("missing source account", func(c *iamcheck.Request) { delete(c.Context, "aws:SourceAccount") })
	}
	if v, ok := r.Context["aws:SourceArn"]; ok {
		mut("wrong source ARN", func(c *iamcheck.Request) { c.Context["aws:SourceArn"] = []string{v[0] + "-other"} })
		mut("missing source ARN", func(c *iamcheck.Request) { delete(c.Context, "aws:SourceArn") })
	}
	if _, ok := r.Context["sts:ExternalId"]; ok {
		mut("missing ExternalId", func(c *iamcheck.Request) { delete(c.Context, "sts:ExternalId") })
		mut("wrong ExternalId", func(c *iamcheck.Request) { c.Context["sts:ExternalId"] = []string{"guess"} })
		mut("other account assumes", func(c *iamcheck.Request) { c.Principal = "arn:aws:iam::999999999999:root" })
	}
	if strings.HasPrefix(r.Resource, "arn:aws:s3:::") {
		mut("wrong bucket", func(c *iamcheck.Request) { c.Resource = strings.Replace(c.Resource, j.Bucket, j.Bucket+"-other", 1) })
		if j.Prefix != "" {
			mut("outside the prefix", func(c *iamcheck.Request) { c.Resource = "arn:aws:s3:::" + j.Bucket + "/elsewhere/k" })
		}
		if o.DenyInsecureTransport {
			mut("without TLS", func(c *iamcheck.Request) { c.Context["aws:SecureTransport"] = []string{"false"} })
		}
	}
	if strings.HasPrefix(r.Resource, "arn:aws:sqs:") {
		mut("other queue", func(c *iamcheck.Request) { c.Resource += "-other" })
	}
	if strings.HasSuffix(r.Principal, ".amazonaws.com") {
		mut("other service", func(c *iamcheck.Request) { c.Principal = "lambda.amazonaws.com" })
	}
	if r.Action == "s3:PutObject" && j.ObjectACL != "" {
		mut("without the ACL", func(c *iamcheck.Request) { delete(c.Context, "s3:x-amz-acl") })
	}
	return out
}

// TestTemplatesAllowTheJobAndDenyNearby renders every format for every job,
// parses it back, and evaluates the job's requests with the policies found
// in the template.
func TestTemplatesAllowTheJobAndDenyNearby(t *testing.T) {
	for name, j := range jobs {
		for _, f := range []Format{FormatCloudFormation, FormatCloudFormationYAML, FormatTerraform} {
			for _, o := range []Options{{}, {DenyInsecureTransport: true, MaxReceiveCount: 3}} {
				t.Run(fmt.Sprintf("%s/%s/deny-tls=%v", name, f, o.DenyInsecureTransport), func(t *testing.T) {
					tp := render(t, j, f, o)
					reqs := iamcheck.Requirements(j)
					denied := 0
					for _, r := range reqs {
						if res := tp.eval(j, r.Request, r.Governs); !res.Allowed() {
							t.Errorf("%s: %s on %s by %s denied: %s", r.Why, r.Action, r.Resource, r.Principal, res.Reason)
						}
						for what, nr := range nearby(j, r, o) {
							if res := tp.eval(j, nr, r.Governs); res.Allowed() {
								t.Errorf("%s (%s on %s by %s %v) allowed by %v", what, nr.Action, nr.Resource, nr.Principal, nr.Context, res.Statements)
							}
							denied++
						}
					}
					if denied < len(reqs) {
						t.Fatalf("only %d nearby requests for %d requirements", denied, len(reqs))
					}
				})
			}
		}
	}
}

// TestTemplateContents checks the pieces the policies do not show: the
// redrive, the encryption and the notification wiring.
func TestTemplateContents(t *testing.T) {
	direct := parseCloudFormation(t, mustRender(t, jobs["collect-direct"], FormatCloudFormation, Options{}), false)
	res := m(direct.doc["Resources"])
	q := m(m(res[cfnQueue])["Properties"])
	if rp := m(q["RedrivePolicy"]); rp["maxReceiveCount"] != float64(DefaultMaxReceiveCount) || m(rp["deadLetterTargetArn"])["Fn::GetAtt"] == nil {
		t.Errorf("RedrivePolicy = %v", q["RedrivePolicy"])
	}
	if q["SqsManagedSseEnabled"] != true || q["QueueName"] != "ct-events" {
		t.Errorf("queue = %v", q)
	}
	if dlq := m(m(res[cfnDLQ])["Properties"]); dlq["QueueName"] != "ct-events-dlq" || dlq["SqsManagedSseEnabled"] != true {
		t.Errorf("dead-letter queue = %v", dlq)
	}
	qc := m(m(m(res[cfnBucket])["Properties"])["NotificationConfiguration"])["QueueConfigurations"].([]any)[0]
	if b, _ := json.Marshal(qc); !strings.Contains(string(b), `"Value":"AWSLogs/"`) || !strings.Contains(string(b), ObjectCreatedEvents) {
		t.Errorf("queue notification = %s", b)
	}

	sns := parseTerraform(t, mustRender(t, jobs["collect-sns-kms"], FormatTerraform, Options{RawMessageDelivery: true}))
	r := m(sns.doc["resource"])
	if s := m(m(r["aws_sns_topic_subscription"])["queue"]); s["raw_message_delivery"] != true || s["protocol"] != "sqs" {
		t.Errorf("subscription = %v", s)
	}
	if qq := m(m(r["aws_sqs_queue"])["queue"]); qq["kms_master_key_id"] != keyARN || !strings.Contains(qq["redrive_policy"].(string), "maxReceiveCount = 5") {
		t.Errorf("queue = %v", qq)
	}
	if g := m(m(r["aws_kms_grant"])["job"]); fmt.Sprint(g["operations"]) != "[Decrypt]" {
		t.Errorf("grant = %v", g)
	}
	if m(m(r["aws_s3_bucket_notification"])["bucket"])["topic"] == nil {
		t.Error("no topic notification")
	}

	eb := parseCloudFormation(t, mustRender(t, jobs["collect-eventbridge"], FormatCloudFormationYAML, Options{}), true)
	res = m(eb.doc["Resources"])
	if nc := m(m(m(res[cfnBucket])["Properties"])["NotificationConfiguration"]); m(nc["EventBridgeConfiguration"])["EventBridgeEnabled"] != true {
		t.Errorf("bucket notification = %v", nc)
	}
	if d := m(m(res[cfnDLQ])["Properties"]); d["MessageRetentionPeriod"] != 1209600 {
		t.Errorf("YAML MessageRetentionPeriod = %#v, want the integer 1209600", d["MessageRetentionPeriod"])
	}
	rule := m(m(res[cfnRule])["Properties"])
	if b, _ := json.Marshal(rule["EventPattern"]); string(b) != `{"detail":{"bucket":{"name":["cloudtrail-logs"]},"object":{"key":[{"prefix":"AWSLogs/"}]}},"detail-type":["Object Created"],"source":["aws.s3"]}` {
		t.Errorf("event pattern = %s", b)
	}
}

func mustRender(t *testing.T, j iamcheck.JobConfig, f Format, o Options) []byte {
	t.Helper()
	out, err := Render(j, f, o)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRenderErrors(t *testing.T) {
	base := jobs["collect-direct"]
	tests := []struct {
		name  string
		edit  func(*iamcheck.JobConfig, *Options)
		want  error
		field string
	}{
		{"no role", func(j *iamcheck.JobConfig, _ *Options) { j.RoleARN = "" }, iamcheck.ErrInvalidJob, "RoleARN"},
		{"user not role", func(j *iamcheck.JobConfig, _ *Options) { j.RoleARN = "arn:aws:iam::" + acct + ":user/u" }, iamcheck.ErrInvalidJob, "RoleARN"},
		{"no trusted principal", func(j *iamcheck.JobConfig, _ *Options) { j.TrustedPrincipal = "" }, iamcheck.ErrInvalidJob, "TrustedPrincipal"},
		{"fifo", func(j *iamcheck.JobConfig, _ *Options) { j.QueueARN += ".fifo" }, iamcheck.ErrInvalidJob, "FIFO"},
		{"no source account", func(j *iamcheck.JobConfig, _ *Options) { j.SourceAccount = "" }, iamcheck.ErrInvalidJob, "SourceAccount"},
		{"topic and rule", func(j *iamcheck.JobConfig, _ *Options) {
			j.TopicARN, j.RuleARN = "arn:aws:sns:us-east-1:"+acct+":t", "arn:aws:events:us-east-1:"+acct+":rule/r"
		}, iamcheck.ErrInvalidJob, "RuleARN"},
		{"custom bus", func(j *iamcheck.JobConfig, _ *Options) {
			j.RuleARN = "arn:aws:events:us-east-1:" + acct + ":rule/bus/r"
		}, iamcheck.ErrInvalidJob, "custom event bus"},
		{"external principal without external id", func(j *iamcheck.JobConfig, _ *Options) { j.ExternalID = "" }, iamcheck.ErrNotApplicable, "external id"},
		{"receive count", func(_ *iamcheck.JobConfig, o *Options) { o.MaxReceiveCount = 1001 }, ErrInvalidOptions, "MaxReceiveCount"},
		{"raw without topic", func(_ *iamcheck.JobConfig, o *Options) { o.RawMessageDelivery = true }, ErrInvalidOptions, "RawMessageDelivery"},
		{"visibility", func(_ *iamcheck.JobConfig, o *Options) { o.VisibilityTimeout = 1500 }, ErrInvalidOptions, "VisibilityTimeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, o := base, Options{}
			tt.edit(&j, &o)
			_, err := Render(j, FormatCloudFormation, o)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("err = %v, want %v naming %s", err, tt.want, tt.field)
			}
		})
	}
	if _, err := Render(base, "pulumi", Options{}); err == nil || !strings.Contains(err.Error(), "pulumi") {
		t.Fatalf("unknown format: %v", err)
	}
}

func TestTerraformEscapesTemplateSequences(t *testing.T) {
	if got := tfString(`a ${aws:username} %{x}`); got != `a $${aws:username} %%{x}` {
		t.Fatal(got)
	}
}

// FuzzRender: whatever the names, Render either refuses the job with an
// error or writes templates that parse, in every format.
func FuzzRender(f *testing.F) {
	f.Add("cloudtrail-logs", "AWSLogs/", "ct-events", "tenant-42")
	f.Add("b", "${x}", "q.fifo", "")
	f.Add("bucket.with.dots", "a%{b}/c", "q", "ext\"id")
	f.Fuzz(func(t *testing.T, bucket, prefix, queue, externalID string) {
		j := jobs["collect-direct"]
		j.Bucket, j.Prefix, j.QueueARN, j.ExternalID = bucket, prefix, "arn:aws:sqs:us-east-1:"+acct+":"+queue, externalID
		for _, format := range []Format{FormatCloudFormation, FormatCloudFormationYAML, FormatTerraform} {
			out, err := Render(j, format, Options{})
			if err != nil {
				continue
			}
			var doc map[string]any
			if format == FormatCloudFormationYAML {
				err = yaml.Unmarshal(out, &doc)
			} else {
				err = json.Unmarshal(out, &doc)
			}
			if err != nil || doc == nil {
				t.Fatalf("%s template does not parse: %v\n%s", format, err, out)
			}
			if format == FormatTerraform && externalID != "" {
				checkTerraformLiteral(t, doc, externalID)
			}
		}
	})
}

// checkTerraformLiteral: the role's trust policy is a literal string in
// which every template sequence ("${", "%{") is escaped, and which, once
// unescaped as Terraform does, is the policy holding externalID. (Other
// strings hold references such as "${aws_iam_role.job.arn}" on purpose.)
func checkTerraformLiteral(t *testing.T, doc map[string]any, externalID string) {
	t.Helper()
	role, _ := doc["resource"].(map[string]any)["aws_iam_role"].(map[string]any)["job"].(map[string]any)
	policy, ok := role["assume_role_policy"].(string)
	if !ok {
		t.Fatalf("no assume_role_policy string in %v", role)
	}
	for i := 0; i+1 < len(policy); i++ {
		if (policy[i] == '$' || policy[i] == '%') && policy[i+1] == '{' && (i == 0 || policy[i-1] != policy[i]) {
			t.Fatalf("unescaped template sequence at %d in %q", i, policy)
		}
		if (policy[i] == '$' || policy[i] == '%') && policy[i+1] == policy[i] && i+2 < len(policy) && policy[i+2] == '{' {
			i++ // an escaped sequence: skip its second sign
		}
	}
	literal := strings.NewReplacer("$${", "${", "%%{", "%{").Replace(policy)
	var trust struct {
		Statement []struct {
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(literal), &trust); err != nil {
		t.Fatalf("trust policy does not parse once unescaped: %v\n%s", err, literal)
	}
	for _, st := range trust.Statement {
		if st.Condition["StringEquals"]["sts:ExternalId"] == externalID {
			return
		}
	}
	t.Fatalf("trust policy lacks sts:ExternalId %q: %s", externalID, literal)
}

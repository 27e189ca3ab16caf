package setup

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lakerelay/lakerelay/iamcheck"
	"go.yaml.in/yaml/v3"
)

// DefaultMaxReceiveCount is how many receives a message gets before SQS
// moves it to the dead-letter queue.
const DefaultMaxReceiveCount = 5

// DeadLetterSuffix names the dead-letter queue after the queue.
const DeadLetterSuffix = "-dlq"

// deadLetterRetention is the longest SQS keeps a message (14 days), so a
// poison message waits in the dead-letter queue as long as possible.
const deadLetterRetention = 1209600

// ErrInvalidOptions is wrapped by Options.Validate's errors.
var ErrInvalidOptions = errors.New("setup: invalid options")

// Options adjusts what Render and Apply create. The zero value means the
// defaults.
type Options struct {
	// MaxReceiveCount is the redrive policy's receive count; 0 means
	// DefaultMaxReceiveCount. SQS accepts 1 to 1000.
	MaxReceiveCount int
	// VisibilityTimeout of the queue, in whole seconds; 0 leaves SQS's
	// default (30s). At most 12 hours.
	VisibilityTimeout time.Duration
	// RawMessageDelivery makes the SNS subscription deliver the S3 event
	// itself instead of an SNS envelope (only with TopicARN).
	RawMessageDelivery bool
	// DenyInsecureTransport adds to the role a policy that denies every
	// request made without TLS (aws:SecureTransport false).
	DenyInsecureTransport bool
}

// Validate reports every problem, joined; each wraps ErrInvalidOptions.
func (o Options) Validate() error {
	var errs []error
	if o.MaxReceiveCount < 0 || o.MaxReceiveCount > 1000 {
		errs = append(errs, fmt.Errorf("%w: MaxReceiveCount %d: want 1 to 1000 (0 for %d)", ErrInvalidOptions, o.MaxReceiveCount, DefaultMaxReceiveCount))
	}
	if o.VisibilityTimeout < 0 || o.VisibilityTimeout > 12*time.Hour || o.VisibilityTimeout%time.Second != 0 {
		errs = append(errs, fmt.Errorf("%w: VisibilityTimeout %v: want whole seconds up to 12h", ErrInvalidOptions, o.VisibilityTimeout))
	}
	return errors.Join(errs...)
}

func (o Options) maxReceiveCount() int {
	if o.MaxReceiveCount == 0 {
		return DefaultMaxReceiveCount
	}
	return o.MaxReceiveCount
}

// Format names a template syntax.
type Format string

// Formats.
const (
	FormatCloudFormation     Format = "cloudformation"      // CloudFormation JSON
	FormatCloudFormationYAML Format = "cloudformation-yaml" // CloudFormation YAML (long-form intrinsics)
	FormatTerraform          Format = "terraform"           // Terraform JSON syntax (*.tf.json)
)

// ParseFormat accepts the names above.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatCloudFormation, FormatCloudFormationYAML, FormatTerraform:
		return f, nil
	}
	return "", fmt.Errorf("setup: unknown format %q (want cloudformation, cloudformation-yaml or terraform)", s)
}

// resources is a job's resources with their names and policies, as both
// template syntaxes need them.
type resources struct {
	job                iamcheck.JobConfig
	opts               Options
	queue, topic, rule string // names, "" when not used
	roleName, rolePath string
	identity, trust    json.RawMessage
	queuePolicy        json.RawMessage
	topicPolicy        json.RawMessage
	keyPolicy          json.RawMessage
}

// arnName returns the last part of an ARN's resource ("q" of
// arn:aws:sqs:r:a:q, "t" of rule/t).
func arnName(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	r := parts[5]
	return r[strings.LastIndex(r, "/")+1:]
}

// newResources validates the job and generates its policies; withRole says
// the role is created too (Render), so RoleARN and TrustedPrincipal are
// required and the identity and trust policies generated.
func newResources(j iamcheck.JobConfig, o Options, withRole bool) (*resources, error) {
	if err := errors.Join(j.Validate(), o.Validate()); err != nil {
		return nil, err
	}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", iamcheck.ErrInvalidJob, field, fmt.Sprintf(format, args...)))
	}
	if withRole && (j.RoleARN == "" || !strings.Contains(j.RoleARN, ":role/")) {
		bad("RoleARN", "setup creates the job's role: name it (arn:aws:iam::ACCOUNT:role/NAME)")
	}
	if withRole && j.TrustedPrincipal == "" {
		bad("TrustedPrincipal", "setup writes the role's trust policy: name who assumes the role")
	}
	r := &resources{job: j, opts: o}
	if j.Job == iamcheck.JobCollect {
		r.queue = arnName(j.QueueARN)
		if strings.HasSuffix(r.queue, ".fifo") {
			bad("QueueARN", "%q is a FIFO queue; S3 event notifications need a standard queue", j.QueueARN)
		}
		if len(r.queue)+len(DeadLetterSuffix) > 80 {
			bad("QueueARN", "queue name %q leaves no room for the dead-letter queue's suffix %q (80 characters at most)", r.queue, DeadLetterSuffix)
		}
		if j.SourceAccount == "" {
			bad("SourceAccount", "the bucket owner's account is required (aws:SourceAccount)")
		}
		if j.TopicARN != "" {
			r.topic = arnName(j.TopicARN)
		}
		if j.RuleARN != "" {
			r.rule = arnName(j.RuleARN)
			if strings.Count(j.RuleARN[strings.Index(j.RuleARN, ":rule/"):], "/") != 1 {
				bad("RuleARN", "%q is on a custom event bus; S3 sends to the default bus", j.RuleARN)
			}
		}
		if o.RawMessageDelivery && j.TopicARN == "" {
			errs = append(errs, fmt.Errorf("%w: RawMessageDelivery needs a topic (TopicARN)", ErrInvalidOptions))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if withRole {
		res := j.RoleARN[strings.Index(j.RoleARN, ":role/")+len(":role/"):]
		r.roleName = res[strings.LastIndex(res, "/")+1:]
		r.rolePath = "/" + res[:strings.LastIndex(res, "/")+1]
	}
	gen := func(kind iamcheck.PolicyKind, dst *json.RawMessage) error {
		out, err := iamcheck.Generate(j, kind)
		if err != nil {
			return err
		}
		*dst = out
		return nil
	}
	kinds := []struct {
		kind iamcheck.PolicyKind
		dst  *json.RawMessage
		use  bool
	}{
		{iamcheck.KindIdentity, &r.identity, withRole},
		{iamcheck.KindTrust, &r.trust, withRole},
		{iamcheck.KindQueue, &r.queuePolicy, r.queue != ""},
		{iamcheck.KindTopic, &r.topicPolicy, r.topic != ""},
		{iamcheck.KindKMS, &r.keyPolicy, withRole && j.KMSKeyARN != ""},
	}
	for _, k := range kinds {
		if !k.use {
			continue
		}
		if err := gen(k.kind, k.dst); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// denyInsecureTransport is the optional policy that denies requests made
// without TLS.
var denyInsecureTransport = json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Action":"*","Resource":"*",` +
	`"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)

// sse is the queue's (and topic's) encryption: the named key, else
// SQS-managed keys.
func (r *resources) queueEncryption() map[string]string {
	if r.job.KMSKeyARN != "" {
		return map[string]string{"KmsMasterKeyId": r.job.KMSKeyARN}
	}
	return map[string]string{"SqsManagedSseEnabled": "true"}
}

// eventPattern matches the bucket's Object Created events under the prefix.
func (r *resources) eventPattern() map[string]any {
	detail := map[string]any{"bucket": map[string]any{"name": []string{r.job.Bucket}}}
	if p := r.prefixDir(); p != "" {
		detail["object"] = map[string]any{"key": []any{map[string]string{"prefix": p}}}
	}
	return map[string]any{"source": []string{"aws.s3"}, "detail-type": []string{"Object Created"}, "detail": detail}
}

func (r *resources) prefixDir() string {
	p := r.job.Prefix
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// kmsOperations are the grant operations the job role needs.
func (r *resources) kmsOperations() []string {
	if r.job.Job == iamcheck.JobCollect {
		return []string{"Decrypt"}
	}
	return []string{"GenerateDataKey", "Decrypt"}
}

// NotificationConfiguration is the body of S3's
// PutBucketNotificationConfiguration (the JSON the AWS CLI's
// --notification-configuration takes).
type NotificationConfiguration struct {
	QueueConfigurations      []NotificationTarget `json:"QueueConfigurations,omitempty"`
	TopicConfigurations      []NotificationTarget `json:"TopicConfigurations,omitempty"`
	EventBridgeConfiguration *struct{}            `json:"EventBridgeConfiguration,omitempty"`
}

// NotificationTarget is one queue or topic configuration; exactly one of
// QueueArn and TopicArn is set.
type NotificationTarget struct {
	ID       string              `json:"Id"`
	QueueArn string              `json:"QueueArn,omitempty"`
	TopicArn string              `json:"TopicArn,omitempty"`
	Events   []string            `json:"Events"`
	Filter   *NotificationFilter `json:"Filter,omitempty"`
}

// NotificationFilter limits notifications to keys under a prefix.
type NotificationFilter struct {
	Key struct {
		FilterRules []FilterRule `json:"FilterRules"`
	} `json:"Key"`
}

// FilterRule is one key filter rule ("prefix" or "suffix").
type FilterRule struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// NotificationID names the configuration lakerelay adds to a bucket.
const NotificationID = "lakerelay"

// ObjectCreatedEvents is the event type a collector is notified of.
const ObjectCreatedEvents = "s3:ObjectCreated:*"

// Notification returns the bucket notification a collect job needs: to the
// queue, to the topic (TopicARN) or EventBridge enabled (RuleARN). The job
// must be a valid collect job.
func Notification(j iamcheck.JobConfig) (NotificationConfiguration, error) {
	if err := j.Validate(); err != nil {
		return NotificationConfiguration{}, err
	}
	if j.Job != iamcheck.JobCollect {
		return NotificationConfiguration{}, fmt.Errorf("%w: Job: the %s job needs no bucket notification", iamcheck.ErrInvalidJob, j.Job)
	}
	var n NotificationConfiguration
	if j.RuleARN != "" {
		n.EventBridgeConfiguration = &struct{}{}
		return n, nil
	}
	t := NotificationTarget{ID: NotificationID, Events: []string{ObjectCreatedEvents}}
	if p := (&resources{job: j}).prefixDir(); p != "" {
		t.Filter = &NotificationFilter{}
		t.Filter.Key.FilterRules = []FilterRule{{Name: "prefix", Value: p}}
	}
	if j.TopicARN != "" {
		t.TopicArn = j.TopicARN
		n.TopicConfigurations = []NotificationTarget{t}
	} else {
		t.QueueArn = j.QueueARN
		n.QueueConfigurations = []NotificationTarget{t}
	}
	return n, nil
}

// Render writes the template of format for job: see the package comment
// for what it holds. The job must name the role to create (RoleARN) and who
// assumes it (TrustedPrincipal); a collect job also the bucket owner's
// account (SourceAccount). Errors wrap iamcheck.ErrInvalidJob,
// iamcheck.ErrNotApplicable or ErrInvalidOptions and name the field.
// Render does no I/O.
func Render(job iamcheck.JobConfig, format Format, opts Options) ([]byte, error) {
	if _, err := ParseFormat(string(format)); err != nil {
		return nil, err
	}
	r, err := newResources(job, opts, true)
	if err != nil {
		return nil, err
	}
	switch format {
	case FormatTerraform:
		return marshalJSON(r.terraform())
	case FormatCloudFormationYAML:
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		// Encode through JSON so that raw policies become plain maps.
		doc, err := plain(r.cloudFormation())
		if err != nil {
			return nil, err
		}
		if err := enc.Encode(doc); err != nil {
			return nil, fmt.Errorf("setup: render yaml: %w", err)
		}
		return buf.Bytes(), nil
	}
	return marshalJSON(r.cloudFormation())
}

func marshalJSON(v any) ([]byte, error) {
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("setup: render: %w", err)
	}
	return append(out, '\n'), nil
}

func plain(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("setup: render: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("setup: render: %w", err)
	}
	return integers(out), nil
}

// integers turns JSON numbers into int64 (or float64), so that YAML writes
// 1209600, not "1209600" or 1.2096e+06.
func integers(v any) any {
	return mapLeaves(v, func(leaf any) any {
		n, ok := leaf.(json.Number)
		if !ok {
			return leaf
		}
		if i, err := n.Int64(); err == nil {
			return i
		}
		f, _ := n.Float64()
		return f
	})
}

// mapLeaves replaces, in place, every value of decoded JSON that is not an
// object or an array with f of it.
func mapLeaves(v any, f func(any) any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = mapLeaves(e, f)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = mapLeaves(e, f)
		}
		return x
	}
	return f(v)
}

type obj = map[string]any

func ref(name string) obj          { return obj{"Ref": name} }
func getAtt(name, attr string) obj { return obj{"Fn::GetAtt": []string{name, attr}} }
func compact(p json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, p); err != nil {
		return string(p) // generated policies are valid JSON
	}
	return buf.String()
}

// Logical ids of the CloudFormation resources.
const (
	cfnQueue       = "Queue"
	cfnDLQ         = "DeadLetterQueue"
	cfnQueuePolicy = "QueuePolicy"
	cfnTopic       = "Topic"
	cfnTopicPolicy = "TopicPolicy"
	cfnSubscribe   = "QueueSubscription"
	cfnRule        = "ObjectCreatedRule"
	cfnBucket      = "Bucket"
	cfnRole        = "JobRole"
)

func (r *resources) cloudFormation() obj {
	res := obj{}
	j := r.job
	policies := []any{obj{"PolicyName": "lakerelay-" + string(j.Job), "PolicyDocument": r.identity}}
	if r.opts.DenyInsecureTransport {
		policies = append(policies, obj{"PolicyName": "deny-insecure-transport", "PolicyDocument": denyInsecureTransport})
	}
	res[cfnRole] = obj{"Type": "AWS::IAM::Role", "Properties": obj{"RoleName": r.roleName, "Path": r.rolePath,
		"AssumeRolePolicyDocument": r.trust, "Policies": policies}}
	outputs := obj{"RoleArn": obj{"Value": getAtt(cfnRole, "Arn")}}
	if r.keyPolicy != nil {
		outputs["KeyPolicy"] = obj{"Description": "Statements the KMS key's policy must hold (for the key's administrator)", "Value": compact(r.keyPolicy)}
	}
	if r.queue != "" {
		dlq := obj{"QueueName": r.queue + DeadLetterSuffix, "MessageRetentionPeriod": deadLetterRetention}
		q := obj{"QueueName": r.queue, "RedrivePolicy": obj{"deadLetterTargetArn": getAtt(cfnDLQ, "Arn"), "maxReceiveCount": r.opts.maxReceiveCount()}}
		if r.opts.VisibilityTimeout > 0 {
			q["VisibilityTimeout"] = int(r.opts.VisibilityTimeout / time.Second)
		}
		for k, v := range r.queueEncryption() {
			var val any = v
			if v == "true" {
				val = true
			}
			dlq[k], q[k] = val, val
		}
		res[cfnDLQ] = obj{"Type": "AWS::SQS::Queue", "Properties": dlq}
		res[cfnQueue] = obj{"Type": "AWS::SQS::Queue", "Properties": q}
		res[cfnQueuePolicy] = obj{"Type": "AWS::SQS::QueuePolicy", "Properties": obj{"Queues": []any{ref(cfnQueue)}, "PolicyDocument": r.queuePolicy}}
		outputs["QueueUrl"] = obj{"Value": ref(cfnQueue)}
		outputs["DeadLetterQueueUrl"] = obj{"Value": ref(cfnDLQ)}
		bucket := obj{"BucketName": j.Bucket}
		dependsOn := []string{cfnQueuePolicy}
		n, _ := Notification(j) // j is a valid collect job
		switch {
		case r.topic != "":
			t := obj{"TopicName": r.topic}
			if j.KMSKeyARN != "" {
				t["KmsMasterKeyId"] = j.KMSKeyARN
			}
			res[cfnTopic] = obj{"Type": "AWS::SNS::Topic", "Properties": t}
			res[cfnTopicPolicy] = obj{"Type": "AWS::SNS::TopicPolicy", "Properties": obj{"Topics": []any{ref(cfnTopic)}, "PolicyDocument": r.topicPolicy}}
			res[cfnSubscribe] = obj{"Type": "AWS::SNS::Subscription", "DependsOn": []string{cfnQueuePolicy}, "Properties": obj{"TopicArn": ref(cfnTopic),
				"Protocol": "sqs", "Endpoint": getAtt(cfnQueue, "Arn"), "RawMessageDelivery": r.opts.RawMessageDelivery}}
			bucket["NotificationConfiguration"] = obj{"TopicConfigurations": []any{cfnTarget("Topic", ref(cfnTopic), n.TopicConfigurations[0])}}
			dependsOn = []string{cfnTopicPolicy, cfnSubscribe}
		case r.rule != "":
			res[cfnRule] = obj{"Type": "AWS::Events::Rule", "DependsOn": []string{cfnQueuePolicy}, "Properties": obj{"Name": r.rule, "State": "ENABLED",
				"EventPattern": r.eventPattern(), "Targets": []any{obj{"Id": "lakerelay-queue", "Arn": getAtt(cfnQueue, "Arn")}}}}
			bucket["NotificationConfiguration"] = obj{"EventBridgeConfiguration": obj{"EventBridgeEnabled": true}}
		default:
			bucket["NotificationConfiguration"] = obj{"QueueConfigurations": []any{cfnTarget("Queue", getAtt(cfnQueue, "Arn"), n.QueueConfigurations[0])}}
		}
		res[cfnBucket] = obj{"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "DependsOn": dependsOn, "Properties": bucket}
	}
	return obj{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Description":              fmt.Sprintf("lakerelay %s job: %s (policies by iamcheck.Generate)", j.Job, describe(j)),
		"Resources":                res,
		"Outputs":                  outputs,
	}
}

// cfnTarget is a bucket's queue or topic configuration in CloudFormation's
// spelling.
func cfnTarget(field string, target any, t NotificationTarget) obj {
	c := obj{field: target, "Event": ObjectCreatedEvents}
	if t.Filter != nil {
		rules := []any{}
		for _, fr := range t.Filter.Key.FilterRules {
			rules = append(rules, obj{"Name": fr.Name, "Value": fr.Value})
		}
		c["Filter"] = obj{"S3Key": obj{"Rules": rules}}
	}
	return c
}

func describe(j iamcheck.JobConfig) string {
	s := "s3://" + j.Bucket + "/" + j.Prefix
	switch {
	case j.RuleARN != "":
		s += " via EventBridge"
	case j.TopicARN != "":
		s += " via SNS"
	}
	return s
}

// tfString escapes Terraform template sequences in a literal string.
func tfString(s string) string {
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(s)
}

// Terraform resource addresses.
const (
	tfQueue  = "aws_sqs_queue.queue"
	tfDLQ    = "aws_sqs_queue.dead_letter"
	tfPolicy = "aws_sqs_queue_policy.queue"
	tfTopic  = "aws_sns_topic.topic"
	tfRule   = "aws_cloudwatch_event_rule.object_created"
	tfRole   = "aws_iam_role.job"
)

func tfRef(addr, attr string) string { return "${" + addr + "." + attr + "}" }

func (r *resources) terraform() obj {
	j := r.job
	res := map[string]obj{}
	add := func(addr string, v obj) {
		typ, name, _ := strings.Cut(addr, ".")
		if res[typ] == nil {
			res[typ] = obj{}
		}
		res[typ][name] = v
	}
	add(tfRole, obj{"name": r.roleName, "path": r.rolePath, "assume_role_policy": tfString(compact(r.trust))})
	add("aws_iam_role_policy.job", obj{"name": "lakerelay-" + string(j.Job), "role": tfRef(tfRole, "id"), "policy": tfString(compact(r.identity))})
	if r.opts.DenyInsecureTransport {
		add("aws_iam_role_policy.deny_insecure_transport", obj{"name": "deny-insecure-transport", "role": tfRef(tfRole, "id"), "policy": compact(denyInsecureTransport)})
	}
	outputs := obj{"role_arn": obj{"value": tfRef(tfRole, "arn")}}
	if j.KMSKeyARN != "" {
		add("aws_kms_grant.job", obj{"name": "lakerelay-" + r.roleName, "key_id": j.KMSKeyARN, "grantee_principal": tfRef(tfRole, "arn"), "operations": r.kmsOperations()})
		outputs["key_policy"] = obj{"description": "Statements the KMS key's policy must hold (for the key's administrator)", "value": tfString(compact(r.keyPolicy))}
	}
	if r.queue != "" {
		dlq := obj{"name": r.queue + DeadLetterSuffix, "message_retention_seconds": deadLetterRetention}
		q := obj{"name": r.queue, "redrive_policy": "${jsonencode({deadLetterTargetArn = " + tfDLQ + ".arn, maxReceiveCount = " + strconv.Itoa(r.opts.maxReceiveCount()) + "})}"}
		if r.opts.VisibilityTimeout > 0 {
			q["visibility_timeout_seconds"] = int(r.opts.VisibilityTimeout / time.Second)
		}
		if j.KMSKeyARN != "" {
			dlq["kms_master_key_id"], q["kms_master_key_id"] = j.KMSKeyARN, j.KMSKeyARN
		} else {
			dlq["sqs_managed_sse_enabled"], q["sqs_managed_sse_enabled"] = true, true
		}
		add(tfDLQ, dlq)
		add(tfQueue, q)
		add(tfPolicy, obj{"queue_url": tfRef(tfQueue, "id"), "policy": tfString(compact(r.queuePolicy))})
		outputs["queue_url"] = obj{"value": tfRef(tfQueue, "id")}
		outputs["dead_letter_queue_url"] = obj{"value": tfRef(tfDLQ, "id")}
		notif := obj{"bucket": j.Bucket, "depends_on": []string{tfPolicy}}
		target := obj{"events": []string{ObjectCreatedEvents}}
		if p := r.prefixDir(); p != "" {
			target["filter_prefix"] = p
		}
		switch {
		case r.topic != "":
			t := obj{"name": r.topic}
			if j.KMSKeyARN != "" {
				t["kms_master_key_id"] = j.KMSKeyARN
			}
			add(tfTopic, t)
			add("aws_sns_topic_policy.topic", obj{"arn": tfRef(tfTopic, "arn"), "policy": tfString(compact(r.topicPolicy))})
			add("aws_sns_topic_subscription.queue", obj{"topic_arn": tfRef(tfTopic, "arn"), "protocol": "sqs", "endpoint": tfRef(tfQueue, "arn"),
				"raw_message_delivery": r.opts.RawMessageDelivery, "depends_on": []string{tfPolicy}})
			target["topic_arn"] = tfRef(tfTopic, "arn")
			target["id"] = NotificationID
			notif["topic"] = []any{target}
			notif["depends_on"] = []string{"aws_sns_topic_policy.topic", "aws_sns_topic_subscription.queue"}
		case r.rule != "":
			pattern, _ := json.Marshal(r.eventPattern())
			add(tfRule, obj{"name": r.rule, "event_pattern": tfString(string(pattern))})
			add("aws_cloudwatch_event_target.queue", obj{"rule": tfRef(tfRule, "name"), "target_id": "lakerelay-queue", "arn": tfRef(tfQueue, "arn"),
				"depends_on": []string{tfPolicy}})
			notif["eventbridge"] = true
		default:
			target["queue_arn"] = tfRef(tfQueue, "arn")
			target["id"] = NotificationID
			notif["queue"] = []any{target}
		}
		add("aws_s3_bucket_notification.bucket", notif)
	}
	return obj{"resource": res, "output": outputs}
}

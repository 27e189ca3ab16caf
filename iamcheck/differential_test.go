package iamcheck

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

// The differential test attaches the same policies to MinIO and to
// Evaluate and compares the decisions of real S3 calls. Session policies
// (STS AssumeRole with an inline policy) act as the identity policy; bucket
// policies are set with PutBucketPolicy and exercised with anonymous
// requests, which is where MinIO applies them.

// minioSession is the principal MinIO's AssumeRole creates in testenv.
const minioSession = "arn:aws:sts::123456789012:assumed-role/lakerelay-test/lakerelay-test"

// minioDeviations lists the known places where MinIO decides differently
// from AWS (and so from Evaluate), keyed by "case/op". The test fails when
// a deviation is not listed, and when a listed one does not occur.
var minioDeviations = map[string]string{
	// MinIO decides requests signed with credentials from the IAM (session)
	// policy alone: bucket policies apply only to anonymous requests.
	"session-with-public-bucket-policy/get pub/e.txt": "a bucket policy Allow does not grant to authenticated callers in MinIO",
	"session-with-bucket-deny/get secret/f.txt":       "a bucket policy Deny does not apply to authenticated callers in MinIO",
	// MinIO matches bucket-level actions (ListBucket) against the resource
	// "bucket/", so a statement on "arn:aws:s3:::bucket/*" covers them;
	// AWS matches them against "arn:aws:s3:::bucket" only.
	"listbucket-on-object-arn/list data/":  "MinIO matches ListBucket against bucket/, which bucket/* covers",
	"listbucket-on-object-arn/list other/": "MinIO matches ListBucket against bucket/, which bucket/* covers",
	// MinIO does not implement default values of policy variables
	// (${key, 'default'}): the resource matches nothing.
	"variable-default/get data/a.txt": "MinIO ignores the default of ${aws:PrincipalTag/team, 'data'}",
	// MinIO rejects session policies that use NotAction.
	"notaction/assume-role": "MinIO's AssumeRole refuses a session policy with NotAction (\"empty actions not allowed\")",
}

type s3Op struct {
	name   string
	action string
	key    string // object key, or "" for a bucket operation
	prefix string // s3:prefix for ListBucket
	call   func(ctx context.Context, c *s3.Client, bucket string) error
}

func opGet(key string) s3Op {
	return s3Op{"get " + key, "s3:GetObject", key, "", func(ctx context.Context, c *s3.Client, b string) error {
		o, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String(key)})
		if err == nil {
			o.Body.Close()
		}
		return err
	}}
}

func opPut(key string) s3Op {
	return s3Op{"put " + key, "s3:PutObject", key, "", func(ctx context.Context, c *s3.Client, b string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String(key), Body: strings.NewReader("x")})
		return err
	}}
}

func opDelete(key string) s3Op {
	return s3Op{"delete " + key, "s3:DeleteObject", key, "", func(ctx context.Context, c *s3.Client, b string) error {
		_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String(key)})
		return err
	}}
}

func opList(prefix string) s3Op {
	return s3Op{"list " + prefix, "s3:ListBucket", "", prefix, func(ctx context.Context, c *s3.Client, b string) error {
		_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &b, Prefix: aws.String(prefix)})
		return err
	}}
}

func opListMax(prefix string, max int32) s3Op {
	return s3Op{fmt.Sprintf("list %s max %d", prefix, max), "s3:ListBucket", "", prefix, func(ctx context.Context, c *s3.Client, b string) error {
		_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &b, Prefix: aws.String(prefix), MaxKeys: aws.Int32(max)})
		return err
	}}
}

func opTag(key string) s3Op {
	return s3Op{"tag " + key, "s3:PutObjectTagging", key, "", func(ctx context.Context, c *s3.Client, b string) error {
		_, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String(key),
			Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}})
		return err
	}}
}

var diffObjects = []string{"data/a.txt", "data/sub/b.txt", "home/alice/c.txt", "other/d.txt", "file1.txt", "pub/e.txt", "secret/f.txt"}

// request is the Evaluate form of op, with the context MinIO sets for a
// plain-HTTP request from loopback.
func (op s3Op) request(principal, bucket string) Request {
	res := "arn:aws:s3:::" + bucket
	if op.key != "" {
		res += "/" + op.key
	}
	ctx := map[string][]string{"aws:SecureTransport": {"false"}, "aws:SourceIp": {"127.0.0.1"}}
	if op.action == "s3:ListBucket" {
		ctx["s3:prefix"] = []string{op.prefix}
		if _, m, ok := strings.Cut(op.name, " max "); ok {
			ctx["s3:max-keys"] = []string{m}
		}
	}
	return Request{Principal: principal, Action: op.action, Resource: res, ResourceAccount: "123456789012", Context: ctx}
}

// minioAllowed runs op and reports whether MinIO allowed it: any outcome
// but access denied counts as allowed (a missing key with permission is
// 404).
func minioAllowed(t *testing.T, op s3Op, c *s3.Client, bucket string) bool {
	t.Helper()
	err := op.call(context.Background(), c, bucket)
	if err == nil {
		return true
	}
	var ae smithy.APIError
	var re *awshttp.ResponseError
	if errors.As(err, &ae) && ae.ErrorCode() == "AccessDenied" || errors.As(err, &re) && re.HTTPStatusCode() == 403 {
		return false
	}
	var nf *s3types.NoSuchKey
	if errors.As(err, &nf) {
		return true
	}
	t.Fatalf("%s: unexpected error %v", op.name, err)
	return false
}

func assumeWithPolicy(t *testing.T, m *testenv.MinIO, policy string) (aws.Config, error) {
	t.Helper()
	out, err := sts.NewFromConfig(m.Config(t)).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::123456789012:role/lakerelay-test"), RoleSessionName: aws.String("lakerelay-test"),
		Policy: aws.String(policy)})
	if err != nil {
		return aws.Config{}, err
	}
	c := out.Credentials
	return m.ConfigWith(t, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)), nil
}

type diffCase struct {
	name          string
	rule          string
	session       string // identity (session) policy; "" for anonymous requests
	bucketPolicy  string
	ops           []s3Op
	wantSomeAllow bool // guards against cases where everything is denied for an unrelated reason
	// minioRejects: MinIO refuses the session policy (a listed deviation).
	minioRejects bool
}

func TestDifferentialMinIO(t *testing.T) {
	m := testenv.StartMinIO(t)
	ctx := context.Background()
	root := m.S3(t)
	bucket := m.NewBucket(t)
	homeKey := "home/" + m.AccessKey + "/g.txt"
	for _, k := range append(diffObjects, homeKey) {
		if _, err := root.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(k), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	B := "arn:aws:s3:::" + bucket
	pol := func(stmts string) string { return `{"Version":"2012-10-17","Statement":[` + stmts + `]}` }
	allOps := []s3Op{opGet("data/a.txt"), opGet("data/sub/b.txt"), opGet("other/d.txt"), opGet("file1.txt"), opGet("secret/f.txt"), opGet("pub/e.txt"),
		opPut("data/new.txt"), opPut("other/new.txt"), opDelete("data/gone.txt"), opDelete("other/gone.txt"),
		opList("data/"), opList("other/"), opTag("data/a.txt")}
	cases := []diffCase{
		{name: "get-under-prefix", rule: "resource ARN with * spanning /", session: pol(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"` + B + `/data/*"}`), ops: allOps, wantSomeAllow: true},
		{name: "action-wildcard", rule: "s3:Get* matches GetObject", session: pol(`{"Effect":"Allow","Action":"s3:Get*","Resource":"` + B + `/*"}`), ops: allOps, wantSomeAllow: true},
		{name: "service-wildcard-with-denies", rule: "explicit deny overrides allow",
			session: pol(`{"Effect":"Allow","Action":"s3:*","Resource":["` + B + `","` + B + `/*"]},{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"` + B + `/*"},{"Effect":"Deny","Action":"s3:GetObject","Resource":"` + B + `/secret/*"}`),
			ops:     allOps, wantSomeAllow: true},
		{name: "question-mark", rule: "? matches one character", session: pol(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"` + B + `/file?.txt"}`), ops: allOps, wantSomeAllow: true},
		{name: "name-prefix-wildcard", rule: "data* covers data/sub/...", session: pol(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"` + B + `/data*"}`), ops: allOps, wantSomeAllow: true},
		{name: "list-with-prefix-condition", rule: "StringLike on s3:prefix", session: pol(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"` + B + `","Condition":{"StringLike":{"s3:prefix":"data/*"}}}`), ops: allOps, wantSomeAllow: true},
		{name: "list-deny-stringnotlike", rule: "negated operator in a Deny",
			session: pol(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"` + B + `"},{"Effect":"Deny","Action":"s3:ListBucket","Resource":"` + B + `","Condition":{"StringNotLike":{"s3:prefix":"data/*"}}}`), ops: allOps, wantSomeAllow: true},
		{name: "notresource", rule: "NotResource allows the complement",
			session: pol(`{"Effect":"Allow","Action":"s3:GetObject","NotResource":"` + B + `/secret/*"}`), ops: allOps, wantSomeAllow: true},
		{name: "notaction", rule: "NotAction allows the complement",
			session: pol(`{"Effect":"Allow","NotAction":["s3:DeleteObject","s3:PutObjectTagging"],"Resource":["` + B + `","` + B + `/*"]}`), ops: allOps, minioRejects: true},
		{name: "listbucket-on-object-arn", rule: "bucket-level actions match the bucket ARN, not bucket/*",
			session: pol(`{"Effect":"Allow","Action":["s3:ListBucket","s3:GetObject"],"Resource":"` + B + `/*"}`), ops: allOps, wantSomeAllow: true},
		{name: "secure-transport-required", rule: "Bool aws:SecureTransport true fails over plain HTTP",
			session: pol(`{"Effect":"Allow","Action":"s3:*","Resource":["` + B + `","` + B + `/*"],"Condition":{"Bool":{"aws:SecureTransport":"true"}}}`), ops: allOps},
		{name: "source-ip-loopback", rule: "IpAddress with a CIDR block",
			session: pol(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"` + B + `/*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}`), ops: allOps, wantSomeAllow: true},
		{name: "source-ip-elsewhere", rule: "IpAddress outside the block",
			session: pol(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"` + B + `/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`), ops: allOps},
		{name: "deny-not-ip", rule: "NotIpAddress in a Deny",
			session: pol(`{"Effect":"Allow","Action":"s3:*","Resource":["` + B + `","` + B + `/*"]},{"Effect":"Deny","Action":"s3:*","Resource":"` + B + `/secret/*","Condition":{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}`), ops: allOps, wantSomeAllow: true},
		{name: "other-bucket-only", rule: "resource of another bucket", session: pol(`{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::not-` + bucket + `","arn:aws:s3:::not-` + bucket + `/*"]}`), ops: allOps},
		{name: "username-variable", rule: "${aws:username} in Resource (MinIO sets it to the parent user of a session)",
			session: pol(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"` + B + `/home/${aws:username}/*"}`),
			ops:     []s3Op{opGet(homeKey), opGet("home/alice/c.txt"), opGet("data/a.txt")}, wantSomeAllow: true},
		{name: "username-variable-in-condition", rule: "${aws:username} in a condition value",
			session: pol(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"` + B + `","Condition":{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}}`),
			ops:     []s3Op{opList("home/" + m.AccessKey + "/"), opList("home/alice/")}, wantSomeAllow: true},
		{name: "variable-default", rule: "${key, 'default'} when the key is missing",
			session: pol(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"` + B + `/${aws:PrincipalTag/team, 'data'}/*"}`),
			ops:     []s3Op{opGet("data/a.txt"), opGet("other/d.txt")}},
		{name: "max-keys-numeric", rule: "NumericLessThanEquals on s3:max-keys",
			session: pol(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"` + B + `","Condition":{"NumericLessThanEquals":{"s3:max-keys":"10"}}}`),
			ops:     []s3Op{opListMax("data/", 5), opListMax("data/", 100)}, wantSomeAllow: true},
		{name: "prefix-stringequals", rule: "StringEquals on s3:prefix is exact",
			session: pol(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"` + B + `","Condition":{"StringEquals":{"s3:prefix":["data/","pub/"]}}}`),
			ops:     []s3Op{opList("data/"), opList("pub/"), opList("data/sub/"), opList("other/")}, wantSomeAllow: true},
		{name: "prefix-null-false", rule: "Null false requires the key",
			session: pol(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"` + B + `","Condition":{"Null":{"s3:prefix":"false"}}}`),
			ops:     []s3Op{opList("data/")}, wantSomeAllow: true},
		{name: "anonymous-public-prefix", rule: "bucket policy Principal * for anonymous callers",
			bucketPolicy: pol(`{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:GetObject"],"Resource":["` + B + `/pub/*"]}`), ops: allOps, wantSomeAllow: true},
		{name: "anonymous-allow-and-deny", rule: "explicit deny in a bucket policy",
			bucketPolicy: pol(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"` + B + `/*"},{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"` + B + `/secret/*"}`), ops: allOps, wantSomeAllow: true},
		{name: "anonymous-list-prefix", rule: "bucket policy condition on s3:prefix",
			bucketPolicy: pol(`{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"` + B + `","Condition":{"StringLike":{"s3:prefix":"pub/*"}}}`), ops: append(allOps, opList("pub/")), wantSomeAllow: true},
		{name: "anonymous-insecure-transport", rule: "Bool aws:SecureTransport false matches plain HTTP",
			bucketPolicy: pol(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"` + B + `/data/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`), ops: allOps, wantSomeAllow: true},
		{name: "anonymous-ip", rule: "IpAddress in a bucket policy",
			bucketPolicy: pol(`{"Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:PutObject"],"Resource":"` + B + `/data/*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.1/32"}}}`), ops: allOps, wantSomeAllow: true},
		{name: "anonymous-account-principal", rule: "an account principal does not cover anonymous callers",
			bucketPolicy: pol(`{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:root"]},"Action":"s3:GetObject","Resource":"` + B + `/*"}`), ops: allOps},
		{name: "session-with-public-bucket-policy", rule: "same account: a resource policy allow suffices",
			session:      pol(`{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}`),
			bucketPolicy: pol(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"` + B + `/pub/*"}`), ops: []s3Op{opGet("pub/e.txt"), opGet("data/a.txt")}},
		{name: "session-with-bucket-deny", rule: "an explicit deny in the bucket policy overrides the identity allow",
			session:      pol(`{"Effect":"Allow","Action":"s3:*","Resource":["` + B + `","` + B + `/*"]}`),
			bucketPolicy: pol(`{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"` + B + `/secret/*"}`), ops: []s3Op{opGet("secret/f.txt"), opGet("data/a.txt")}, wantSomeAllow: true},
	}
	seen := map[string]bool{}
	agreements := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.bucketPolicy != "" {
				if _, err := root.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: aws.String(c.bucketPolicy)}); err != nil {
					t.Fatalf("PutBucketPolicy: %v", err)
				}
			} else if _, err := root.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: &bucket}); err != nil {
				t.Fatalf("DeleteBucketPolicy: %v", err)
			}
			var identity []*Policy
			var resource *Policy
			principal := ""
			var cfg aws.Config
			var extra map[string][]string
			if c.session != "" {
				// MinIO sets aws:username to the session's parent user (AWS
				// sets none for role sessions); Evaluate gets the context
				// MinIO uses.
				extra = map[string][]string{"aws:username": {m.AccessKey}}
				identity = []*Policy{mustParse(t, c.session)}
				principal = minioSession
				var err error
				cfg, err = assumeWithPolicy(t, m, c.session)
				if c.minioRejects {
					key := c.name + "/assume-role"
					if err == nil {
						t.Fatalf("%s: MinIO accepted the session policy; remove the deviation", key)
					}
					if _, listed := minioDeviations[key]; !listed {
						t.Fatalf("%s: not listed as a deviation", key)
					}
					seen[key] = true
					// Evaluate still decides the policy; check it parses clean.
					if _, fs, _ := ParsePolicy([]byte(c.session)); len(fs) > 0 {
						t.Fatalf("findings: %+v", fs)
					}
					return
				}
				if err != nil {
					t.Fatalf("MinIO rejected the session policy: %v", err)
				}
			} else {
				cfg = m.Config(t)
				cfg.Credentials = aws.AnonymousCredentials{}
			}
			if c.bucketPolicy != "" {
				resource = mustParse(t, c.bucketPolicy)
			}
			client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
			someAllow := false
			for _, op := range c.ops {
				got := minioAllowed(t, op, client, bucket)
				req := op.request(principal, bucket)
				for k, v := range extra {
					req.Context[k] = v
				}
				want := Evaluate(req, identity, resource)
				key := c.name + "/" + op.name
				if got == want.Allowed() {
					agreements++
					someAllow = someAllow || got
					if _, listed := minioDeviations[key]; listed {
						t.Errorf("%s: listed as a MinIO deviation but MinIO agrees (%v)", key, got)
					}
					continue
				}
				seen[key] = true
				if _, listed := minioDeviations[key]; !listed {
					t.Errorf("%s (%s): MinIO allowed=%v, Evaluate says %s: %s", key, c.rule, got, want.Decision, want.Reason)
				}
			}
			if c.wantSomeAllow && !someAllow {
				t.Errorf("no operation was allowed by both: the case tests nothing")
			}
		})
	}
	for key, why := range minioDeviations {
		if !seen[key] {
			t.Errorf("listed deviation %s (%s) did not occur", key, why)
		}
	}
	if agreements < 150 {
		t.Errorf("only %d agreeing decisions", agreements)
	}
	t.Logf("differential: %d agreeing decisions, %d documented MinIO deviations", agreements, len(minioDeviations))
}

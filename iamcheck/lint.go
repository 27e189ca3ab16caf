package iamcheck

import (
	"fmt"
	"strings"
)

// Lint checks p as a policy of kind, beyond the grammar findings
// ParsePolicy returns: elements the kind forbids or needs, over-broad
// grants, and the connector rules: no wildcard resource where the job names
// the bucket, queue or key; a trust policy for a third party needs
// sts:ExternalId (and sts:TagSession when the job tags sessions); a queue,
// topic or key policy for an AWS service needs aws:SourceArn and
// aws:SourceAccount; a bucket policy should deny requests without
// aws:SecureTransport and, when the job sets an object ACL, require it.
// job may be nil; the job-specific lints are then skipped. Where possible
// the lints evaluate requests (with Evaluate) rather than match text.
func Lint(p *Policy, kind PolicyKind, job *JobConfig) []Finding {
	l := &linter{p: p, kind: kind, job: job}
	if job != nil && job.Validate() != nil {
		l.job = nil
	}
	switch kind {
	case KindIdentity:
		l.identity()
	case KindTrust:
		l.trust()
	case KindQueue, KindTopic, KindKMS:
		l.resourcePolicy()
		l.servicePrincipals()
	case KindBucket:
		l.resourcePolicy()
		l.bucket()
	default:
		l.add(SeverityError, "unknown-kind", "", "unknown policy kind %q", kind)
	}
	return l.findings
}

type linter struct {
	p        *Policy
	kind     PolicyKind
	job      *JobConfig
	findings []Finding
}

func (l *linter) add(sev Severity, code, path, format string, args ...any) {
	l.findings = append(l.findings, Finding{Severity: sev, Code: code, Path: path, Message: fmt.Sprintf(format, args...)})
}

func (l *linter) has(code string) bool {
	for _, f := range l.findings {
		if f.Code == code {
			return true
		}
	}
	return false
}

func hasCondKey(s *Statement, key string) bool {
	for _, c := range s.Conditions {
		if strings.EqualFold(c.Key, key) {
			return true
		}
	}
	return false
}

func (l *linter) identity() {
	for _, s := range l.p.Statements {
		if s.Principal != nil {
			l.add(SeverityError, "principal-in-identity-policy", s.Path+".Principal", "identity policies may not have a Principal; the principal is the identity the policy is attached to")
		}
		if s.NotPrincipal != nil {
			l.add(SeverityError, "principal-in-identity-policy", s.Path+".NotPrincipal", "identity policies may not have a NotPrincipal")
		}
		if s.Resource == nil && s.NotResource == nil {
			l.add(SeverityError, "missing-resource", s.Path, "identity policy statements need Resource or NotResource")
		}
		if s.Effect != Allow {
			continue
		}
		if (containsExact(s.Action, "*") || s.NotAction != nil) && (containsExact(s.Resource, "*") || s.NotResource != nil) && len(s.Conditions) == 0 {
			l.add(SeveritySecurityWarning, "full-access", s.Path, "the statement allows (nearly) every action on every resource")
		} else if s.NotAction != nil {
			l.add(SeverityWarning, "allow-with-notaction", s.Path+".NotAction", "Allow with NotAction grants every action not listed, including those added to AWS later")
		}
		if l.job != nil {
			l.wildcardResources(s)
		}
	}
	if l.job != nil {
		for _, s := range l.p.Statements {
			if s.Effect == Allow && actionsTouch(s, "s3:") && !hasCondKey(s, "aws:SecureTransport") {
				l.add(SeveritySuggestion, "missing-secure-transport", s.Path,
					"add \"Condition\": {\"Bool\": {\"aws:SecureTransport\": \"true\"}} so that object access needs TLS")
			}
		}
	}
}

func containsExact(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// actionsTouch reports whether an Allow statement's actions include some
// action of the service prefix (for example "s3:").
func actionsTouch(s *Statement, prefix string) bool {
	probe := map[string]string{"s3:": "s3:GetObject", "sqs:": "sqs:ReceiveMessage", "kms:": "kms:Decrypt", "sns:": "sns:Publish"}[prefix]
	if s.NotAction != nil {
		return !anyGlob(s.notActions, probe)
	}
	for _, a := range s.Action {
		if strings.HasPrefix(strings.ToLower(a), prefix) || a == "*" {
			return true
		}
	}
	return false
}

// nearby returns resources close to the job's own that a least-privilege
// policy must not cover, with the action to test them with.
func (l *linter) nearby() []struct{ action, resource, what string } {
	j := l.job
	var out []struct{ action, resource, what string }
	add := func(action, resource, what string) {
		out = append(out, struct{ action, resource, what string }{action, resource, what})
	}
	act := "s3:PutObject"
	if j.Job == JobCollect {
		act = "s3:GetObject"
	}
	if j.Bucket != "" {
		add(act, "arn:aws:s3:::"+j.Bucket+"-other/"+j.prefixDir()+"x", "another bucket")
		add(act, "arn:aws:s3:::other-"+j.Bucket+"/"+j.prefixDir()+"x", "another bucket")
		if j.Prefix != "" {
			add(act, "arn:aws:s3:::"+j.Bucket+"/other-"+j.prefixDir()+"x", "keys outside the prefix")
		}
	}
	if q, ok := parseARN(j.QueueARN); ok {
		add("sqs:ReceiveMessage", j.QueueARN+"-other", "another queue")
		add("sqs:ReceiveMessage", ARN{q.Partition, q.Service, q.Region, "999999999999", q.Resource}.String(), "a queue in another account")
	}
	if k, ok := parseARN(j.KMSKeyARN); ok {
		add("kms:Decrypt", ARN{k.Partition, k.Service, k.Region, k.Account, "key/00000000-0000-0000-0000-000000000000"}.String(), "another key")
	}
	return out
}

func (l *linter) wildcardResources(s *Statement) {
	for i, r := range s.Resource {
		ap := newARNPattern(r, false)
		for _, n := range l.nearby() {
			if !anyGlob(s.actions, n.action) && !(s.NotAction != nil && !anyGlob(s.notActions, n.action)) {
				continue
			}
			if m, _ := ap.match(n.resource, nil); m {
				l.add(SeveritySecurityWarning, "wildcard-resource", fmt.Sprintf("%s.Resource[%d]", s.Path, i),
					"%q also covers %s (%s); name the job's resources exactly", r, n.what, n.resource)
				break
			}
		}
	}
}

// resourcePolicy holds the checks shared by bucket, queue, topic and key
// policies.
func (l *linter) resourcePolicy() {
	for _, s := range l.p.Statements {
		if s.Principal == nil && s.NotPrincipal == nil {
			l.add(SeverityError, "missing-principal", s.Path, "resource policy statements need a Principal")
		}
		if s.Resource == nil && s.NotResource == nil {
			l.add(SeverityError, "missing-resource", s.Path, "%s policy statements need a Resource", l.kind)
		}
		if s.Effect == Allow && s.Principal != nil && s.Principal.everyone() && len(s.Conditions) == 0 {
			l.add(SeveritySecurityWarning, "public-access", s.Path+".Principal", "the statement allows everyone, including anonymous callers, without any condition")
		}
	}
}

// servicePrincipals checks that grants to AWS services are tied to the
// job's source: S3 needs aws:SourceArn and aws:SourceAccount (bucket names
// are global and can be re-created in another account).
func (l *linter) servicePrincipals() {
	for _, s := range l.p.Statements {
		if s.Effect != Allow || s.Principal == nil {
			continue
		}
		services := s.Principal.Service
		if s.Principal.everyone() {
			services = append(services, "*")
		}
		for _, svc := range services {
			isS3 := strings.EqualFold(svc, "s3.amazonaws.com") || svc == "*"
			arn, acct := hasCondKey(s, "aws:SourceArn"), hasCondKey(s, "aws:SourceAccount")
			switch {
			case isS3 && !arn:
				l.add(SeveritySecurityWarning, "missing-source-arn", s.Path,
					"grants to %s need an ArnLike aws:SourceArn condition naming the bucket, or any bucket's notifications are accepted", svcName(svc))
			case isS3 && !acct:
				l.add(SeveritySecurityWarning, "missing-source-account", s.Path,
					"grants to %s need a StringEquals aws:SourceAccount condition: bucket ARNs carry no account, so a same-named bucket elsewhere would match", svcName(svc))
			case !isS3 && !arn && !acct:
				l.add(SeveritySecurityWarning, "missing-source-arn", s.Path,
					"grants to %s should be limited with aws:SourceArn or aws:SourceAccount", svc)
			}
		}
	}
	if l.job == nil || l.job.Job != JobCollect {
		return
	}
	// Semantic check: another bucket, or the same bucket name in another
	// account, must not be able to send.
	for _, r := range Requirements(*l.job) {
		if r.Governs != l.kind || r.Principal != "s3.amazonaws.com" {
			continue
		}
		for _, alt := range []struct{ key, value, what string }{
			{"aws:SourceArn", "arn:aws:s3:::" + l.job.Bucket + "-other", "another bucket"},
			{"aws:SourceAccount", "999999999999", "another account"},
		} {
			req := r.Request
			req.Context = cloneContext(r.Context)
			req.Context[alt.key] = []string{alt.value}
			if res := Evaluate(req, nil, l.p); res.Allowed() {
				l.add(SeveritySecurityWarning, "allows-other-source", refPaths(res.Statements),
					"S3 notifications from %s (%s %s) would be accepted", alt.what, alt.key, alt.value)
			}
		}
	}
}

func svcName(s string) string {
	if s == "*" {
		return "every principal (\"*\")"
	}
	return s
}

func refPaths(refs []StatementRef) string {
	if len(refs) == 0 {
		return ""
	}
	return refs[0].Statement
}

func cloneContext(c map[string][]string) map[string][]string {
	out := make(map[string][]string, len(c)+1)
	for k, v := range c {
		out[k] = v
	}
	return out
}

func (l *linter) bucket() {
	enforced := false
	for _, s := range l.p.Statements {
		for _, c := range s.Conditions {
			if !strings.EqualFold(c.Key, "aws:SecureTransport") || c.op.family != famBool {
				continue
			}
			if s.Effect == Deny && containsFold(c.Values, "false") {
				enforced = true
			}
		}
	}
	if !enforced {
		l.add(SeverityWarning, "missing-secure-transport", "Statement",
			"add a statement that denies s3:* on the bucket and its objects when aws:SecureTransport is false")
	}
	if l.job == nil || l.job.RoleARN == "" {
		return
	}
	for _, r := range Requirements(*l.job) {
		if r.Governs != KindBucket {
			continue
		}
		if l.job.ObjectACL != "" && r.Action == "s3:PutObject" {
			req := r.Request
			req.Context = cloneContext(r.Context)
			delete(req.Context, "s3:x-amz-acl")
			if res := resourceGrants(req, l.p); res.Allowed() {
				l.add(SeverityWarning, "acl-not-required", refPaths(res.Statements),
					"the job writes with the %s ACL, but the bucket policy also accepts objects without it; require it with StringEquals s3:x-amz-acl", l.job.ObjectACL)
			}
		}
		req := r.Request
		req.Context = cloneContext(r.Context)
		req.Context["aws:SecureTransport"] = []string{"false"}
		if res := resourceGrants(req, l.p); res.Allowed() && enforced {
			l.add(SeverityWarning, "missing-secure-transport", refPaths(res.Statements), "%s without TLS is still allowed", r.Action)
		}
	}
}

func containsFold(list []string, v string) bool {
	for _, s := range list {
		if strings.EqualFold(s, v) {
			return true
		}
	}
	return false
}

// allowAll stands for the identity side of a principal whose own policies
// iamcheck cannot see (a third party's, or the job role's when only a
// resource policy is checked).
var allowAll = func() *Policy {
	p, _, _ := ParsePolicy([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`))
	p.Name = "assumed identity policy"
	return p
}()

// resourceGrants evaluates req as if the principal's identity policies
// allowed everything where they cannot decide alone (across accounts), so
// that the result shows what the resource policy itself grants.
func resourceGrants(req Request, p *Policy) Result {
	pr := parsePrincipal(req.Principal)
	acct := req.ResourceAccount
	if acct == "" {
		acct = pr.account
	}
	if pr.kind == principalAWS && pr.account == acct {
		return Evaluate(req, nil, p)
	}
	return Evaluate(req, []*Policy{allowAll}, p)
}

func (l *linter) trust() {
	roleAccount := ""
	if l.job != nil {
		roleAccount = l.job.roleAccount()
	}
	for _, s := range l.p.Statements {
		if s.NotPrincipal != nil {
			l.add(SeverityError, "notprincipal-in-trust-policy", s.Path+".NotPrincipal", "trust policies may not use NotPrincipal")
		}
		if s.Principal == nil && s.NotPrincipal == nil {
			l.add(SeverityError, "missing-principal", s.Path, "trust policy statements need a Principal")
		}
		if s.Resource != nil || s.NotResource != nil {
			l.add(SeverityError, "resource-in-trust-policy", s.Path, "trust policies may not have Resource or NotResource; they apply to the role")
		}
		for i, a := range s.Action {
			if !strings.HasPrefix(strings.ToLower(a), "sts:") && a != "*" {
				l.add(SeverityError, "invalid-trust-action", fmt.Sprintf("%s.Action[%d]", s.Path, i), "trust policies only allow sts actions, got %q", a)
			}
		}
		if s.Effect != Allow || s.Principal == nil {
			continue
		}
		if s.Principal.everyone() && len(s.Conditions) == 0 {
			l.add(SeveritySecurityWarning, "public-trust", s.Path+".Principal", "anyone may assume this role")
			continue
		}
		for i, e := range s.Principal.AWS {
			pr := parsePrincipal(e)
			if e == "*" || pr.kind != principalAWS || (roleAccount != "" && pr.account == roleAccount) {
				continue
			}
			if hasCondKey(s, "sts:ExternalId") {
				continue
			}
			msg := "principal %s is in another account; require \"StringEquals\": {\"sts:ExternalId\": ...} (the confused deputy guard for third parties)"
			if roleAccount == "" {
				msg = "if principal %s is a third party, require \"StringEquals\": {\"sts:ExternalId\": ...} (the confused deputy guard)"
			}
			l.add(SeveritySecurityWarning, "missing-external-id", fmt.Sprintf("%s.Principal.AWS[%d]", s.Path, i), msg, e)
		}
	}
	if l.job == nil || l.job.TrustedPrincipal == "" {
		return
	}
	for _, r := range Requirements(*l.job) {
		if r.Governs != KindTrust {
			continue
		}
		res := Evaluate(r.Request, []*Policy{allowAll}, l.p)
		switch {
		case res.Allowed():
		case r.Action == "sts:TagSession":
			l.add(SeverityError, "missing-tag-session", "Statement", "the job passes session tags, so the trust policy must allow sts:TagSession for %s: %s", r.Principal, res.Reason)
		default:
			l.add(SeverityError, "trust-denies-job", "Statement", "%s cannot assume the role: %s", r.Principal, res.Reason)
		}
		if l.job.ExternalID != "" && r.Action == "sts:AssumeRole" && !l.has("missing-external-id") {
			req := r.Request
			req.Context = map[string][]string{}
			if res := Evaluate(req, []*Policy{allowAll}, l.p); res.Allowed() {
				l.add(SeveritySecurityWarning, "missing-external-id", refPaths(res.Statements), "%s can assume the role without the external id", r.Principal)
			}
		}
	}
}

package iamcheck

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Request is one API request to evaluate.
type Request struct {
	// Principal is who makes the request: an IAM ARN (user, role,
	// assumed-role session, federated user, account root
	// "arn:aws:iam::123456789012:root" or a bare account id), a service
	// principal such as "s3.amazonaws.com" (which belongs to no account, so
	// only a resource policy can allow it), or "" for an anonymous request.
	Principal string `json:"principal"`
	// Action, for example "s3:PutObject" (matched case-insensitively).
	Action string `json:"action"`
	// Resource ARN, or "*" for actions without a resource.
	Resource string `json:"resource"`
	// ResourceAccount owns the resource. Needed for ARNs without an account
	// (S3); when empty the ARN's account is used, and failing that the
	// resource is taken to be in the principal's account.
	ResourceAccount string `json:"resource_account,omitempty"`
	// Context holds the request's condition keys (names are
	// case-insensitive), for example "aws:SourceAccount" or "aws:TagKeys".
	// Nothing is derived: give every key the policies test, including
	// aws:username or aws:PrincipalArn. Evaluate does not modify it.
	Context map[string][]string `json:"context,omitempty"`
}

// UnmarshalJSON decodes a request whose context values are strings,
// numbers, booleans or arrays of them. Unknown fields are an error, so that
// a misspelt "principal" is not taken for an anonymous caller.
func (r *Request) UnmarshalJSON(data []byte) error {
	var raw struct {
		Principal       string                     `json:"principal"`
		Action          string                     `json:"action"`
		Resource        string                     `json:"resource"`
		ResourceAccount string                     `json:"resource_account"`
		Context         map[string]json.RawMessage `json:"context"`
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("iamcheck: request: %w", err)
	}
	*r = Request{Principal: raw.Principal, Action: raw.Action, Resource: raw.Resource, ResourceAccount: raw.ResourceAccount}
	if len(raw.Context) > 0 {
		r.Context = make(map[string][]string, len(raw.Context))
	}
	for k, v := range raw.Context {
		vals, err := contextValues(v)
		if err != nil {
			return fmt.Errorf("iamcheck: request: context %q: %w", k, err)
		}
		r.Context[k] = vals
	}
	return nil
}

func contextValues(v json.RawMessage) ([]string, error) {
	var x any
	dec := json.NewDecoder(strings.NewReader(string(v)))
	dec.UseNumber()
	if err := dec.Decode(&x); err != nil {
		return nil, err
	}
	scalar := func(e any) (string, error) {
		switch e := e.(type) {
		case string:
			return e, nil
		case json.Number:
			return e.String(), nil
		case bool:
			if e {
				return "true", nil
			}
			return "false", nil
		}
		return "", fmt.Errorf("value must be a string, number, boolean or an array of them, got %s", jsonType(e))
	}
	if list, ok := x.([]any); ok {
		out := make([]string, 0, len(list))
		for _, e := range list {
			s, err := scalar(e)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := scalar(x)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

// Decision is the outcome of an evaluation.
type Decision string

// Decisions.
const (
	DecisionAllow        Decision = "allow"
	DecisionExplicitDeny Decision = "explicit_deny"
	DecisionImplicitDeny Decision = "implicit_deny"
)

// StatementRef names a statement that decided (or, for an implicit deny,
// partly decided) a result.
type StatementRef struct {
	// Policy is the policy's Name, or "identity[i]" / "resource".
	Policy string `json:"policy"`
	// Statement is the statement's JSON path ("Statement[1]").
	Statement string `json:"statement"`
	Sid       string `json:"sid,omitempty"`
	Effect    Effect `json:"effect"`
}

// Result is the outcome of Evaluate.
type Result struct {
	Decision Decision `json:"decision"`
	// Statements that decided: every matching Deny for an explicit deny,
	// every matching Allow for an allow; for an implicit deny the Allows
	// that matched on one side of a cross-account request.
	Statements []StatementRef `json:"statements"`
	// Reason explains the decision in one sentence.
	Reason string `json:"reason"`
}

// Allowed reports whether the decision is DecisionAllow.
func (r Result) Allowed() bool { return r.Decision == DecisionAllow }

// Evaluate decides req the way AWS does for identity-based and
// resource-based policies (IAM User Guide, "Policy evaluation logic" and
// "Cross-account policy evaluation logic"):
//
//   - every request is implicitly denied by default;
//   - an explicit Deny in any policy wins over every Allow;
//   - within one account an Allow in an identity policy or in the resource
//     policy suffices;
//   - across accounts (the principal's account differs from the resource's)
//     both an identity policy and the resource policy must allow;
//   - a service principal or an anonymous caller has no identity policies,
//     so only the resource policy can allow it;
//   - a resource policy that names an account ("123456789012" or
//     "arn:aws:iam::123456789012:root") grants to the account, not to its
//     users and roles: their identity policies must allow too;
//   - a role trust policy (sts:* on a role) and a KMS key policy must allow
//     the principal, or its account, even within one account.
//
// identity holds the principal's identity policies (ignored for service
// principals and anonymous callers); resource is the resource's policy
// (bucket, queue, topic or key policy, or a role's trust policy for
// sts:AssumeRole), or nil. Permissions boundaries, SCPs and session policies
// are not modelled; pass a session policy as an identity policy only when
// the principal has no other restriction. Evaluate does no I/O and is safe
// for concurrent use.
func Evaluate(req Request, identity []*Policy, resource *Policy) Result {
	ctx := make(reqContext, len(req.Context))
	for k, v := range req.Context {
		lk := strings.ToLower(k)
		if prev, dup := ctx[lk]; dup {
			// Keys that differ only in case are one key.
			v = append(append([]string{}, prev...), v...)
		}
		ctx[lk] = v
	}
	pr := parsePrincipal(req.Principal)
	resAccount := req.ResourceAccount
	if resAccount == "" {
		if a, ok := parseARN(req.Resource); ok && a.Account != "" {
			resAccount = a.Account
		} else {
			resAccount = pr.account
		}
	}

	var denies, idAllows, resAllows, delegatedAllows []StatementRef
	var miss nearMiss
	if pr.kind == principalAWS {
		for i, p := range identity {
			if p == nil {
				continue
			}
			name := p.Name
			if name == "" {
				name = fmt.Sprintf("identity[%d]", i)
			}
			for _, s := range p.Statements {
				if m, _ := s.matches(&req, ctx, nil, false, &miss, name); !m {
					continue
				}
				ref := StatementRef{Policy: name, Statement: s.Path, Sid: s.Sid, Effect: s.Effect}
				if s.Effect == Deny {
					denies = append(denies, ref)
				} else {
					idAllows = append(idAllows, ref)
				}
			}
		}
	}
	if resource != nil {
		name := resource.Name
		if name == "" {
			name = "resource"
		}
		for _, s := range resource.Statements {
			m, delegated := s.matches(&req, ctx, &pr, true, &miss, name)
			if !m {
				continue
			}
			ref := StatementRef{Policy: name, Statement: s.Path, Sid: s.Sid, Effect: s.Effect}
			switch {
			case s.Effect == Deny:
				denies = append(denies, ref)
			case delegated:
				delegatedAllows = append(delegatedAllows, ref)
			default:
				resAllows = append(resAllows, ref)
			}
		}
	}
	return decide(&req, &pr, resAccount, denies, idAllows, resAllows, delegatedAllows, &miss)
}

// resourcePolicyRequired reports whether the resource's own policy must
// allow even within one account: role trust policies and KMS key policies
// (IAM User Guide, "Policy evaluation for requests within a single account").
func resourcePolicyRequired(req *Request) bool {
	arn, ok := parseARN(req.Resource)
	if !ok {
		return false
	}
	return arn.Service == "kms" ||
		arn.Service == "iam" && strings.HasPrefix(arn.Resource, "role/") && strings.HasPrefix(strings.ToLower(req.Action), "sts:")
}

func decide(req *Request, pr *principalInfo, resAccount string, denies, idAllows, resAllows, delegatedAllows []StatementRef, miss *nearMiss) Result {
	what := fmt.Sprintf("%s on %s", req.Action, req.Resource)
	if len(denies) > 0 {
		return Result{Decision: DecisionExplicitDeny, Statements: denies,
			Reason: fmt.Sprintf("%s is explicitly denied by %s; an explicit deny overrides every allow", what, refList(denies))}
	}
	join := func(lists ...[]StatementRef) []StatementRef {
		var out []StatementRef
		for _, l := range lists {
			out = append(out, l...)
		}
		return out
	}
	sameAccount := pr.kind == principalAWS && pr.account == resAccount
	id := len(idAllows) > 0
	res := len(resAllows) > 0
	del := len(delegatedAllows) > 0
	switch {
	case pr.kind != principalAWS:
		if res {
			return Result{Decision: DecisionAllow, Statements: resAllows,
				Reason: fmt.Sprintf("%s by %s is allowed by the resource policy (%s); it has no identity policies", what, pr.describe(), refList(resAllows))}
		}
	case sameAccount && resourcePolicyRequired(req):
		if res || (del && id) {
			all := join(idAllows, resAllows, delegatedAllows)
			return Result{Decision: DecisionAllow, Statements: all,
				Reason: fmt.Sprintf("%s is allowed by %s and no statement denies it", what, refList(all))}
		}
		if id {
			return Result{Decision: DecisionImplicitDeny, Statements: idAllows,
				Reason: fmt.Sprintf("%s is allowed by %s, but a role trust policy or KMS key policy must itself allow the principal (or its account), even within one account", what, refList(idAllows))}
		}
	case sameAccount:
		if id || res {
			all := join(idAllows, resAllows, delegatedAllows)
			return Result{Decision: DecisionAllow, Statements: all,
				Reason: fmt.Sprintf("%s is allowed by %s and no statement denies it", what, refList(all))}
		}
		if del {
			return Result{Decision: DecisionImplicitDeny, Statements: delegatedAllows,
				Reason: fmt.Sprintf("the resource policy (%s) allows %s only through the account principal, which delegates to the account's identity policies, and none of them allows it", refList(delegatedAllows), what)}
		}
	default: // cross-account
		if id && (res || del) {
			all := join(idAllows, resAllows, delegatedAllows)
			return Result{Decision: DecisionAllow, Statements: all,
				Reason: fmt.Sprintf("cross-account %s is allowed by both the identity policy and the resource policy (%s)", what, refList(all))}
		}
		if id {
			return Result{Decision: DecisionImplicitDeny, Statements: idAllows,
				Reason: fmt.Sprintf("%s is allowed by %s, but the resource is in account %s, not the principal's account %s, and no resource policy statement allows it (cross-account access needs both)",
					what, refList(idAllows), orUnknown(resAccount), pr.account)}
		}
		if res || del {
			all := join(resAllows, delegatedAllows)
			return Result{Decision: DecisionImplicitDeny, Statements: all,
				Reason: fmt.Sprintf("%s is allowed by the resource policy (%s), but the principal is in account %s, not the resource's account %s, and none of its identity policies allows it (cross-account access needs both)",
					what, refList(all), pr.account, orUnknown(resAccount))}
		}
	}
	reason := fmt.Sprintf("no statement allows %s for %s (implicit deny)", what, pr.describe())
	if m := miss.String(); m != "" {
		reason += "; closest: " + m
	}
	return Result{Decision: DecisionImplicitDeny, Statements: []StatementRef{}, Reason: reason}
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

func refList(refs []StatementRef) string {
	parts := make([]string, 0, len(refs))
	for _, r := range refs {
		s := r.Policy + " " + r.Statement
		if r.Sid != "" {
			s += fmt.Sprintf(" (Sid %q)", r.Sid)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// nearMiss remembers the statement that came closest to matching, to
// explain an implicit deny. Its text is built only when it is reported.
type nearMiss struct {
	stage  int
	policy string
	s      *Statement
	cond   *Condition
	ctx    reqContext
	pr     *principalInfo
}

func (n *nearMiss) note(stage int, policy string, s *Statement, c *Condition, ctx reqContext, pr *principalInfo) {
	if stage <= n.stage {
		return
	}
	*n = nearMiss{stage: stage, policy: policy, s: s, cond: c, ctx: ctx, pr: pr}
}

func (n *nearMiss) String() string {
	if n.s == nil {
		return ""
	}
	ref := n.policy + " " + n.s.Path
	if n.s.Sid != "" {
		ref += fmt.Sprintf(" (Sid %q)", n.s.Sid)
	}
	switch n.stage {
	case stageAction:
		return ref + " matches the action but not the resource"
	case stageResource:
		return ref + " matches the action and resource but not the principal " + n.pr.describe()
	}
	c := n.cond
	if !c.op.valid {
		return ref + fmt.Sprintf(" matches the action and resource but uses the unknown condition operator %q", c.Operator)
	}
	why := ref + fmt.Sprintf(" matches the action and resource but its condition %s %s is not met", c.Operator, c.Key)
	if _, ok := n.ctx[c.lkey]; !ok {
		why += " (the key is missing from the request)"
	}
	return why
}

const (
	stageAction = iota + 1
	stageResource
	stageCondition
)

// matches reports whether statement s applies to req. pr is nil for identity
// policies (their statements have no principal); resourceSide says whether a
// missing Resource element means "the resource this policy is attached to".
func (s *Statement) matches(req *Request, ctx reqContext, pr *principalInfo, resourceSide bool, miss *nearMiss, policy string) (match, delegated bool) {
	if s.Effect != Allow && s.Effect != Deny {
		return false, false
	}
	switch {
	case s.Action != nil && s.NotAction == nil:
		if !anyGlob(s.actions, req.Action) {
			return false, false
		}
	case s.NotAction != nil && s.Action == nil:
		if anyGlob(s.notActions, req.Action) {
			return false, false
		}
	default:
		return false, false
	}
	miss.note(stageAction, policy, s, nil, ctx, pr)
	switch {
	case s.Resource != nil && s.NotResource == nil:
		if !anyARN(s.resources, req.Resource, ctx) {
			return false, false
		}
	case s.NotResource != nil && s.Resource == nil:
		if anyARN(s.notResources, req.Resource, ctx) {
			return false, false
		}
	case s.Resource == nil && s.NotResource == nil:
		if !resourceSide {
			return false, false
		}
	default:
		return false, false
	}
	if pr != nil {
		miss.note(stageResource, policy, s, nil, ctx, pr)
		var m bool
		switch {
		case s.Principal != nil && s.NotPrincipal == nil:
			m, delegated = pr.matchedBy(s.Principal, false)
		case s.NotPrincipal != nil && s.Principal == nil:
			m, _ = pr.matchedBy(s.NotPrincipal, true)
		}
		if !m {
			return false, false
		}
	}
	for _, c := range s.Conditions {
		if !c.eval(c.vals, ctx) {
			miss.note(stageCondition, policy, s, c, ctx, pr)
			return false, false
		}
	}
	return true, delegated
}

func anyGlob(ps []pattern, s string) bool {
	for _, p := range ps {
		if p.match(s, true) {
			return true
		}
	}
	return false
}

func anyARN(ps []arnPattern, s string, ctx reqContext) bool {
	for i := range ps {
		if m, _ := ps[i].match(s, ctx); m {
			return true
		}
	}
	return false
}

type principalKind byte

const (
	principalAnonymous principalKind = iota
	principalAWS
	principalName // service or federated provider name
	principalCanonical
)

// principalInfo is the request's principal and the identities it speaks
// for: a user is itself and its account; an assumed-role session is itself,
// its role and its account.
type principalInfo struct {
	kind    principalKind
	raw     string
	account string
	user    string // full ARN of a user or federated user
	role    string // role name (without path) for roles and sessions
	session string // assumed-role session ARN
	root    bool
}

func parsePrincipal(s string) principalInfo {
	p := principalInfo{raw: s}
	switch {
	case s == "":
		return p
	case isAccountID(s):
		p.kind, p.account, p.root = principalAWS, s, true
		return p
	}
	a, ok := parseARN(s)
	if !ok {
		if isCanonicalID(s) {
			p.kind = principalCanonical
		} else {
			p.kind = principalName
		}
		return p
	}
	p.kind, p.account = principalAWS, a.Account
	typ, rest, _ := strings.Cut(a.Resource, "/")
	switch {
	case a.Service == "iam" && a.Resource == "root":
		p.root = true
	case a.Service == "iam" && typ == "role":
		p.role = lastSegment(rest)
	case a.Service == "sts" && typ == "assumed-role":
		role, _, _ := strings.Cut(rest, "/")
		p.role, p.session = role, s
	case a.Service == "iam" && (typ == "saml-provider" || typ == "oidc-provider"):
		p.kind = principalName
	default:
		p.user = s
	}
	return p
}

func (p *principalInfo) describe() string {
	switch p.kind {
	case principalAnonymous:
		return "an anonymous caller"
	case principalName:
		return "the service or federated principal " + p.raw
	}
	return p.raw
}

func lastSegment(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func isCanonicalID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// identity kinds of principalInfo, checked in matchedBy.
const (
	idRoot = iota
	idUser
	idRole
	idSession
	idName
	idCanonical
	idAnonymous
)

// matchedBy reports whether a Principal element covers p (not == false), or
// whether a NotPrincipal element fails to cover at least one identity p
// speaks for (not == true). The second is why, with Deny and NotPrincipal,
// the account must be listed next to a user (IAM User Guide, NotPrincipal).
// delegated is set when a Principal element covers p only through its
// account ("arn:aws:iam::ID:root" or "ID" naming a user's or role's
// account): that grants to the account, whose identity policies must then
// allow as well.
func (p *principalInfo) matchedBy(el *Principal, not bool) (matched, delegated bool) {
	var ids [3]int
	n := 0
	switch p.kind {
	case principalAnonymous:
		ids[0], n = idAnonymous, 1
	case principalName:
		ids[0], n = idName, 1
	case principalCanonical:
		ids[0], n = idCanonical, 1
	default:
		switch {
		case p.root:
			ids[0], n = idRoot, 1
		case p.session != "":
			ids[0], ids[1], ids[2], n = idSession, idRole, idRoot, 3
		case p.role != "":
			ids[0], ids[1], n = idRole, idRoot, 2
		default:
			ids[0], ids[1], n = idUser, idRoot, 2
		}
	}
	if not {
		for _, id := range ids[:n] {
			if !p.covers(el, id) {
				return true, false
			}
		}
		return false, false
	}
	for _, id := range ids[:n] {
		if p.covers(el, id) {
			return true, id == idRoot && !p.root && !el.everyone()
		}
	}
	return false, false
}

func (el *Principal) everyone() bool {
	if el.Any {
		return true
	}
	for _, e := range el.AWS {
		if e == "*" {
			return true
		}
	}
	return false
}

func (p *principalInfo) covers(el *Principal, id int) bool {
	if el.Any {
		return true
	}
	for _, e := range el.AWS {
		if e == "*" {
			return true
		}
		if p.kind != principalAWS {
			continue
		}
		if isAccountID(e) {
			if id == idRoot && e == p.account {
				return true
			}
			continue
		}
		a, ok := parseARN(e)
		if !ok || a.Account != p.account {
			continue
		}
		typ, rest, _ := strings.Cut(a.Resource, "/")
		switch id {
		case idRoot:
			if a.Service == "iam" && a.Resource == "root" {
				return true
			}
		case idUser:
			if e == p.user {
				return true
			}
		case idRole:
			if a.Service == "iam" && typ == "role" && lastSegment(rest) == p.role {
				return true
			}
		case idSession:
			if e == p.session {
				return true
			}
		}
	}
	switch id {
	case idName:
		for _, list := range [][]string{el.Service, el.Federated} {
			for _, e := range list {
				if strings.EqualFold(e, p.raw) {
					return true
				}
			}
		}
	case idCanonical:
		for _, e := range el.CanonicalUser {
			if e == p.raw {
				return true
			}
		}
	}
	return false
}

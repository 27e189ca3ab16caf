package iamcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/lakerelay/lakerelay"
)

// Policy versions accepted by IAM.
const (
	// Version2012 is the current policy language version. Policy variables
	// are substituted only under this version.
	Version2012 = "2012-10-17"
	// Version2008 is the original policy language version; under it (and
	// with no Version at all) "${...}" is literal text.
	Version2008 = "2008-10-17"
)

// MaxPolicySize is the largest document ParsePolicy accepts. It is well above
// every AWS limit (IAM managed policies 6,144 characters, bucket policies
// 20 KiB, queue policies 8 KiB); larger input is rejected with an error
// wrapping lakerelay.ErrTooLarge so that memory stays bounded.
const MaxPolicySize = 1 << 20

// ErrSyntax is wrapped by ParsePolicy's error when the input is not a JSON
// object at all.
var ErrSyntax = errors.New("iamcheck: policy is not a JSON object")

// Effect is a statement's effect.
type Effect string

// Statement effects.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Policy is a parsed IAM policy document (identity, resource or trust
// policy). A Policy is immutable after ParsePolicy and safe for concurrent
// use by any number of Evaluate calls.
type Policy struct {
	// Name identifies the policy in results (StatementRef.Policy); empty
	// means a name chosen by the caller of Evaluate ("identity[0]",
	// "resource"). Set it before sharing the policy.
	Name string
	// Version is the Version element as written ("" when absent).
	Version string
	// ID is the Id element.
	ID string
	// Statements in document order.
	Statements []*Statement
	// HasStatement reports whether a Statement element was present.
	HasStatement bool
}

// variables reports whether policy variables are substituted in p.
func (p *Policy) variables() bool { return p.Version == Version2012 }

// Statement is one policy statement. For the element lists a nil slice means
// "element absent"; a present element is a non-nil slice (possibly empty).
type Statement struct {
	// Path is the statement's JSON path: "Statement" when the Statement
	// element is a single object, else "Statement[i]".
	Path string
	// Index is the statement's 0-based position.
	Index int
	Sid   string
	// Effect is "Allow" or "Deny"; any other value (kept as written) makes
	// the statement inert and is reported as a finding.
	Effect       Effect
	Principal    *Principal
	NotPrincipal *Principal
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	// Conditions in a stable order (operator, then key, as sorted strings).
	Conditions []*Condition

	actions, notActions     []pattern
	resources, notResources []arnPattern
}

// Principal is a Principal or NotPrincipal element.
type Principal struct {
	// Any is set for "Principal": "*".
	Any           bool
	AWS           []string
	Service       []string
	Federated     []string
	CanonicalUser []string
}

// Condition is one (operator, key, values) triple of a Condition block.
type Condition struct {
	// Operator as written, for example "ForAnyValue:StringLikeIfExists".
	Operator string
	// Key is the condition key as written (matching is case-insensitive).
	Key string
	// Values as strings (JSON numbers and booleans in their JSON text).
	Values []string
	// Path is the JSON path of the key, for example
	// "Statement[1].Condition.StringEquals.aws:SourceAccount".
	Path string

	op   operator
	vals []condValue
	lkey string
}

// Finding is a problem found in a policy: Path is the JSON path of the
// element ("Statement[1].Condition.StringEquals"; "" for the whole
// document), Code a stable kebab-case identifier ("missing-version").
// Findings are not errors: a policy with findings still parses and
// evaluates. Use [lakerelay.HasErrors].
type Finding = lakerelay.Finding

// Severity of a finding, modelled on IAM Access Analyzer's finding types.
type Severity = lakerelay.Severity

// Severities, from most to least serious.
const (
	SeverityError           = lakerelay.SeverityError
	SeveritySecurityWarning = lakerelay.SeveritySecurityWarning
	SeverityWarning         = lakerelay.SeverityWarning
	SeveritySuggestion      = lakerelay.SeveritySuggestion
)

type parser struct {
	findings []Finding
	vars     bool
}

func (ps *parser) add(sev Severity, code, path, format string, args ...any) {
	ps.findings = append(ps.findings, Finding{Severity: sev, Code: code, Path: path, Message: fmt.Sprintf(format, args...)})
}

// ParsePolicy parses an IAM policy document the way IAM accepts it:
// Statement as an object or an array, every list element as a bare string or
// an array, Principal as "*" or a map of AWS / Service / Federated /
// CanonicalUser. The error return is non-nil only when data is not a JSON
// object (it wraps ErrSyntax) or is larger than MaxPolicySize (it wraps
// lakerelay.ErrTooLarge); every grammar problem is returned as a Finding
// with its JSON path, and the Policy still reflects everything that could be
// understood.
func ParsePolicy(data []byte) (*Policy, []Finding, error) {
	if len(data) > MaxPolicySize {
		return nil, nil, fmt.Errorf("iamcheck: policy of %d bytes (limit %d): %w", len(data), MaxPolicySize, lakerelay.ErrTooLarge)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, nil, fmt.Errorf("%w: data after the policy document", ErrSyntax)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("%w: top level is %s", ErrSyntax, jsonType(doc))
	}
	ps := &parser{}
	p := &Policy{}
	for _, k := range sortedKeys(obj) {
		v := obj[k]
		switch k {
		case "Version":
			s, ok := v.(string)
			if !ok {
				ps.add(SeverityError, "invalid-version", "Version", "Version must be a string, got %s", jsonType(v))
				continue
			}
			p.Version = s
			if s != Version2012 && s != Version2008 {
				ps.add(SeverityError, "invalid-version", "Version", "Version %q is not %s or %s", s, Version2012, Version2008)
			}
		case "Id":
			s, ok := v.(string)
			if !ok {
				ps.add(SeverityError, "invalid-id", "Id", "Id must be a string, got %s", jsonType(v))
			}
			p.ID = s
		case "Statement":
			p.HasStatement = true
		default:
			ps.unknownElement(k, "", topElements)
		}
	}
	if _, ok := obj["Version"]; !ok {
		ps.add(SeverityWarning, "missing-version", "Version",
			"no Version element: IAM then uses %s semantics, so policy variables are literal text; add \"Version\": %q", Version2008, Version2012)
	} else if p.Version == Version2008 {
		ps.add(SeveritySuggestion, "old-version", "Version", "Version %s treats policy variables as literal text; use %s", Version2008, Version2012)
	}
	ps.vars = p.variables()
	switch st := obj["Statement"].(type) {
	case nil:
		ps.add(SeverityError, "missing-statement", "Statement", "the policy has no Statement")
	case map[string]any:
		p.Statements = append(p.Statements, ps.statement(st, "Statement", 0))
	case []any:
		if len(st) == 0 {
			ps.add(SeverityError, "missing-statement", "Statement", "Statement is an empty array")
		}
		for i, e := range st {
			path := fmt.Sprintf("Statement[%d]", i)
			m, ok := e.(map[string]any)
			if !ok {
				ps.add(SeverityError, "invalid-statement", path, "a statement must be an object, got %s", jsonType(e))
				continue
			}
			p.Statements = append(p.Statements, ps.statement(m, path, len(p.Statements)))
		}
	default:
		ps.add(SeverityError, "invalid-statement", "Statement", "Statement must be an object or an array, got %s", jsonType(st))
	}
	sids := map[string]string{}
	for _, s := range p.Statements {
		if s.Sid == "" {
			continue
		}
		if prev, ok := sids[s.Sid]; ok {
			ps.add(SeverityError, "duplicate-sid", s.Path+".Sid", "Sid %q is also used by %s; Sids must be unique", s.Sid, prev)
			continue
		}
		sids[s.Sid] = s.Path
	}
	return p, ps.findings, nil
}

var (
	topElements       = []string{"Version", "Id", "Statement"}
	statementElements = []string{"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
	principalKeys     = []string{"AWS", "Service", "Federated", "CanonicalUser"}
)

func (ps *parser) unknownElement(k, prefix string, known []string) {
	path := prefix + k
	for _, e := range known {
		if strings.EqualFold(e, k) {
			ps.add(SeverityError, "unknown-element", path, "unknown element %q: element names are case-sensitive, did you mean %q?", k, e)
			return
		}
	}
	ps.add(SeverityError, "unknown-element", path, "unknown element %q", k)
}

func (ps *parser) statement(m map[string]any, path string, index int) *Statement {
	s := &Statement{Path: path, Index: index}
	pre := path + "."
	for _, k := range sortedKeys(m) {
		v := m[k]
		switch k {
		case "Sid":
			str, ok := v.(string)
			if !ok {
				ps.add(SeverityError, "invalid-sid", pre+k, "Sid must be a string, got %s", jsonType(v))
			}
			s.Sid = str
		case "Effect":
			str, ok := v.(string)
			if !ok {
				ps.add(SeverityError, "invalid-effect", pre+k, "Effect must be \"Allow\" or \"Deny\", got %s", jsonType(v))
				s.Effect = Effect(fmt.Sprint(v))
				continue
			}
			s.Effect = Effect(str)
			if s.Effect != Allow && s.Effect != Deny {
				ps.add(SeverityError, "invalid-effect", pre+k, "Effect must be \"Allow\" or \"Deny\" (case-sensitive), got %q", str)
			}
		case "Principal":
			s.Principal = ps.principal(v, pre+k)
		case "NotPrincipal":
			s.NotPrincipal = ps.principal(v, pre+k)
		case "Action":
			s.Action = ps.stringList(v, pre+k)
		case "NotAction":
			s.NotAction = ps.stringList(v, pre+k)
		case "Resource":
			s.Resource = ps.stringList(v, pre+k)
		case "NotResource":
			s.NotResource = ps.stringList(v, pre+k)
		case "Condition":
			s.Conditions = ps.conditions(v, pre+k)
		default:
			ps.unknownElement(k, pre, statementElements)
		}
	}
	if _, ok := m["Effect"]; !ok {
		ps.add(SeverityError, "missing-effect", pre+"Effect", "the statement has no Effect")
	}
	switch {
	case s.Action != nil && s.NotAction != nil:
		ps.add(SeverityError, "action-and-notaction", path, "a statement may have Action or NotAction, not both")
	case s.Action == nil && s.NotAction == nil:
		ps.add(SeverityError, "missing-action", path, "the statement has neither Action nor NotAction")
	}
	if s.Resource != nil && s.NotResource != nil {
		ps.add(SeverityError, "resource-and-notresource", path, "a statement may have Resource or NotResource, not both")
	}
	if s.Principal != nil && s.NotPrincipal != nil {
		ps.add(SeverityError, "principal-and-notprincipal", path, "a statement may have Principal or NotPrincipal, not both")
	}
	if s.NotPrincipal != nil && s.Effect == Allow {
		ps.add(SeveritySecurityWarning, "allow-with-notprincipal", pre+"NotPrincipal",
			"Allow with NotPrincipal grants access to every principal not listed, including anonymous users")
	}
	for i, a := range s.Action {
		ps.checkAction(a, fmt.Sprintf("%sAction[%d]", pre, i))
		s.actions = append(s.actions, compileGlob(a))
	}
	for i, a := range s.NotAction {
		ps.checkAction(a, fmt.Sprintf("%sNotAction[%d]", pre, i))
		s.notActions = append(s.notActions, compileGlob(a))
	}
	for i, r := range s.Resource {
		ps.checkResource(r, fmt.Sprintf("%sResource[%d]", pre, i))
		s.resources = append(s.resources, newARNPattern(r, ps.vars))
	}
	for i, r := range s.NotResource {
		ps.checkResource(r, fmt.Sprintf("%sNotResource[%d]", pre, i))
		s.notResources = append(s.notResources, newARNPattern(r, ps.vars))
	}
	return s
}

// stringList decodes a string-or-array element. A present element always
// yields a non-nil slice.
func (ps *parser) stringList(v any, path string) []string {
	out := []string{}
	switch t := v.(type) {
	case string:
		return append(out, t)
	case []any:
		if len(t) == 0 {
			ps.add(SeverityError, "empty-list", path, "the list is empty")
		}
		for i, e := range t {
			switch e := e.(type) {
			case string:
				out = append(out, e)
			case json.Number:
				ps.add(SeverityWarning, "number-value", fmt.Sprintf("%s[%d]", path, i), "value %s should be a JSON string", e)
				out = append(out, e.String())
			default:
				ps.add(SeverityError, "invalid-value", fmt.Sprintf("%s[%d]", path, i), "list elements must be strings, got %s", jsonType(e))
			}
		}
		return out
	case json.Number:
		ps.add(SeverityWarning, "number-value", path, "value %s should be a JSON string", t)
		return append(out, t.String())
	default:
		ps.add(SeverityError, "invalid-value", path, "must be a string or an array of strings, got %s", jsonType(v))
		return out
	}
}

func (ps *parser) principal(v any, path string) *Principal {
	p := &Principal{}
	switch t := v.(type) {
	case string:
		if t == "*" {
			p.Any = true
			return p
		}
		ps.add(SeverityError, "invalid-principal", path, "a principal must be \"*\" or an object such as {\"AWS\": %q}", t)
		return p
	case map[string]any:
		if len(t) == 0 {
			ps.add(SeverityError, "invalid-principal", path, "the principal object is empty")
		}
		for _, k := range sortedKeys(t) {
			kp := path + "." + k
			list := ps.stringList(t[k], kp)
			switch k {
			case "AWS":
				p.AWS = list
				for i, a := range list {
					ps.checkAWSPrincipal(a, fmt.Sprintf("%s[%d]", kp, i))
				}
			case "Service":
				p.Service = list
				for i, a := range list {
					if a == "*" || strings.ContainsAny(a, "*?") {
						ps.add(SeverityError, "principal-wildcard", fmt.Sprintf("%s[%d]", kp, i), "service principals take no wildcard: %q", a)
					} else if !strings.Contains(a, ".") {
						ps.add(SeverityError, "invalid-principal", fmt.Sprintf("%s[%d]", kp, i), "%q is not a service principal such as \"s3.amazonaws.com\"", a)
					}
				}
			case "Federated":
				p.Federated = list
			case "CanonicalUser":
				p.CanonicalUser = list
			default:
				ps.unknownElement(k, path+".", principalKeys)
			}
		}
		return p
	default:
		ps.add(SeverityError, "invalid-principal", path, "a principal must be \"*\" or an object, got %s", jsonType(v))
		return p
	}
}

func (ps *parser) checkAWSPrincipal(a, path string) {
	if a == "*" {
		return
	}
	if isAccountID(a) {
		return
	}
	if strings.ContainsAny(a, "*?") {
		ps.add(SeverityError, "principal-wildcard", path,
			"wildcards are not allowed in principal ARNs (%q); use \"*\" with a condition such as aws:PrincipalArn", a)
		return
	}
	arn, ok := parseARN(a)
	if !ok || (arn.Service != "iam" && arn.Service != "sts") || !isAccountID(arn.Account) || arn.Resource == "" {
		ps.add(SeverityError, "invalid-principal", path,
			"%q is not an account id or an IAM/STS principal ARN (arn:aws:iam::123456789012:root|user/NAME|role/NAME)", a)
	}
}

func (ps *parser) checkAction(a, path string) {
	if a == "*" {
		return
	}
	svc, name, ok := strings.Cut(a, ":")
	if !ok || svc == "" || name == "" || strings.Contains(name, ":") {
		ps.add(SeverityError, "invalid-action", path, "action %q must look like \"service:Action\"", a)
		return
	}
	for _, c := range svc {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			ps.add(SeverityError, "invalid-action", path, "service prefix %q of action %q may not contain %q", svc, a, c)
			return
		}
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '*' || c == '?' || c == '-') {
			ps.add(SeverityError, "invalid-action", path, "action name %q may not contain %q", name, c)
			return
		}
	}
}

func (ps *parser) checkResource(r, path string) {
	if r == "*" {
		return
	}
	if !strings.HasPrefix(r, "arn:") {
		ps.add(SeverityError, "malformed-arn", path, "resource %q must be \"*\" or an ARN (arn:partition:service:region:account:resource)", r)
		return
	}
	parts := strings.SplitN(r, ":", 6)
	if len(parts) < 6 {
		ps.add(SeverityError, "malformed-arn", path, "ARN %q has %d of the 6 colon-separated parts", r, len(parts))
		return
	}
	if parts[2] == "" || strings.ContainsAny(parts[2], "*?") {
		ps.add(SeverityError, "malformed-arn", path, "the service part of ARN %q must be given, without wildcards", r)
	}
	if parts[5] == "" {
		ps.add(SeverityError, "malformed-arn", path, "ARN %q has an empty resource part", r)
	}
	for i := 0; i < 5; i++ {
		if strings.Contains(parts[i], "${") {
			ps.add(SeverityError, "variable-position", path, "policy variables may appear only in the resource part of an ARN (after the fifth colon): %q", r)
			break
		}
	}
	ps.checkVariables(r, path)
	if p := parts[1]; p != "*" && p != "aws" && p != "aws-cn" && p != "aws-us-gov" && !strings.HasPrefix(p, "aws-iso") {
		ps.add(SeverityWarning, "unknown-partition", path, "unknown partition %q in ARN %q", p, r)
	}
}

// checkVariables reports variables that are not substituted.
func (ps *parser) checkVariables(s, path string) {
	if !strings.Contains(s, "${") {
		return
	}
	if !ps.vars {
		ps.add(SeverityWarning, "literal-variable", path,
			"%q contains a policy variable, which is literal text unless Version is %s", s, Version2012)
		return
	}
	if _, ok := parseTemplate(s); !ok {
		ps.add(SeverityError, "invalid-variable", path, "unterminated or empty policy variable in %q", s)
	}
}

func (ps *parser) conditions(v any, path string) []*Condition {
	block, ok := v.(map[string]any)
	if !ok {
		ps.add(SeverityError, "invalid-condition", path, "Condition must be an object, got %s", jsonType(v))
		return []*Condition{}
	}
	out := []*Condition{}
	for _, opName := range sortedKeys(block) {
		opPath := path + "." + opName
		op, ok := parseOperator(opName)
		if !ok {
			ps.add(SeverityError, "unknown-condition-operator", opPath, "unknown condition operator %q", opName)
		}
		keys, isObj := block[opName].(map[string]any)
		if !isObj {
			ps.add(SeverityError, "invalid-condition", opPath, "the operator's value must be an object of condition keys, got %s", jsonType(block[opName]))
			continue
		}
		if len(keys) == 0 {
			ps.add(SeverityError, "invalid-condition", opPath, "the operator has no condition keys")
		}
		for _, key := range sortedKeys(keys) {
			kpath := opPath + "." + key
			c := &Condition{Operator: opName, Key: key, Path: kpath, op: op, lkey: strings.ToLower(key)}
			c.Values = ps.conditionValues(keys[key], kpath)
			if ok {
				ps.checkCondition(c)
			}
			c.vals = compileCondition(c, ps.vars)
			out = append(out, c)
		}
	}
	return out
}

func (ps *parser) conditionValues(v any, path string) []string {
	scalar := func(e any, p string) (string, bool) {
		switch e := e.(type) {
		case string:
			return e, true
		case json.Number:
			return e.String(), true
		case bool:
			return strconv.FormatBool(e), true
		default:
			ps.add(SeverityError, "invalid-condition-value", p, "condition values must be strings, numbers or booleans, got %s", jsonType(e))
			return "", false
		}
	}
	out := []string{}
	if list, ok := v.([]any); ok {
		if len(list) == 0 {
			ps.add(SeverityError, "invalid-condition-value", path, "the condition has no values")
		}
		for i, e := range list {
			if s, ok := scalar(e, fmt.Sprintf("%s[%d]", path, i)); ok {
				out = append(out, s)
			}
		}
		return out
	}
	if s, ok := scalar(v, path); ok {
		out = append(out, s)
	}
	return out
}

// singleValuedKeys are global keys that never carry several values; a set
// operator on them is a mistake (Access Analyzer "ForAllValues with single
// valued key").
var singleValuedKeys = map[string]bool{
	"aws:sourceip": true, "aws:sourcearn": true, "aws:sourceaccount": true, "aws:sourcevpc": true,
	"aws:sourcevpce": true, "aws:securetransport": true, "aws:username": true, "aws:userid": true,
	"aws:principalarn": true, "aws:principalaccount": true, "aws:principalorgid": true,
	"aws:currenttime": true, "aws:epochtime": true, "aws:multifactorauthpresent": true,
	"aws:referer": true, "aws:useragent": true, "sts:externalid": true, "s3:prefix": true,
	"s3:x-amz-acl": true, "aws:requestedregion": true, "aws:principaltype": true,
}

func (ps *parser) checkCondition(c *Condition) {
	op := c.op
	lkey := strings.ToLower(c.Key)
	if op.set != setNone && singleValuedKeys[lkey] {
		ps.add(SeverityWarning, "set-operator-single-valued-key", c.Path,
			"%s is a single-valued key: use %s without ForAllValues/ForAnyValue", c.Key, op.base)
	}
	if op.set == setAll && !op.negated {
		// Access Analyzer: ForAllValues with Allow is true for a missing key.
		ps.add(SeveritySuggestion, "forallvalues-missing-key", c.Path,
			"ForAllValues is true when %s is missing or empty; add a Null condition if the key must be present", c.Key)
	}
	for i, v := range c.Values {
		vp := c.Path
		if len(c.Values) > 1 {
			vp = fmt.Sprintf("%s[%d]", c.Path, i)
		}
		if strings.Contains(v, "${") {
			if op.base == opNull {
				ps.add(SeverityError, "variable-in-null", vp, "the Null operator does not accept policy variables")
				continue
			}
			ps.checkVariables(v, vp)
		}
		switch op.family {
		case famString:
			if !op.like && strings.ContainsAny(stripVariables(v), "*?") {
				ps.add(SeverityWarning, "wildcard-without-like-operator", vp,
					"%s compares %q literally; wildcards need StringLike", op.base, v)
			}
		case famNumeric:
			if !strings.Contains(v, "${") {
				if _, err := strconv.ParseFloat(v, 64); err != nil {
					ps.add(SeverityError, "invalid-condition-value", vp, "%s needs a number, got %q", op.base, v)
				}
			}
		case famDate:
			if !strings.Contains(v, "${") {
				if _, ok := parseDate(v); !ok {
					ps.add(SeverityError, "invalid-condition-value", vp, "%s needs an ISO 8601 date or epoch seconds, got %q", op.base, v)
				}
			}
		case famBool, famNull:
			if !strings.Contains(v, "${") && !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
				ps.add(SeverityError, "invalid-condition-value", vp, "%s needs \"true\" or \"false\", got %q", op.base, v)
			}
		case famIP:
			if _, ok := parsePrefix(v); !ok {
				ps.add(SeverityError, "invalid-condition-value", vp, "%s needs an IP address or CIDR block, got %q", op.base, v)
			}
		case famARN:
			if v != "*" && len(strings.SplitN(v, ":", 6)) < 6 {
				ps.add(SeverityError, "malformed-arn", vp, "%s compares each of the six ARN parts; %q is not an ARN (use StringLike to match across colons)", op.base, v)
			}
		}
	}
}

// stripVariables removes ${...} groups, so that escapes like ${*} do not
// count as wildcards.
func stripVariables(s string) string {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return s
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return s
		}
		s = s[:i] + s[i+j+1:]
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

package iamcheck

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

type family byte

const (
	famUnknown family = iota
	famString
	famNumeric
	famDate
	famBool
	famBinary
	famIP
	famARN
	famNull
)

type setKind byte

const (
	setNone setKind = iota
	setAll
	setAny
)

const opNull = "Null"

// operator is a parsed condition operator such as
// "ForAnyValue:StringNotLikeIfExists".
type operator struct {
	base     string // canonical base name, e.g. "StringNotLike"
	family   family
	negated  bool
	like     bool // wildcards allowed (StringLike, Arn*)
	fold     bool // IgnoreCase
	cmp      int8 // numeric/date: 0 eq, -2 lt, -1 le, 1 ge, 2 gt
	ifExists bool
	set      setKind
	valid    bool
}

type opSpec struct {
	family  family
	negated bool
	like    bool
	fold    bool
	cmp     int8
}

var operators = map[string]opSpec{
	"StringEquals":              {family: famString},
	"StringNotEquals":           {family: famString, negated: true},
	"StringEqualsIgnoreCase":    {family: famString, fold: true},
	"StringNotEqualsIgnoreCase": {family: famString, fold: true, negated: true},
	"StringLike":                {family: famString, like: true},
	"StringNotLike":             {family: famString, like: true, negated: true},
	"NumericEquals":             {family: famNumeric},
	"NumericNotEquals":          {family: famNumeric, negated: true},
	"NumericLessThan":           {family: famNumeric, cmp: -2},
	"NumericLessThanEquals":     {family: famNumeric, cmp: -1},
	"NumericGreaterThan":        {family: famNumeric, cmp: 2},
	"NumericGreaterThanEquals":  {family: famNumeric, cmp: 1},
	"DateEquals":                {family: famDate},
	"DateNotEquals":             {family: famDate, negated: true},
	"DateLessThan":              {family: famDate, cmp: -2},
	"DateLessThanEquals":        {family: famDate, cmp: -1},
	"DateGreaterThan":           {family: famDate, cmp: 2},
	"DateGreaterThanEquals":     {family: famDate, cmp: 1},
	"Bool":                      {family: famBool},
	"BinaryEquals":              {family: famBinary},
	"IpAddress":                 {family: famIP},
	"NotIpAddress":              {family: famIP, negated: true},
	"ArnEquals":                 {family: famARN, like: true},
	"ArnLike":                   {family: famARN, like: true},
	"ArnNotEquals":              {family: famARN, like: true, negated: true},
	"ArnNotLike":                {family: famARN, like: true, negated: true},
	opNull:                      {family: famNull},
}

// parseOperator parses a condition operator. Operator names are
// case-sensitive, as in IAM.
func parseOperator(name string) (operator, bool) {
	op := operator{}
	rest := name
	switch {
	case strings.HasPrefix(rest, "ForAllValues:"):
		op.set, rest = setAll, rest[len("ForAllValues:"):]
	case strings.HasPrefix(rest, "ForAnyValue:"):
		op.set, rest = setAny, rest[len("ForAnyValue:"):]
	}
	if b, ok := strings.CutSuffix(rest, "IfExists"); ok && b != opNull {
		op.ifExists, rest = true, b
	}
	spec, ok := operators[rest]
	if !ok || (rest == opNull && op.set != setNone) {
		return operator{base: rest}, false
	}
	op.base = rest
	op.family, op.negated, op.like, op.fold, op.cmp = spec.family, spec.negated, spec.like, spec.fold, spec.cmp
	op.valid = true
	return op, true
}

// reqContext is a request context with lower-cased keys.
type reqContext map[string][]string

// condValue is a compiled condition value.
type condValue struct {
	tmpl template
	arn  arnPattern
}

func compileCondition(c *Condition, vars bool) []condValue {
	out := make([]condValue, len(c.Values))
	for i, v := range c.Values {
		switch c.op.family {
		case famARN:
			out[i].arn = newARNPattern(v, vars)
		case famNull:
			out[i].tmpl = newTemplate(v, false, false)
		default:
			out[i].tmpl = newTemplate(v, vars, c.op.like)
		}
	}
	return out
}

// eval evaluates one condition against ctx (keys lower-cased).
// Rules (IAM User Guide, "Condition operators" and "Multivalued context
// keys"): a missing key makes positive operators false and negated ones true;
// ...IfExists makes a missing key true; ForAllValues is true for a missing or
// empty key, ForAnyValue false; values of one key are ORed; a negated
// operator is true only when no value matches.
func (c *Condition) eval(vals []condValue, ctx reqContext) bool {
	op := c.op
	if !op.valid {
		return false
	}
	reqVals, present := ctx[c.lkey]
	if op.family == famNull {
		for _, v := range vals {
			want := strings.EqualFold(v.tmpl.raw, "true")
			if !want && !strings.EqualFold(v.tmpl.raw, "false") {
				continue
			}
			if want == !present {
				return true
			}
		}
		return false
	}
	if !present || len(reqVals) == 0 {
		switch {
		case op.set == setAll:
			return true
		case op.set == setAny:
			return false
		case op.ifExists:
			return true
		default:
			return op.negated
		}
	}
	// single reports whether one request value satisfies the operator.
	single := func(rv string) bool {
		m := false
		for i := range vals {
			if matchValue(op, &vals[i], rv, ctx) {
				m = true
				break
			}
		}
		return m != op.negated
	}
	switch op.set {
	case setAll:
		for _, rv := range reqVals {
			if !single(rv) {
				return false
			}
		}
		return true
	case setAny:
		for _, rv := range reqVals {
			if single(rv) {
				return true
			}
		}
		return false
	}
	// No set operator on a multivalued request: positive operators need one
	// request value to match; negated operators need no value to match.
	any := false
	for _, rv := range reqVals {
		for i := range vals {
			if matchValue(op, &vals[i], rv, ctx) {
				any = true
				break
			}
		}
		if any {
			break
		}
	}
	return any != op.negated
}

// matchValue reports whether request value rv matches policy value v under
// the positive form of op. An unresolved policy variable matches nothing.
func matchValue(op operator, v *condValue, rv string, ctx reqContext) bool {
	switch op.family {
	case famARN:
		m, _ := v.arn.match(rv, ctx)
		return m
	case famString:
		p, ok := v.tmpl.expand(ctx, op.like)
		if !ok {
			return false
		}
		if op.like {
			return p.match(rv, false)
		}
		if op.fold {
			return strings.EqualFold(p.text(), rv)
		}
		return p.text() == rv
	}
	p, ok := v.tmpl.expand(ctx, false)
	if !ok {
		return false
	}
	pv := p.text()
	switch op.family {
	case famBool:
		return strings.EqualFold(pv, rv) && (strings.EqualFold(rv, "true") || strings.EqualFold(rv, "false"))
	case famBinary:
		return pv == rv
	case famNumeric:
		a, err1 := strconv.ParseFloat(rv, 64)
		b, err2 := strconv.ParseFloat(pv, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		return compare(op.cmp, cmpFloat(a, b))
	case famDate:
		a, ok1 := parseDate(rv)
		b, ok2 := parseDate(pv)
		if !ok1 || !ok2 {
			return false
		}
		return compare(op.cmp, a.Compare(b))
	case famIP:
		pref, ok1 := parsePrefix(pv)
		addr, err := netip.ParseAddr(strings.TrimSpace(rv))
		if !ok1 || err != nil {
			return false
		}
		return pref.Contains(addr.Unmap()) || pref.Contains(addr)
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compare maps a three-way comparison (request vs policy) to the operator.
func compare(op int8, c int) bool {
	switch op {
	case 0:
		return c == 0
	case -2:
		return c < 0
	case -1:
		return c <= 0
	case 1:
		return c >= 0
	case 2:
		return c > 0
	}
	return false
}

var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04Z",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseDate parses the date forms IAM accepts: ISO 8601 (W3C profile) and
// epoch seconds.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), true
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parsePrefix parses an IP address or CIDR block (IPv4 or IPv6).
func parsePrefix(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

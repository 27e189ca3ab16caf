package iamcheck

import (
	"strings"
	"unicode/utf8"
)

// A pattern is a compiled wildcard expression: literal runs, "*" (any run of
// characters, including none, "/" and ":") and "?" (exactly one character).
type pattern []token

type token struct {
	kind byte // tokLit, tokStar, tokOne
	lit  string
}

const (
	tokLit byte = iota
	tokStar
	tokOne
)

// compileGlob compiles s with "*" and "?" as wildcards and no variables.
func compileGlob(s string) pattern {
	var p pattern
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '*' || s[i] == '?' {
			if i > start {
				p = append(p, token{kind: tokLit, lit: s[start:i]})
			}
			if s[i] == '*' {
				if len(p) == 0 || p[len(p)-1].kind != tokStar {
					p = append(p, token{kind: tokStar})
				}
			} else {
				p = append(p, token{kind: tokOne})
			}
			start = i + 1
		}
	}
	if start < len(s) {
		p = append(p, token{kind: tokLit, lit: s[start:]})
	}
	return p
}

// literal returns s as a pattern of one literal.
func literal(s string) pattern {
	if s == "" {
		return nil
	}
	return pattern{{kind: tokLit, lit: s}}
}

// text renders p as plain text, wildcards as "*" and "?" characters.
func (p pattern) text() string {
	if len(p) == 1 && p[0].kind == tokLit {
		return p[0].lit
	}
	var b strings.Builder
	for _, t := range p {
		switch t.kind {
		case tokLit:
			b.WriteString(t.lit)
		case tokStar:
			b.WriteByte('*')
		case tokOne:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// match reports whether s matches p; fold compares letters ASCII
// case-insensitively. The algorithm is the linear greedy one with a single
// backtracking point at the last "*".
func (p pattern) match(s string, fold bool) bool {
	ti, si := 0, 0
	starTi, starSi := -1, 0
	for ti < len(p) || si < len(s) {
		if ti < len(p) {
			t := p[ti]
			switch t.kind {
			case tokStar:
				starTi, starSi = ti, si
				ti++
				continue
			case tokOne:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			case tokLit:
				if hasPrefix(s[si:], t.lit, fold) {
					si += len(t.lit)
					ti++
					continue
				}
			}
		}
		if starTi >= 0 && starSi < len(s) {
			_, n := utf8.DecodeRuneInString(s[starSi:])
			starSi += n
			si = starSi
			ti = starTi + 1
			continue
		}
		return false
	}
	return true
}

func hasPrefix(s, prefix string, fold bool) bool {
	if len(s) < len(prefix) {
		return false
	}
	if !fold {
		return s[:len(prefix)] == prefix
	}
	return asciiEqualFold(s[:len(prefix)], prefix)
}

// asciiEqualFold is strings.EqualFold restricted to ASCII letters, which is
// what IAM action names and condition keys use.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// A template is a policy string that may hold policy variables: ${key},
// ${key, 'default'} and the escapes ${*}, ${?}, ${$}.
type template struct {
	raw string
	// static is the compiled pattern when the string holds no variable (or
	// variables are not substituted in this policy).
	static  pattern
	parts   []tpart
	hasVars bool
}

type tpart struct {
	lit    string  // literal text (wildcards in it are wildcards)
	glob   pattern // lit compiled with wildcards
	escape string  // "*", "?" or "$" from ${*}, ${?}, ${$}: always literal
	key    string  // variable key, lower-cased
	def    string
	hasDef bool
}

// newTemplate compiles s. With vars false (Version 2008-10-17 or none),
// "${...}" is literal text. wild says whether "*" and "?" are wildcards.
func newTemplate(s string, vars, wild bool) template {
	t := template{raw: s}
	if vars && strings.Contains(s, "${") {
		if parts, ok := parseTemplate(s); ok {
			t.parts = parts
			t.hasVars = true
			for _, p := range parts {
				if p.key != "" {
					return t
				}
			}
			// Only escapes: resolve now.
			t.static, _ = t.expand(nil, wild)
			t.hasVars = false
			return t
		}
	}
	if wild {
		t.static = compileGlob(s)
	} else {
		t.static = literal(s)
	}
	return t
}

// parseTemplate splits s at ${...} groups. ok is false for an unterminated
// or empty group.
func parseTemplate(s string) ([]tpart, bool) {
	var parts []tpart
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			if s != "" {
				parts = append(parts, tpart{lit: s, glob: compileGlob(s)})
			}
			return parts, true
		}
		if i > 0 {
			parts = append(parts, tpart{lit: s[:i], glob: compileGlob(s[:i])})
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return nil, false
		}
		body := strings.TrimSpace(s[i+2 : i+j])
		s = s[i+j+1:]
		switch body {
		case "":
			return nil, false
		case "*", "?", "$":
			parts = append(parts, tpart{escape: body})
			continue
		}
		p := tpart{}
		if k, d, ok := strings.Cut(body, ","); ok {
			d = strings.TrimSpace(d)
			if len(d) < 2 || d[0] != '\'' || d[len(d)-1] != '\'' {
				return nil, false
			}
			p.def, p.hasDef = d[1:len(d)-1], true
			body = strings.TrimSpace(k)
		}
		if body == "" {
			return nil, false
		}
		p.key = strings.ToLower(body)
		parts = append(parts, p)
	}
}

// expand substitutes variables from ctx. ok is false when a variable has no
// single value and no default: such a string matches nothing.
func (t *template) expand(ctx reqContext, wild bool) (pattern, bool) {
	if !t.hasVars {
		return t.static, true
	}
	p := make(pattern, 0, len(t.parts)+2)
	for _, part := range t.parts {
		switch {
		case part.lit != "":
			if wild {
				p = append(p, part.glob...)
			} else {
				p = append(p, token{kind: tokLit, lit: part.lit})
			}
		case part.escape != "":
			p = append(p, token{kind: tokLit, lit: part.escape})
		default:
			vals, present := ctx[part.key]
			switch {
			case present && len(vals) == 1:
				p = append(p, token{kind: tokLit, lit: vals[0]})
			case part.hasDef:
				p = append(p, token{kind: tokLit, lit: part.def})
			default:
				return nil, false
			}
		}
	}
	return p, true
}

// ARN is a parsed Amazon Resource Name.
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

// String formats the ARN.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// ParseARN splits an ARN into its parts; ok is false when s does not start
// with "arn:" or has fewer than six colon-separated parts. The resource part
// keeps any further colons.
func ParseARN(s string) (ARN, bool) { return parseARN(s) }

func parseARN(s string) (ARN, bool) {
	if !strings.HasPrefix(s, "arn:") {
		return ARN{}, false
	}
	var parts [5]string
	rest := s[len("arn:"):]
	for i := 0; i < 4; i++ {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return ARN{}, false
		}
		parts[i], rest = rest[:j], rest[j+1:]
	}
	parts[4] = rest
	return ARN{parts[0], parts[1], parts[2], parts[3], parts[4]}, true
}

// arnPattern is a Resource / NotResource entry or an Arn* condition value:
// either "*" or six templates matched part by part (case-sensitively). A "*"
// in the last part spans "/" and ":". A pattern that is not an ARN matches
// nothing.
type arnPattern struct {
	any   bool
	isARN bool
	segs  [6]template
}

func newARNPattern(s string, vars bool) arnPattern {
	if s == "*" {
		return arnPattern{any: true}
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) < 6 {
		// Not an ARN: IAM rejects it; it matches nothing.
		return arnPattern{}
	}
	ap := arnPattern{isARN: true}
	for i, p := range parts {
		ap.segs[i] = newTemplate(p, vars && i == 5, true)
	}
	return ap
}

// match reports whether value matches; ok is false when a variable could
// not be resolved (then it matches nothing).
func (ap *arnPattern) match(value string, ctx reqContext) (matched, ok bool) {
	if ap.any {
		return true, true
	}
	if !ap.isARN {
		return false, true
	}
	var vs [6]string
	rest := value
	for i := 0; i < 5; i++ {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return false, true
		}
		vs[i], rest = rest[:j], rest[j+1:]
	}
	vs[5] = rest
	for i := range ap.segs {
		p, ok := ap.segs[i].expand(ctx, true)
		if !ok {
			return false, false
		}
		if !p.match(vs[i], false) {
			return false, true
		}
	}
	return true, true
}

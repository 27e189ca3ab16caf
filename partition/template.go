package partition

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidTemplate is wrapped by every error [Compile] returns.
var ErrInvalidTemplate = errors.New("partition: invalid template")

// TemplateError says why a template does not compile. It wraps
// [ErrInvalidTemplate].
type TemplateError struct {
	Template string
	Offset   int // byte offset of the problem in Template
	Reason   string
}

func (e *TemplateError) Error() string {
	return fmt.Sprintf("partition: template %q at byte %d: %s", e.Template, e.Offset, e.Reason)
}

// Unwrap returns [ErrInvalidTemplate].
func (e *TemplateError) Unwrap() error { return ErrInvalidTemplate }

type partKind uint8

const (
	partLit   partKind = iota // text
	partField                 // {name}: one segment
	partPath                  // {+name}: zero or more segments
	partDate                  // {date:LAYOUT}: Go time layout
	partTime                  // {yyyy-MM-dd}...: date tokens
)

type part struct {
	kind   partKind
	text   string // literal text, field name or Go layout
	tokens []timeToken
	// dropSlash: for partPath, the placeholder starts the template or
	// follows a "/", and the next part is a literal starting with "/"; when
	// the value is empty that "/" is dropped too.
	dropSlash bool
}

// timeToken is one element of a date-token placeholder: a unit to print
// zero-padded, or a separator.
type timeToken struct {
	unit byte // 'y', 'M', 'd', 'H', 'm', 's', or 0 for sep
	sep  byte
}

// Template is a compiled key template. It is immutable and safe for
// concurrent use. Build one with [Compile] and fill it with
// [Template.Execute]; [Template.Bind] fixes some fields once.
//
// The syntax: literal text (no "{" or "}") and placeholders:
//
//	{name}          the field's value as one key segment (non-empty, no "/")
//	{+name}         the field's value as zero or more segments ("a/b");
//	                when it is empty or missing, a following "/" is dropped too
//	{date:LAYOUT}   the time in UTC, formatted with the Go layout LAYOUT
//	                ({date:2006-01-02}, {date:2006/01/02/15})
//	{yyyy} {MM} {dd} {HH} {mm} {ss}
//	                year, month, day, hour, minute, second of the time in UTC,
//	                zero-padded; tokens may be combined with "-", "_" or "."
//	                ({yyyyMMdd}, {YYYY-MM-DD}); YYYY and DD are accepted for
//	                yyyy and dd
//
// Field names are letters, digits and "_", not starting with a digit.
// Every filled-in value and the resulting key are validated as described in
// the package documentation.
type Template struct {
	parts []part
}

// Compile parses a template. It fails with a *[TemplateError] on syntax
// errors, and when the template cannot produce a valid key (a leading "/",
// an empty, "." or ".." literal segment, control characters).
func Compile(tmpl string) (*Template, error) {
	bad := func(off int, format string, args ...any) error {
		return &TemplateError{Template: tmpl, Offset: off, Reason: fmt.Sprintf(format, args...)}
	}
	if tmpl == "" {
		return nil, bad(0, "empty")
	}
	if len(tmpl) > MaxKeyLen {
		return nil, bad(MaxKeyLen, "longer than %d bytes", MaxKeyLen)
	}
	var parts []part
	for i := 0; i < len(tmpl); {
		switch tmpl[i] {
		case '}':
			return nil, bad(i, `"}" without "{"`)
		case '{':
			end := strings.IndexByte(tmpl[i:], '}')
			if end < 0 {
				return nil, bad(i, `"{" without "}"`)
			}
			body := tmpl[i+1 : i+end]
			if j := strings.IndexByte(body, '{'); j >= 0 {
				return nil, bad(i+1+j, `"{" inside a placeholder`)
			}
			p, reason := parsePlaceholder(body)
			if reason != "" {
				return nil, bad(i, "placeholder {%s}: %s", body, reason)
			}
			parts = append(parts, p)
			i += end + 1
		default:
			end := strings.IndexAny(tmpl[i:], "{}")
			if end < 0 {
				end = len(tmpl) - i
			}
			lit := tmpl[i : i+end]
			if err := checkChars("template", lit); err != nil {
				return nil, bad(i, "%s", err.(*KeyError).Reason)
			}
			parts = append(parts, part{kind: partLit, text: lit})
			i += end
		}
	}
	t := &Template{parts: parts}
	t.markDropSlash()
	if err := t.check(); err != nil {
		return nil, bad(0, "%v", err)
	}
	return t, nil
}

func (t *Template) markDropSlash() {
	for i := range t.parts {
		p := &t.parts[i]
		if p.kind != partPath {
			continue
		}
		startsSeg := i == 0 || (t.parts[i-1].kind == partLit && strings.HasSuffix(t.parts[i-1].text, "/"))
		nextSlash := i+1 < len(t.parts) && t.parts[i+1].kind == partLit && strings.HasPrefix(t.parts[i+1].text, "/")
		p.dropSlash = startsSeg && nextSlash
	}
}

// check renders the template with sample values (fields "x", path fields
// both "x" and empty, a sample time) and validates the results, so that
// literal text that can never give a valid key is rejected at compile time.
func (t *Template) check() error {
	sample := time.Date(2026, 12, 31, 23, 59, 58, 0, time.UTC)
	for _, empty := range []bool{false, true} {
		var b strings.Builder
		skipSlash := false
		for _, p := range t.parts {
			switch p.kind {
			case partLit:
				text := p.text
				if skipSlash {
					text = text[1:]
					skipSlash = false
				}
				b.WriteString(text)
			case partField:
				b.WriteString("x")
			case partPath:
				if empty {
					skipSlash = p.dropSlash
				} else {
					b.WriteString("x")
				}
			default:
				b.WriteString(renderTime(p, sample))
			}
		}
		if b.Len() == 0 && empty {
			continue // a template of only {+path} fields
		}
		if err := ValidateKey(b.String()); err != nil {
			var ke *KeyError
			if errors.As(err, &ke) {
				return errors.New(ke.Reason)
			}
			return err
		}
	}
	return nil
}

var timeUnits = map[string]byte{"yyyy": 'y', "YYYY": 'y', "MM": 'M', "dd": 'd', "DD": 'd', "HH": 'H', "mm": 'm', "ss": 's'}

func parsePlaceholder(body string) (part, string) {
	switch {
	case body == "":
		return part{}, "empty"
	case strings.HasPrefix(body, "date:"):
		layout := body[len("date:"):]
		if layout == "" {
			return part{}, "empty date layout"
		}
		if time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC).Format(layout) == layout {
			return part{}, "date layout has no time elements (Go layouts use 2006-01-02 15:04:05)"
		}
		return part{kind: partDate, text: layout}, ""
	case body[0] == '+':
		if !isFieldName(body[1:]) {
			return part{}, "invalid field name"
		}
		return part{kind: partPath, text: body[1:]}, ""
	}
	if toks, ok := parseTimeTokens(body); ok {
		return part{kind: partTime, tokens: toks}, ""
	}
	if !isFieldName(body) {
		return part{}, "not a field name (letters, digits, _), a date:LAYOUT or date tokens (yyyy MM dd HH mm ss)"
	}
	return part{kind: partField, text: body}, ""
}

func parseTimeTokens(s string) ([]timeToken, bool) {
	var toks []timeToken
	units := 0
	for len(s) > 0 {
		switch s[0] {
		case '-', '_', '.':
			toks = append(toks, timeToken{sep: s[0]})
			s = s[1:]
			continue
		}
		matched := false
		for _, n := range []int{4, 2} {
			if len(s) >= n {
				if u, ok := timeUnits[s[:n]]; ok {
					toks = append(toks, timeToken{unit: u})
					s = s[n:]
					units++
					matched = true
					break
				}
			}
		}
		if !matched {
			return nil, false
		}
	}
	return toks, units > 0
}

func isFieldName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func renderTime(p part, t time.Time) string {
	t = t.UTC()
	if p.kind == partDate {
		return t.Format(p.text)
	}
	var b []byte
	for _, tok := range p.tokens {
		switch tok.unit {
		case 0:
			b = append(b, tok.sep)
		case 'y':
			y := t.Year()
			if y >= 0 && y < 1000 {
				b = append(b, "000"[:3-digits(y)]...)
			}
			b = strconv.AppendInt(b, int64(y), 10)
		default:
			var v int
			switch tok.unit {
			case 'M':
				v = int(t.Month())
			case 'd':
				v = t.Day()
			case 'H':
				v = t.Hour()
			case 'm':
				v = t.Minute()
			case 's':
				v = t.Second()
			}
			b = append(b, byte('0'+v/10), byte('0'+v%10))
		}
	}
	return string(b)
}

func digits(v int) int {
	n := 1
	for v >= 10 {
		v /= 10
		n++
	}
	return n
}

// Fields returns the names of the fields the template still needs, in
// order of first use.
func (t *Template) Fields() []string {
	var names []string
	seen := map[string]bool{}
	for _, p := range t.parts {
		if (p.kind == partField || p.kind == partPath) && !seen[p.text] {
			seen[p.text] = true
			names = append(names, p.text)
		}
	}
	return names
}

// UsesTime reports whether the template has date or time placeholders, that
// is whether its keys depend on the time passed to [Template.Execute].
func (t *Template) UsesTime() bool {
	for _, p := range t.parts {
		if p.kind == partDate || p.kind == partTime {
			return true
		}
	}
	return false
}

// String returns the template's source (after [Template.Bind], with the
// bound values in place).
func (t *Template) String() string {
	var b strings.Builder
	for _, p := range t.parts {
		switch p.kind {
		case partLit:
			b.WriteString(p.text)
		case partField:
			b.WriteString("{" + p.text + "}")
		case partPath:
			b.WriteString("{+" + p.text + "}")
		case partDate:
			b.WriteString("{date:" + p.text + "}")
		case partTime:
			b.WriteByte('{')
			for _, tok := range p.tokens {
				if tok.unit == 0 {
					b.WriteByte(tok.sep)
					continue
				}
				b.WriteString(map[byte]string{'y': "yyyy", 'M': "MM", 'd': "dd", 'H': "HH", 'm': "mm", 's': "ss"}[tok.unit])
			}
			b.WriteByte('}')
		}
	}
	return b.String()
}

func fieldValue(p part, v string) (string, error) {
	if p.kind == partField {
		return v, ValidateSegment(p.text, v)
	}
	// A path field: zero or more segments; one trailing "/" is tolerated.
	v = strings.TrimSuffix(v, "/")
	if v == "" {
		return "", nil
	}
	if strings.HasPrefix(v, "/") {
		return "", keyError(p.text, v, `starts with "/"`)
	}
	if err := checkChars(p.text, v); err != nil {
		return "", err
	}
	for seg := range strings.SplitSeq(v, "/") {
		if r := checkSegment(seg); r != "" {
			return "", keyError(p.text, v, r)
		}
	}
	return v, nil
}

// Bind returns a template with the given fields filled in (validated once,
// here), leaving the other placeholders. Naming a field the template does
// not have is an error, as is an invalid value.
func (t *Template) Bind(fields map[string]string) (*Template, error) {
	have := map[string]bool{}
	for _, name := range t.Fields() {
		have[name] = true
	}
	var errs []error
	for name := range fields {
		if !have[name] {
			errs = append(errs, keyError(name, fields[name], "the template has no such field"))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	out := &Template{parts: make([]part, 0, len(t.parts))}
	skipSlash := false
	for _, p := range t.parts {
		v, ok := fields[p.text]
		switch {
		case p.kind == partLit:
			if skipSlash {
				p.text = p.text[1:]
				skipSlash = false
				if p.text == "" {
					continue
				}
			}
			out.parts = append(out.parts, p)
		case (p.kind == partField || p.kind == partPath) && ok:
			fv, err := fieldValue(p, v)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if fv == "" {
				skipSlash = p.dropSlash
				continue
			}
			out.parts = append(out.parts, part{kind: partLit, text: fv})
		default:
			out.parts = append(out.parts, p)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out.markDropSlash()
	return out, nil
}

// Execute fills the template: fields from fields, date and time
// placeholders from at (in UTC). A missing {name} field is an error; a
// missing {+name} is empty. The result is validated with [ValidateKey];
// errors are *[KeyError] values naming the field.
func (t *Template) Execute(fields map[string]string, at time.Time) (string, error) {
	var b strings.Builder
	skipSlash := false
	for _, p := range t.parts {
		switch p.kind {
		case partLit:
			text := p.text
			if skipSlash {
				text = text[1:]
				skipSlash = false
			}
			b.WriteString(text)
		case partField, partPath:
			v, ok := fields[p.text]
			if !ok && p.kind == partField {
				return "", keyError(p.text, "", "missing")
			}
			fv, err := fieldValue(p, v)
			if err != nil {
				return "", err
			}
			if fv == "" {
				skipSlash = p.dropSlash
			}
			b.WriteString(fv)
		default:
			b.WriteString(renderTime(p, at))
		}
	}
	key := b.String()
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	return key, nil
}

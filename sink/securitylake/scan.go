package securitylake

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// scanner is a minimal JSON scanner over one document. It validates what it
// reads (RFC 8259 grammar, UTF-8 in strings) and never allocates on the
// common paths: strings without escapes are returned as views of the input.
type scanner struct {
	data    []byte
	pos     int
	scratch []byte // unescaped string contents

	lastRegion, lastAccount string // scanMeta's copies, reused while equal
}

// errSyntax is wrapped by every JSON syntax error.
var errSyntax = errors.New("invalid JSON")

func (s *scanner) reset(data []byte) {
	s.data = data
	s.pos = 0
}

func (s *scanner) syntaxErr(what string) error {
	if s.pos >= len(s.data) {
		return fmt.Errorf("%w: %s at offset %d (unexpected end)", errSyntax, what, s.pos)
	}
	return fmt.Errorf("%w: %s at offset %d", errSyntax, what, s.pos)
}

func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek skips white space and returns the next byte, or 0 at the end.
func (s *scanner) peek() byte {
	if s.pos < len(s.data) && s.data[s.pos] > ' ' {
		return s.data[s.pos]
	}
	s.ws()
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

// end reports an error if anything but white space follows.
func (s *scanner) end() error {
	s.ws()
	if s.pos != len(s.data) {
		return s.syntaxErr("data after the JSON document")
	}
	return nil
}

// literal consumes lit (true, false, null) at the current position.
func (s *scanner) literal(lit string) error {
	if len(s.data)-s.pos >= len(lit) && string(s.data[s.pos:s.pos+len(lit)]) == lit {
		s.pos += len(lit)
		return nil
	}
	return s.syntaxErr("invalid literal")
}

// str reads a string; the current byte must be '"'. The result is a view of
// the input or of s.scratch and is valid until the next call.
func (s *scanner) str() ([]byte, error) {
	s.pos++ // opening quote
	start := s.pos
	d := s.data
	i := s.pos
	for {
		for i < len(d) && !strSpecial[d[i]] {
			i++
		}
		if i >= len(d) {
			s.pos = i
			return nil, s.syntaxErr("unterminated string")
		}
		switch c := d[i]; {
		case c == '"':
			s.pos = i + 1
			return d[start:i], nil
		case c == '\\':
			s.pos = i
			return s.strEscaped(start)
		case c < 0x20:
			s.pos = i
			return nil, s.syntaxErr("control character in string")
		default: // non-ASCII: validate one rune
			r, n := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && n <= 1 {
				s.pos = i
				return nil, s.syntaxErr("invalid UTF-8 in string")
			}
			i += n
		}
	}
}

// strSpecial marks the bytes that end the fast path of a string scan.
var strSpecial = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80
	}
	return t
}()

func (s *scanner) strEscaped(start int) ([]byte, error) {
	buf := append(s.scratch[:0], s.data[start:s.pos]...)
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			s.scratch = buf
			if !utf8.Valid(buf) {
				return nil, fmt.Errorf("%w: invalid UTF-8 in string at offset %d", errSyntax, start)
			}
			return buf, nil
		case c < 0x20:
			return nil, s.syntaxErr("control character in string")
		case c != '\\':
			buf = append(buf, c)
			s.pos++
			continue
		}
		s.pos++
		if s.pos >= len(s.data) {
			return nil, s.syntaxErr("unterminated escape")
		}
		e := s.data[s.pos]
		s.pos++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return nil, s.syntaxErr("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if s.pos+1 < len(s.data) && s.data[s.pos] == '\\' && s.data[s.pos+1] == 'u' {
					save := s.pos
					s.pos += 2
					var ok2 bool
					if r2, ok2 = s.hex4(); !ok2 {
						return nil, s.syntaxErr("invalid \\u escape")
					}
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
					} else {
						s.pos = save
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return nil, s.syntaxErr("invalid escape")
		}
	}
	return nil, s.syntaxErr("unterminated string")
}

func (s *scanner) hex4() (rune, bool) {
	if len(s.data)-s.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s.data[s.pos : s.pos+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	s.pos += 4
	return r, true
}

// number scans a JSON number and returns its text and whether it is an
// integer (no fraction, no exponent).
func (s *scanner) number() ([]byte, bool, error) {
	start := s.pos
	d := s.data
	i := s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		s.pos = i
		return nil, false, s.syntaxErr("invalid number")
	}
	isInt := true
	if i < len(d) && d[i] == '.' {
		isInt = false
		i++
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == j {
			s.pos = i
			return nil, false, s.syntaxErr("invalid number")
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		isInt = false
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == j {
			s.pos = i
			return nil, false, s.syntaxErr("invalid number")
		}
	}
	s.pos = i
	return d[start:i], isInt, nil
}

var errRange = errors.New("out of range")

// int64 reads a JSON number that must be an integer in [lo, hi]. Integral
// numbers written with a fraction or exponent (1.0, 1e3) are accepted.
func (s *scanner) int64(lo, hi int64) (int64, error) {
	tok, isInt, err := s.number()
	if err != nil {
		return 0, err
	}
	if isInt && len(tok) < 19 {
		var v int64
		neg := tok[0] == '-'
		t := tok
		if neg {
			t = t[1:]
		}
		for _, c := range t {
			v = v*10 + int64(c-'0')
		}
		if neg {
			v = -v
		}
		if v < lo || v > hi {
			return 0, fmt.Errorf("number %s %w", tok, errRange)
		}
		return v, nil
	}
	if isInt {
		v, err := strconv.ParseInt(bstr(tok), 10, 64)
		if err != nil || v < lo || v > hi {
			return 0, fmt.Errorf("number %s %w", tok, errRange)
		}
		return v, nil
	}
	f, err := strconv.ParseFloat(bstr(tok), 64)
	if err != nil || f != math.Trunc(f) || f < float64(lo) || f > float64(hi) || f >= 0x1p63 {
		return 0, fmt.Errorf("number %s is not an integer in range", tok)
	}
	return int64(f), nil
}

// uint64 reads a JSON integer in [0, hi].
func (s *scanner) uint64(hi uint64) (uint64, error) {
	tok, isInt, err := s.number()
	if err != nil {
		return 0, err
	}
	if isInt {
		v, err := strconv.ParseUint(bstr(tok), 10, 64)
		if err != nil || v > hi {
			return 0, fmt.Errorf("number %s %w", tok, errRange)
		}
		return v, nil
	}
	f, err := strconv.ParseFloat(bstr(tok), 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f > float64(hi) || f >= 0x1p64 {
		return 0, fmt.Errorf("number %s is not an integer in range", tok)
	}
	return uint64(f), nil
}

func (s *scanner) float64() (float64, error) {
	tok, isInt, err := s.number()
	if err != nil {
		return 0, err
	}
	if isInt && len(tok) < 16 {
		var v int64
		neg := tok[0] == '-'
		t := tok
		if neg {
			t = t[1:]
		}
		for _, c := range t {
			v = v*10 + int64(c-'0')
		}
		if neg {
			v = -v
		}
		return float64(v), nil
	}
	f, err := strconv.ParseFloat(bstr(tok), 64)
	if err != nil {
		return 0, fmt.Errorf("number %s %w", tok, errRange)
	}
	return f, nil
}

// skip consumes one value, validating it.
func (s *scanner) skip() error {
	return s.skipDepth(0)
}

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 512

func (s *scanner) skipDepth(depth int) error {
	if depth > maxDepth {
		return s.syntaxErr("nesting too deep")
	}
	switch s.peek() {
	case '"':
		_, err := s.str()
		return err
	case '{':
		s.pos++
		if s.peek() == '}' {
			s.pos++
			return nil
		}
		for {
			if s.peek() != '"' {
				return s.syntaxErr("expected object key")
			}
			if _, err := s.str(); err != nil {
				return err
			}
			if s.peek() != ':' {
				return s.syntaxErr("expected ':'")
			}
			s.pos++
			if err := s.skipDepth(depth + 1); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.pos++
			case '}':
				s.pos++
				return nil
			default:
				return s.syntaxErr("expected ',' or '}'")
			}
		}
	case '[':
		s.pos++
		if s.peek() == ']' {
			s.pos++
			return nil
		}
		for {
			if err := s.skipDepth(depth + 1); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.pos++
			case ']':
				s.pos++
				return nil
			default:
				return s.syntaxErr("expected ',' or ']'")
			}
		}
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		_, _, err := s.number()
		return err
	}
}

// skipFast consumes one value without validating it beyond what is needed
// to find its end (strings, brackets). The caller validates the document
// elsewhere.
func (s *scanner) skipFast() error {
	d := s.data
	switch s.peek() {
	case '"':
		return s.skipString()
	case '{', '[':
		depth := 0
		for s.pos < len(d) {
			switch d[s.pos] {
			case '"':
				if err := s.skipString(); err != nil {
					return err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.pos++
					return nil
				}
			}
			s.pos++
		}
		return s.syntaxErr("unterminated object or array")
	case 0:
		return s.syntaxErr("expected a value")
	default:
		start := s.pos
		for s.pos < len(d) {
			switch d[s.pos] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				if s.pos == start {
					return s.syntaxErr("expected a value")
				}
				return nil
			}
			s.pos++
		}
		return nil
	}
}

// skipString skips a string starting at the current '"'.
func (s *scanner) skipString() error {
	d := s.data
	i := s.pos + 1
	for {
		j := bytes.IndexByte(d[i:], '"')
		if j < 0 {
			s.pos = len(d)
			return s.syntaxErr("unterminated string")
		}
		i += j
		// An escaped quote has an odd number of backslashes before it.
		k := i - 1
		for k > s.pos && d[k] == '\\' {
			k--
		}
		i++
		if (i-2-k)%2 == 0 {
			s.pos = i
			return nil
		}
	}
}

// compact consumes one value and appends its compact JSON text (no
// insignificant white space) to dst.
func (s *scanner) compact(dst []byte) ([]byte, error) {
	s.ws()
	start := s.pos
	if err := s.skip(); err != nil {
		return dst, err
	}
	return appendCompact(dst, s.data[start:s.pos]), nil
}

// appendCompact appends src, a valid JSON value, without white space outside
// strings.
func appendCompact(dst, src []byte) []byte {
	inStr := false
	from := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case ' ', '\t', '\n', '\r':
			dst = append(dst, src[from:i]...)
			from = i + 1
		}
	}
	return append(dst, src[from:]...)
}

// appendQuoted appends s as a JSON string.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, `\u00`...)
			dst = append(dst, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// bstr views b as a string without copying; the string must not outlive b's
// next modification.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

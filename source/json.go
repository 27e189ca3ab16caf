package source

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"unicode/utf8"
)

// errMore reports that a JSON value continues past the end of the bytes
// examined so far: the caller must read more input and try again.
var errMore = errors.New("source: need more input")

// maxDepth bounds the nesting of JSON values, as encoding/json does.
const maxDepth = 10000

// syntaxError is a JSON syntax error at a byte position of the buffer being
// parsed.
type syntaxError struct {
	pos int
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

// strSafe[c] is true for bytes that may appear unescaped inside a JSON string
// and need no special handling.
var strSafe = func() (t [256]bool) {
	for i := range t {
		t[i] = i >= 0x20 && i != '"' && i != '\\'
	}
	return t
}()

var isHex = func() (t [256]bool) {
	for _, c := range "0123456789abcdefABCDEF" {
		t[c] = true
	}
	return t
}()

// jsonParser validates one JSON value in b and finds where it ends. It is a
// hand-written recursive descent parser accepting exactly what json.Valid
// accepts. When the value may continue past len(b) it returns errMore, unless
// eof is set, in which case the end of b ends the input.
type jsonParser struct {
	b     []byte
	eof   bool
	ws    bool // insignificant whitespace was seen inside the value
	depth int
}

func (p *jsonParser) end(i int) error {
	if p.eof {
		return &syntaxError{i, "unexpected end of JSON input"}
	}
	return errMore
}

func (p *jsonParser) bad(i int, what string) error {
	if i < len(p.b) {
		return &syntaxError{i, fmt.Sprintf("invalid character %q %s", p.b[i], what)}
	}
	return &syntaxError{i, what}
}

func (p *jsonParser) skip(i int) int {
	b := p.b
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			p.ws = true
			i++
			continue
		}
		break
	}
	return i
}

// value parses the value starting at b[i] and returns the index just past it.
func (p *jsonParser) value(i int) (int, error) {
	if i >= len(p.b) {
		return i, p.end(i)
	}
	switch c := p.b[i]; {
	case c == '{':
		return p.object(i)
	case c == '[':
		return p.array(i)
	case c == '"':
		return p.str(i)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number(i)
	case c == 't':
		return p.literal(i, "true")
	case c == 'f':
		return p.literal(i, "false")
	case c == 'n':
		return p.literal(i, "null")
	}
	return i, p.bad(i, "looking for beginning of value")
}

func (p *jsonParser) object(i int) (int, error) {
	p.depth++
	if p.depth > maxDepth {
		return i, &syntaxError{i, "exceeded max depth"}
	}
	b := p.b
	i = p.skip(i + 1)
	if i >= len(b) {
		return i, p.end(i)
	}
	if b[i] == '}' {
		p.depth--
		return i + 1, nil
	}
	for {
		if b[i] != '"' {
			return i, p.bad(i, "looking for beginning of object key string")
		}
		var err error
		if i, err = p.str(i); err != nil {
			return i, err
		}
		i = p.skip(i)
		if i >= len(b) {
			return i, p.end(i)
		}
		if b[i] != ':' {
			return i, p.bad(i, "after object key")
		}
		if i, err = p.value(p.skip(i + 1)); err != nil {
			return i, err
		}
		i = p.skip(i)
		if i >= len(b) {
			return i, p.end(i)
		}
		switch b[i] {
		case ',':
			i = p.skip(i + 1)
			if i >= len(b) {
				return i, p.end(i)
			}
		case '}':
			p.depth--
			return i + 1, nil
		default:
			return i, p.bad(i, "after object key:value pair")
		}
	}
}

func (p *jsonParser) array(i int) (int, error) {
	p.depth++
	if p.depth > maxDepth {
		return i, &syntaxError{i, "exceeded max depth"}
	}
	b := p.b
	i = p.skip(i + 1)
	if i >= len(b) {
		return i, p.end(i)
	}
	if b[i] == ']' {
		p.depth--
		return i + 1, nil
	}
	for {
		var err error
		if i, err = p.value(i); err != nil {
			return i, err
		}
		i = p.skip(i)
		if i >= len(b) {
			return i, p.end(i)
		}
		switch b[i] {
		case ',':
			i = p.skip(i + 1)
		case ']':
			p.depth--
			return i + 1, nil
		default:
			return i, p.bad(i, "after array element")
		}
	}
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// special8 flags, in the high bit of each byte, the bytes of x (little
// endian) that are '"', '\\' or a control character. Only the lowest flag is
// exact (borrows can flag bytes above it), which is all the caller uses.
func special8(x uint64) uint64 {
	q := x ^ (lsb * '"')
	bs := x ^ (lsb * '\\')
	// The classic "has zero byte" and "has byte less than" tricks; bytes >=
	// 0x80 are excluded by &^.
	return (((q - lsb) &^ q) | ((bs - lsb) &^ bs) | ((x - lsb*0x20) &^ x)) & msb
}

func (p *jsonParser) str(i int) (int, error) {
	b := p.b
	i++
	for {
		for i+8 <= len(b) {
			if t := special8(binary.LittleEndian.Uint64(b[i:])); t != 0 {
				i += bits.TrailingZeros64(t) >> 3
				break
			}
			i += 8
		}
		for i < len(b) && strSafe[b[i]] {
			i++
		}
		if i >= len(b) {
			return i, p.end(i)
		}
		switch b[i] {
		case '"':
			return i + 1, nil
		case '\\':
			if i+1 >= len(b) {
				return i, p.end(i + 1)
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for k := 2; k < 6; k++ {
					if i+k >= len(b) {
						return i, p.end(i + k)
					}
					if !isHex[b[i+k]] {
						return i + k, p.bad(i+k, "in \\u hexadecimal character escape")
					}
				}
				i += 6
			default:
				return i + 1, p.bad(i+1, "in string escape code")
			}
		default:
			return i, p.bad(i, "in string literal")
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (p *jsonParser) number(i int) (int, error) {
	b := p.b
	if b[i] == '-' {
		i++
		if i >= len(b) {
			return i, p.end(i)
		}
	}
	switch {
	case b[i] == '0':
		i++
	case isDigit(b[i]):
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return i, p.bad(i, "in numeric literal")
	}
	// A number may go on as long as input does.
	if i >= len(b) {
		return i, p.numEnd(i)
	}
	if b[i] == '.' {
		i++
		if i >= len(b) {
			return i, p.end(i)
		}
		if !isDigit(b[i]) {
			return i, p.bad(i, "after decimal point in numeric literal")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		if i >= len(b) {
			return i, p.numEnd(i)
		}
	}
	if b[i] == 'e' || b[i] == 'E' {
		i++
		if i >= len(b) {
			return i, p.end(i)
		}
		if b[i] == '+' || b[i] == '-' {
			i++
			if i >= len(b) {
				return i, p.end(i)
			}
		}
		if !isDigit(b[i]) {
			return i, p.bad(i, "in exponent of numeric literal")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		if i >= len(b) {
			return i, p.numEnd(i)
		}
	}
	return i, nil
}

// numEnd handles a number that reaches the end of the examined bytes: it is
// complete at EOF and possibly incomplete otherwise.
func (p *jsonParser) numEnd(i int) error {
	if p.eof {
		return nil
	}
	return errMore
}

func (p *jsonParser) literal(i int, lit string) (int, error) {
	b := p.b
	for k := 0; k < len(lit); k++ {
		if i+k >= len(b) {
			return i + k, p.end(i + k)
		}
		if b[i+k] != lit[k] {
			return i + k, p.bad(i+k, "in literal "+lit+" (expecting '"+lit[k:k+1]+"')")
		}
	}
	return i + len(lit), nil
}

// validJSON reports whether b is exactly one JSON value, optionally
// surrounded by whitespace. It agrees with json.Valid.
func validJSON(b []byte) bool {
	p := jsonParser{b: b, eof: true}
	i, err := p.value(p.skip(0))
	if err != nil {
		return false
	}
	return p.skip(i) == len(b)
}

// AppendJSON appends data to dst as one compact JSON value and returns the
// extended slice: data itself when it is one JSON value without
// insignificant whitespace (what the JSON stream types deliver), data
// without that whitespace when it is one JSON value, and otherwise data as
// a JSON string (escaped as encoding/json does without HTML escaping). It
// parses data once and allocates only when dst must grow; the result never
// contains a newline outside strings, so it can be written as one line.
func AppendJSON(dst, data []byte) []byte {
	p := jsonParser{b: data, eof: true}
	start := p.skip(0)
	if end, err := p.value(start); err == nil && p.skip(end) == len(data) {
		v := data[start:end]
		if p.ws {
			return appendCompact(dst, v)
		}
		return append(dst, v...)
	}
	return appendJSONString(dst, data)
}

// appendJSONString appends s as a JSON string, as encoding/json encodes a
// string with SetEscapeHTML(false): invalid UTF-8 becomes U+FFFD, U+2028
// and U+2029 are escaped.
func appendJSONString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendCompact appends the valid JSON value v to dst without insignificant
// whitespace.
func appendCompact(dst, v []byte) []byte {
	inStr := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if inStr {
			dst = append(dst, c)
			switch c {
			case '\\':
				i++
				if i < len(v) {
					dst = append(dst, v[i])
				}
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			inStr = true
		}
		dst = append(dst, c)
	}
	return dst
}

package jsonscan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"unicode/utf8"
)

// ErrMore reports that a JSON value continues past the end of the bytes
// examined so far: the caller must read more input and try again (or set
// Parser.EOF when there is no more).
var ErrMore = errors.New("jsonscan: need more input")

// DefaultMaxDepth is encoding/json's nesting limit, the depth callers pass
// unless they need a lower one.
const DefaultMaxDepth = 10000

// SyntaxError is a JSON syntax error at a byte offset of the bytes being
// parsed. Its message, in encoding/json's words, does not include the
// offset: callers name the place in terms of their own input (object,
// line, stream offset).
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return e.Msg }

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

// Parser validates JSON values in B and finds where they end: a recursive
// descent parser accepting exactly what json.Valid accepts, including its
// nesting limit when MaxDepth is DefaultMaxDepth. It works incrementally:
// when a value may continue past len(B) the methods return ErrMore, unless
// EOF is set, in which case the end of B ends the input. A Parser is a
// value to make afresh (or copy) for each attempt; it does not allocate.
type Parser struct {
	B        []byte
	EOF      bool // B holds the rest of the input
	MaxDepth int  // nesting limit; 0 means DefaultMaxDepth
	Space    bool // set when insignificant whitespace was seen inside a value
	depth    int
}

// End returns the error for input ending at i: ErrMore, or a syntax error
// at EOF.
func (p *Parser) End(i int) error {
	if p.EOF {
		return &SyntaxError{i, "unexpected end of JSON input"}
	}
	return ErrMore
}

func (p *Parser) bad(i int, what string) error {
	if i < len(p.B) {
		return &SyntaxError{i, fmt.Sprintf("invalid character %q %s", p.B[i], what)}
	}
	return &SyntaxError{i, what}
}

func (p *Parser) enter(i int) error {
	p.depth++
	limit := p.MaxDepth
	if limit <= 0 {
		limit = DefaultMaxDepth
	}
	if p.depth > limit {
		return &SyntaxError{i, "exceeded max depth"}
	}
	return nil
}

// SkipSpace returns the index of the first byte at or after i that is not
// JSON whitespace (len(B) if none).
func (p *Parser) SkipSpace(i int) int {
	b := p.B
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			p.Space = true
			i++
			continue
		}
		break
	}
	return i
}

// Value parses the value starting at B[i] (no whitespace before it) and
// returns the index just past it.
func (p *Parser) Value(i int) (int, error) {
	if i >= len(p.B) {
		return i, p.End(i)
	}
	switch c := p.B[i]; {
	case c == '{':
		return p.object(i, nil)
	case c == '[':
		return p.array(i)
	case c == '"':
		return p.String(i)
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

// object parses the object at B[i]; f, when not nil, is called with the raw
// key and value of each member.
func (p *Parser) object(i int, f func(key, value []byte)) (int, error) {
	if err := p.enter(i); err != nil {
		return i, err
	}
	b := p.B
	i = p.SkipSpace(i + 1)
	if i >= len(b) {
		return i, p.End(i)
	}
	if b[i] == '}' {
		p.depth--
		return i + 1, nil
	}
	for {
		if b[i] != '"' {
			return i, p.bad(i, "looking for beginning of object key string")
		}
		key := i
		var err error
		if i, err = p.String(i); err != nil {
			return i, err
		}
		keyEnd := i
		i = p.SkipSpace(i)
		if i >= len(b) {
			return i, p.End(i)
		}
		if b[i] != ':' {
			return i, p.bad(i, "after object key")
		}
		v := p.SkipSpace(i + 1)
		if i, err = p.Value(v); err != nil {
			return i, err
		}
		if f != nil {
			f(b[key:keyEnd], b[v:i])
		}
		i = p.SkipSpace(i)
		if i >= len(b) {
			return i, p.End(i)
		}
		switch b[i] {
		case ',':
			i = p.SkipSpace(i + 1)
			if i >= len(b) {
				return i, p.End(i)
			}
		case '}':
			p.depth--
			return i + 1, nil
		default:
			return i, p.bad(i, "after object key:value pair")
		}
	}
}

func (p *Parser) array(i int) (int, error) {
	if err := p.enter(i); err != nil {
		return i, err
	}
	b := p.B
	i = p.SkipSpace(i + 1)
	if i >= len(b) {
		return i, p.End(i)
	}
	if b[i] == ']' {
		p.depth--
		return i + 1, nil
	}
	for {
		var err error
		if i, err = p.Value(i); err != nil {
			return i, err
		}
		i = p.SkipSpace(i)
		if i >= len(b) {
			return i, p.End(i)
		}
		switch b[i] {
		case ',':
			i = p.SkipSpace(i + 1)
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

// String parses the string starting with the quote at B[i] and returns the
// index just past its closing quote. Like encoding/json it accepts any
// bytes >= 0x20 (invalid UTF-8 included) inside strings.
func (p *Parser) String(i int) (int, error) {
	b := p.B
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
			return i, p.End(i)
		}
		switch b[i] {
		case '"':
			return i + 1, nil
		case '\\':
			if i+1 >= len(b) {
				return i, p.End(i + 1)
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for k := 2; k < 6; k++ {
					if i+k >= len(b) {
						return i, p.End(i + k)
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

func (p *Parser) number(i int) (int, error) {
	b := p.B
	if b[i] == '-' {
		i++
		if i >= len(b) {
			return i, p.End(i)
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
			return i, p.End(i)
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
			return i, p.End(i)
		}
		if b[i] == '+' || b[i] == '-' {
			i++
			if i >= len(b) {
				return i, p.End(i)
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
func (p *Parser) numEnd(i int) error {
	if p.EOF {
		return nil
	}
	return ErrMore
}

func (p *Parser) literal(i int, lit string) (int, error) {
	b := p.B
	for k := 0; k < len(lit); k++ {
		if i+k >= len(b) {
			return i + k, p.End(i + k)
		}
		if b[i+k] != lit[k] {
			return i + k, p.bad(i+k, "in literal "+lit+" (expecting '"+lit[k:k+1]+"')")
		}
	}
	return i + len(lit), nil
}

// Valid reports whether b is exactly one JSON value, optionally surrounded
// by whitespace, nested at most maxDepth deep (0: DefaultMaxDepth). With
// DefaultMaxDepth it agrees with json.Valid.
func Valid(b []byte, maxDepth int) bool {
	p := Parser{B: b, EOF: true, MaxDepth: maxDepth}
	end, err := p.Value(p.SkipSpace(0))
	return err == nil && p.SkipSpace(end) == len(b)
}

// Skip parses the JSON value starting at b[i] after optional whitespace and
// returns the index just past it. The error is a *SyntaxError whose offset
// is an index of b.
func Skip(b []byte, i, maxDepth int) (end int, err error) {
	p := Parser{B: b, EOF: true, MaxDepth: maxDepth}
	return p.Value(p.SkipSpace(i))
}

// AppendValue appends data to dst as one compact JSON value and returns the
// extended slice: data itself when it is one JSON value without
// insignificant whitespace, data without that whitespace when it is one
// JSON value (nested at most maxDepth deep), and otherwise data as a JSON
// string (AppendString). It parses data once and allocates only when dst
// must grow; the result never contains a newline outside strings, so it can
// be written as one line.
func AppendValue(dst, data []byte, maxDepth int) []byte {
	p := Parser{B: data, EOF: true, MaxDepth: maxDepth}
	start := p.SkipSpace(0)
	if end, err := p.Value(start); err == nil && p.SkipSpace(end) == len(data) {
		v := data[start:end]
		if p.Space {
			return Compact(dst, v)
		}
		return append(dst, v...)
	}
	return AppendString(dst, data)
}

// AppendString appends s as a JSON string, as encoding/json encodes a
// string with SetEscapeHTML(false): invalid UTF-8 becomes U+FFFD, U+2028
// and U+2029 are escaped.
func AppendString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Skip 8 bytes at a time while all are printable ASCII other than
		// '"' and '\\' (the lowest flag of special8 is exact, and so is
		// the high bit of a byte >= 0x80).
		for i+8 <= len(s) {
			x := binary.LittleEndian.Uint64(s[i:])
			if t := special8(x) | x&msb; t != 0 {
				i += bits.TrailingZeros64(t) >> 3
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
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

// Compact appends v, one valid JSON value, to dst without insignificant
// whitespace, as json.Compact does (v is not validated again).
func Compact(dst, v []byte) []byte {
	inStr := false
	from := 0
	for i := 0; i < len(v); i++ {
		if inStr {
			// Skip 8 bytes at a time up to a quote or backslash (or a
			// control byte, which valid JSON has none of in a string).
			for i+8 <= len(v) {
				if t := special8(binary.LittleEndian.Uint64(v[i:])); t != 0 {
					i += bits.TrailingZeros64(t) >> 3
					break
				}
				i += 8
			}
			if i >= len(v) {
				break
			}
			switch v[i] {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch v[i] {
		case '"':
			inStr = true
		case ' ', '\t', '\n', '\r':
			dst = append(dst, v[from:i]...)
			from = i + 1
		}
	}
	return append(dst, v[from:]...)
}

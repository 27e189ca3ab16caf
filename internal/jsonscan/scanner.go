package jsonscan

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// Scanner reads one JSON document token by token, for callers that decode
// as they go (the Security Lake converter). It validates what it reads
// (RFC 8259 grammar, and UTF-8 in strings, which encoding/json does not
// require) and never allocates on the common paths: strings without escapes
// are returned as views of the input. Data and Pos are the document and the
// position of the next byte to read; callers step over the single bytes
// they have peeked at ({, }, [, ], :, ,) by incrementing Pos.
type Scanner struct {
	Data     []byte
	Pos      int
	MaxDepth int    // nesting limit of Skip and Compact; 0 means DefaultMaxDepth
	scratch  []byte // unescaped string contents
}

// ErrSyntax is wrapped by every error of a Scanner about the JSON syntax.
var ErrSyntax = errors.New("invalid JSON")

// Reset starts reading data.
func (s *Scanner) Reset(data []byte) {
	s.Data = data
	s.Pos = 0
}

// SyntaxErr returns an error wrapping ErrSyntax that names what was
// expected and the current offset.
func (s *Scanner) SyntaxErr(what string) error {
	if s.Pos >= len(s.Data) {
		return fmt.Errorf("%w: %s at offset %d (unexpected end)", ErrSyntax, what, s.Pos)
	}
	return fmt.Errorf("%w: %s at offset %d", ErrSyntax, what, s.Pos)
}

// parseErr turns a Parser error into a Scanner error.
func parseErr(err error) error {
	var se *SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%w: %s at offset %d", ErrSyntax, se.Msg, se.Offset)
	}
	return err
}

func (s *Scanner) ws() {
	for s.Pos < len(s.Data) {
		switch s.Data[s.Pos] {
		case ' ', '\t', '\n', '\r':
			s.Pos++
		default:
			return
		}
	}
}

// Peek skips white space and returns the next byte, or 0 at the end.
func (s *Scanner) Peek() byte {
	if s.Pos < len(s.Data) && s.Data[s.Pos] > ' ' {
		return s.Data[s.Pos]
	}
	s.ws()
	if s.Pos < len(s.Data) {
		return s.Data[s.Pos]
	}
	return 0
}

// End reports an error if anything but white space follows.
func (s *Scanner) End() error {
	s.ws()
	if s.Pos != len(s.Data) {
		return s.SyntaxErr("data after the JSON document")
	}
	return nil
}

// Literal consumes lit (true, false, null) at the current position.
func (s *Scanner) Literal(lit string) error {
	if len(s.Data)-s.Pos >= len(lit) && string(s.Data[s.Pos:s.Pos+len(lit)]) == lit {
		s.Pos += len(lit)
		return nil
	}
	return s.SyntaxErr("invalid literal")
}

// Str reads a string; the current byte must be '"'. The result is a view of
// the input or of s.scratch and is valid until the next call.
func (s *Scanner) Str() ([]byte, error) {
	s.Pos++ // opening quote
	start := s.Pos
	d := s.Data
	i := s.Pos
	for {
		for i < len(d) && !strSpecial[d[i]] {
			i++
		}
		if i >= len(d) {
			s.Pos = i
			return nil, s.SyntaxErr("unterminated string")
		}
		switch c := d[i]; {
		case c == '"':
			s.Pos = i + 1
			return d[start:i], nil
		case c == '\\':
			s.Pos = i
			return s.strEscaped(start)
		case c < 0x20:
			s.Pos = i
			return nil, s.SyntaxErr("control character in string")
		default: // non-ASCII: validate one rune
			r, n := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && n <= 1 {
				s.Pos = i
				return nil, s.SyntaxErr("invalid UTF-8 in string")
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

// strEscaped reads the rest of a string that has an escape, s.Data[start-1]
// being its opening quote: Parser.String finds its end (checking escapes and
// control characters) and appendUnquoted decodes it, as for Unquoted, except
// that invalid UTF-8 is an error here instead of being replaced (the decoded
// string is valid UTF-8 exactly when the bytes between the quotes are, since
// every escape decodes to whole characters).
func (s *Scanner) strEscaped(start int) ([]byte, error) {
	p := Parser{B: s.Data, EOF: true}
	end, err := p.String(start - 1)
	if err != nil {
		s.Pos = end
		return nil, parseErr(err)
	}
	inner := s.Data[start : end-1]
	if !utf8.Valid(inner) {
		s.Pos = start
		return nil, s.SyntaxErr("invalid UTF-8 in string")
	}
	s.Pos = end
	s.scratch = appendUnquoted(s.scratch[:0], inner)
	return s.scratch, nil
}

// Number reads a JSON number and returns its text and whether it is an
// integer (no fraction, no exponent).
func (s *Scanner) Number() (tok []byte, isInt bool, err error) {
	s.Peek()
	start := s.Pos
	p := Parser{B: s.Data, EOF: true}
	end := start
	if start < len(s.Data) {
		end, err = p.number(start)
	} else {
		err = p.End(start)
	}
	if err != nil {
		s.Pos = end
		return nil, false, parseErr(err)
	}
	s.Pos = end
	tok = s.Data[start:end]
	return tok, !bytes.ContainsAny(tok, ".eE"), nil
}

// Int64 reads a JSON number that must be an integer in [lo, hi] (see Int).
func (s *Scanner) Int64(lo, hi int64) (int64, error) {
	tok, _, err := s.Number()
	if err != nil {
		return 0, err
	}
	return Int(tok, lo, hi)
}

// Uint64 reads a JSON integer in [0, hi].
func (s *Scanner) Uint64(hi uint64) (uint64, error) {
	tok, isInt, err := s.Number()
	if err != nil {
		return 0, err
	}
	if isInt {
		v, err := strconv.ParseUint(bstr(tok), 10, 64)
		if err != nil || v > hi {
			return 0, fmt.Errorf("number %s out of range", tok)
		}
		return v, nil
	}
	f, err := strconv.ParseFloat(bstr(tok), 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f > float64(hi) || f >= 0x1p64 {
		return 0, fmt.Errorf("number %s is not an integer in range", tok)
	}
	return uint64(f), nil
}

// Float64 reads a JSON number.
func (s *Scanner) Float64() (float64, error) {
	tok, _, err := s.Number()
	if err != nil {
		return 0, err
	}
	if v, ok := smallInt(tok); ok && len(tok) < 16 {
		return float64(v), nil
	}
	f, err := strconv.ParseFloat(bstr(tok), 64)
	if err != nil {
		return 0, fmt.Errorf("number %s out of range", tok)
	}
	return f, nil
}

// Skip consumes one value, validating it, strings as UTF-8 included.
func (s *Scanner) Skip() error {
	s.Peek()
	start := s.Pos
	p := Parser{B: s.Data, EOF: true, MaxDepth: s.MaxDepth}
	end, err := p.Value(start)
	if err != nil {
		s.Pos = end
		return parseErr(err)
	}
	if v := s.Data[start:end]; !utf8.Valid(v) {
		for i := 0; ; {
			r, n := utf8.DecodeRune(v[i:])
			if r == utf8.RuneError && n <= 1 {
				s.Pos = start + i
				return s.SyntaxErr("invalid UTF-8 in string")
			}
			i += n
		}
	}
	s.Pos = end
	return nil
}

// SkipFast consumes one value without validating it beyond what is needed
// to find its end (strings, brackets). The caller validates the document
// elsewhere.
func (s *Scanner) SkipFast() error {
	d := s.Data
	switch s.Peek() {
	case '"':
		return s.skipString()
	case '{', '[':
		depth := 0
		for s.Pos < len(d) {
			switch d[s.Pos] {
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
					s.Pos++
					return nil
				}
			}
			s.Pos++
		}
		return s.SyntaxErr("unterminated object or array")
	case 0:
		return s.SyntaxErr("expected a value")
	default:
		start := s.Pos
		for s.Pos < len(d) {
			switch d[s.Pos] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				if s.Pos == start {
					return s.SyntaxErr("expected a value")
				}
				return nil
			}
			s.Pos++
		}
		return nil
	}
}

// skipString skips a string starting at the current '"'.
func (s *Scanner) skipString() error {
	d := s.Data
	i := s.Pos + 1
	for {
		j := bytes.IndexByte(d[i:], '"')
		if j < 0 {
			s.Pos = len(d)
			return s.SyntaxErr("unterminated string")
		}
		i += j
		// An escaped quote has an odd number of backslashes before it.
		k := i - 1
		for k > s.Pos && d[k] == '\\' {
			k--
		}
		i++
		if (i-2-k)%2 == 0 {
			s.Pos = i
			return nil
		}
	}
}

// Compact consumes one value and appends its compact JSON text (no
// insignificant white space) to dst.
func (s *Scanner) Compact(dst []byte) ([]byte, error) {
	s.Peek()
	start := s.Pos
	if err := s.Skip(); err != nil {
		return dst, err
	}
	return Compact(dst, s.Data[start:s.Pos]), nil
}

// Object reads the object at the current position (which must be '{'),
// calling f with each key positioned at its value; f must consume the
// value. Keys are views valid until the next read. An error of f ends the
// reading and is returned.
func (s *Scanner) Object(f func(key []byte) error) error {
	s.Pos++ // {
	if s.Peek() == '}' {
		s.Pos++
		return nil
	}
	for {
		key, err := s.Key()
		if err != nil {
			return err
		}
		if err := f(key); err != nil {
			return err
		}
		if more, err := s.Next('}'); !more {
			return err
		}
	}
}

// Key reads an object key and the ':' after it. The key is a view valid
// until the next read.
func (s *Scanner) Key() ([]byte, error) {
	if s.Peek() != '"' {
		return nil, s.SyntaxErr("expected object key")
	}
	key, err := s.Str()
	if err != nil {
		return nil, err
	}
	if s.Peek() != ':' {
		return nil, s.SyntaxErr("expected ':'")
	}
	s.Pos++
	return key, nil
}

// Next reads what follows a member or an element: ',' (more is true) or
// closer ('}' or ']').
func (s *Scanner) Next(closer byte) (more bool, err error) {
	switch s.Peek() {
	case ',':
		s.Pos++
		return true, nil
	case closer:
		s.Pos++
		return false, nil
	}
	return false, s.SyntaxErr("expected ',' or '" + string(closer) + "'")
}

// bstr views b as a string without copying; the string must not outlive b's
// next modification.
func bstr(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

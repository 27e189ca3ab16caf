package jsonscan

import (
	"bytes"
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
)

// Unquoted returns the contents of s, one valid JSON string with its quotes
// (as Parser.String, Members or Skip delimit it), decoded as encoding/json
// decodes a string: escapes resolved, and each byte of invalid UTF-8 and
// each unpaired surrogate escape replaced by U+FFFD, so the result is always
// valid UTF-8. When s has nothing to decode (no escape, valid UTF-8) the
// result is a view of the bytes between the quotes; otherwise it is a new
// slice. s is not validated again.
func Unquoted(s []byte) []byte {
	inner := s[1 : len(s)-1]
	i := 0
	for ; i+8 <= len(inner); i += 8 { // ASCII without '\\', 8 bytes at a time
		x := binary.LittleEndian.Uint64(inner[i:])
		if bs := x ^ (lsb * '\\'); (x|((bs-lsb)&^bs))&msb != 0 {
			break
		}
	}
	for _, c := range inner[i:] {
		if c == '\\' || c >= utf8.RuneSelf {
			if bytes.IndexByte(inner[i:], '\\') < 0 && utf8.Valid(inner[i:]) {
				return inner
			}
			return appendUnquoted(make([]byte, 0, len(inner)+utf8.UTFMax), inner)
		}
	}
	return inner
}

// appendUnquoted appends the decoded contents of a valid JSON string (inner:
// without its quotes) to dst, as encoding/json's unquote does.
func appendUnquoted(dst, inner []byte) []byte {
	for i := 0; i < len(inner); {
		c := inner[i]
		switch {
		case c == '\\':
			e := inner[i+1]
			i += 2
			switch e {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := hex4(inner[i:])
				i += 4
				if utf16.IsSurrogate(r) {
					// A pair when a low surrogate escape follows; else
					// U+FFFD, and what follows is read on its own.
					if i+6 <= len(inner) && inner[i] == '\\' && inner[i+1] == 'u' {
						if d := utf16.DecodeRune(r, hex4(inner[i+2:])); d != utf8.RuneError {
							dst = utf8.AppendRune(dst, d)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, r)
			default: // '"', '\\', '/'
				dst = append(dst, e)
			}
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, n := utf8.DecodeRune(inner[i:]) // RuneError, 1 for a byte of invalid UTF-8
			dst = utf8.AppendRune(dst, r)
			i += n
		}
	}
	return dst
}

// hex4 decodes the 4 hexadecimal digits at the start of b (validated
// already).
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c >= 'a':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

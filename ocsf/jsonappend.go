package ocsf

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unsafe"

	"github.com/lakerelay/lakerelay/internal/jsonscan"
)

// The appenders below write JSON exactly as encoding/json does with
// SetEscapeHTML(false), for the mappers that write their events directly
// into a []byte. An object is written as '{', its members, '}'; each member
// starts with key(b, o, name), o being the index of the object's '{' in b,
// which writes the comma that separates it from the member before.

// key appends the key of a member of the object starting at b[o], after a
// comma unless it is the object's first member. name needs no escaping.
func key(b []byte, o int, name string) []byte {
	if len(b) > o+1 {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

// strMember appends the member name: v unless v is empty (omitempty).
func strMember(b []byte, o int, name, v string) []byte {
	if v == "" {
		return b
	}
	return appendString(key(b, o, name), v)
}

// intMember appends the member name: v.
func intMember(b []byte, o int, name string, v int64) []byte {
	return strconv.AppendInt(key(b, o, name), v, 10)
}

// appendString appends s, valid UTF-8, as a JSON string as encoding/json
// writes it with SetEscapeHTML(false): '"', '\\' and control characters
// escaped (\b, \f, \n, \r, \t in short form), U+2028 and U+2029 as \u2028
// and \u2029, everything else as it is.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		// Skip 8 bytes at a time while none needs a look.
		for i+8 <= len(s) {
			if t := special8(load64(s[i:])); t != 0 {
				i += bits.TrailingZeros64(t) >> 3
				break
			}
			i += 8
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c != 0xE2 {
			continue
		}
		var esc string
		switch c {
		case '"':
			esc = `\"`
		case '\\':
			esc = `\\`
		case '\b':
			esc = `\b`
		case '\f':
			esc = `\f`
		case '\n':
			esc = `\n`
		case '\r':
			esc = `\r`
		case '\t':
			esc = `\t`
		case 0xE2: // U+2028 and U+2029 are E2 80 A8 and E2 80 A9
			if i+2 >= len(s) || s[i+1] != 0x80 || s[i+2]&^1 != 0xA8 {
				continue
			}
			esc = `\u2028`
			if s[i+2] == 0xA9 {
				esc = `\u2029`
			}
			b = append(b, s[start:i]...)
			b = append(b, esc...)
			i += 2
			start = i + 1
			continue
		default:
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			start = i + 1
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, esc...)
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// special8 flags, in the high bit of each byte, the bytes of x (8 bytes of a
// string, little endian) that appendString looks at: '"', '\\', control
// characters and 0xE2. Only the lowest flag is exact (borrows can flag bytes
// above it), which is all appendString uses.
func special8(x uint64) uint64 {
	q := x ^ (lsb * '"')
	bs := x ^ (lsb * '\\')
	e2 := x ^ (lsb * 0xE2)
	// "Has a zero byte" for the three equalities, "has a byte less than
	// 0x20" for control characters (bytes >= 0x80 excluded by &^ x).
	return (((q - lsb) &^ q) | ((bs - lsb) &^ bs) | ((e2 - lsb) &^ e2) | ((x - lsb*0x20) &^ x)) & msb
}

// appendCompact appends v, one valid JSON value, without insignificant white
// space (jsonscan.Compact). Valid JSON has bytes up to 0x20 only as white
// space, and spaces in strings: a value without any is copied as it is.
func appendCompact(b, v []byte) []byte {
	i := 0
	for ; i+8 <= len(v); i += 8 {
		if x := binary.LittleEndian.Uint64(v[i:]); (x-lsb*0x21)&^x&msb != 0 {
			return jsonscan.Compact(b, v)
		}
	}
	for ; i < len(v); i++ {
		if v[i] <= 0x20 {
			return jsonscan.Compact(b, v)
		}
	}
	return append(b, v...)
}

// load64 reads the first 8 bytes of s, little endian.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// unquote returns the contents of the valid JSON string token s, decoded as
// encoding/json decodes it (see jsonscan.Unquoted): a view of s when there
// is nothing to decode. The string must not outlive s.
func unquote(s []byte) string {
	return bstr(jsonscan.Unquoted(s))
}

// bstr views b as a string without copying; the string must not outlive b,
// and b must not change while it is in use.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// isNull reports whether v, a JSON value without surrounding space, is null.
func isNull(v []byte) bool { return len(v) == 4 && v[0] == 'n' }

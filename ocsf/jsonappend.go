package ocsf

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
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

// appendString appends s as a JSON string as encoding/json writes it with
// SetEscapeHTML(false) (jsonscan.AppendString).
func appendString(b []byte, s string) []byte {
	return jsonscan.AppendString(b, unsafe.Slice(unsafe.StringData(s), len(s)))
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// appendCompact appends v, one valid JSON value, without insignificant white
// space (jsonscan.Compact) and with each byte of invalid UTF-8 in its strings
// replaced by U+FFFD, as encoding/json decodes it. Valid JSON has bytes up
// to 0x20 only as white space, and spaces in strings; a value of other ASCII
// bytes only is copied as it is.
func appendCompact(b, v []byte) []byte {
	i := 0
	for ; i+8 <= len(v); i += 8 {
		// A byte below 0x21 borrows into its high bit; one from 0x80 has it.
		if x := binary.LittleEndian.Uint64(v[i:]); (x-lsb*0x21|x)&msb != 0 {
			return appendCompactSlow(b, v)
		}
	}
	for ; i < len(v); i++ {
		if v[i] <= 0x20 || v[i] >= utf8.RuneSelf {
			return appendCompactSlow(b, v)
		}
	}
	return append(b, v...)
}

// appendCompactSlow is appendCompact for a value with white space or
// non-ASCII bytes.
func appendCompactSlow(b, v []byte) []byte {
	if utf8.Valid(v) {
		return jsonscan.Compact(b, v)
	}
	// Outside strings valid JSON is ASCII: only string contents change.
	valid := make([]byte, 0, len(v)+16)
	for len(v) > 0 {
		r, n := utf8.DecodeRune(v)
		if r == utf8.RuneError && n == 1 {
			valid = utf8.AppendRune(valid, utf8.RuneError)
		} else {
			valid = append(valid, v[:n]...)
		}
		v = v[n:]
	}
	return jsonscan.Compact(b, valid)
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

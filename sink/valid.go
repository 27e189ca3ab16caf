package sink

import (
	"encoding/binary"
	"math/bits"
)

// validJSON reports whether data is one valid JSON value (RFC 8259),
// surrounded by optional whitespace. It agrees with encoding/json.Valid,
// including its nesting limit and its acceptance of any bytes >= 0x20
// inside strings, and is several times faster; FuzzValidJSON compares the
// two.
func validJSON(data []byte) bool {
	var stackBuf [64]byte
	stack := stackBuf[:0] // open containers: '{' or '['
	i := skipWS(data, 0)
	needValue := true
	for {
		if needValue {
			if i >= len(data) {
				return false
			}
			switch c := data[i]; {
			case c == '{' || c == '[':
				if len(stack) >= maxJSONDepth {
					return false
				}
				i = skipWS(data, i+1)
				closer := byte('}')
				if c == '[' {
					closer = ']'
				}
				if i < len(data) && data[i] == closer {
					i++
					needValue = false
					break
				}
				stack = append(stack, c)
				if c == '{' {
					if i = objectKey(data, i); i < 0 {
						return false
					}
				}
				continue // a value follows
			case c == '"':
				if i = scanString(data, i); i < 0 {
					return false
				}
			case c == 't':
				if i = literal(data, i, "true"); i < 0 {
					return false
				}
			case c == 'f':
				if i = literal(data, i, "false"); i < 0 {
					return false
				}
			case c == 'n':
				if i = literal(data, i, "null"); i < 0 {
					return false
				}
			case c == '-' || c >= '0' && c <= '9':
				if i = scanNumber(data, i); i < 0 {
					return false
				}
			default:
				return false
			}
			needValue = false
			continue
		}
		// After a value.
		i = skipWS(data, i)
		if len(stack) == 0 {
			return i == len(data)
		}
		if i >= len(data) {
			return false
		}
		top := stack[len(stack)-1]
		switch data[i] {
		case ',':
			i = skipWS(data, i+1)
			if top == '{' {
				if i = objectKey(data, i); i < 0 {
					return false
				}
			}
			needValue = true
		case '}':
			if top != '{' {
				return false
			}
			stack = stack[:len(stack)-1]
			i++
		case ']':
			if top != '[' {
				return false
			}
			stack = stack[:len(stack)-1]
			i++
		default:
			return false
		}
	}
}

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

func skipWS(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// objectKey parses `"key" :` at i (after whitespace) and returns the index
// after the colon and following whitespace, or -1.
func objectKey(data []byte, i int) int {
	if i >= len(data) || data[i] != '"' {
		return -1
	}
	if i = scanString(data, i); i < 0 {
		return -1
	}
	i = skipWS(data, i)
	if i >= len(data) || data[i] != ':' {
		return -1
	}
	return skipWS(data, i+1)
}

func literal(data []byte, i int, lit string) int {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasZero is non-zero when a byte of x is zero.
func hasZero(x uint64) uint64 { return (x - lsb) & ^x & msb }

// hasLess is non-zero when a byte of x is below n (n <= 128).
func hasLess(x uint64, n uint64) uint64 { return (x - lsb*n) & ^x & msb }

// plainStringByte marks the bytes a string may hold without escaping.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString scans the string starting with the quote at i and returns the
// index after its closing quote, or -1.
func scanString(data []byte, i int) int {
	i++
	for {
		// Skip 8 plain bytes at a time (no '"', no '\\', nothing below
		// 0x20); the lowest flagged byte of a word is exact.
		for i+8 <= len(data) {
			x := binary.LittleEndian.Uint64(data[i:])
			if m := hasLess(x, 0x20) | hasZero(x^(lsb*'"')) | hasZero(x^(lsb*'\\')); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < len(data) && plainStringByte[data[i]] {
			i++
		}
		if i >= len(data) {
			return -1
		}
		switch data[i] {
		case '"':
			return i + 1
		case '\\':
			if i+1 >= len(data) {
				return -1
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(data)-i < 6 {
					return -1
				}
				for _, h := range data[i+2 : i+6] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return -1
					}
				}
				i += 6
			default:
				return -1
			}
		default: // a control character
			return -1
		}
	}
}

// scanNumber scans the number at i and returns the index after it, or -1.
func scanNumber(data []byte, i int) int {
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	default:
		return -1
	}
	if i < len(data) && data[i] == '.' {
		i++
		start := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		if i == start {
			return -1
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		start := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		if i == start {
			return -1
		}
	}
	return i
}

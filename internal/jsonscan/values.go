package jsonscan

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Time parses raw, a JSON value holding a time: a number of epoch
// milliseconds — an integer, or with a fraction or exponent, truncated to
// the millisecond and within ±1e15 — or an RFC 3339 string
// (time.RFC3339Nano). Anything else, null included, is an error that names
// what raw holds but never a string's contents; callers add the field path.
// It is ocsf.EventTime, for the packages that do not import ocsf.
func Time(raw []byte) (time.Time, error) {
	raw = trimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		s, ok := unquote(raw)
		t, err := time.Parse(time.RFC3339Nano, s)
		if !ok || err != nil {
			return time.Time{}, fmt.Errorf("expected an RFC 3339 time such as 2006-01-02T15:04:05Z or epoch milliseconds, got a string of %d bytes that is neither", len(s))
		}
		return t, nil
	}
	if !isNumber(raw) {
		return time.Time{}, fmt.Errorf("expected epoch milliseconds or an RFC 3339 time string, got %s", Kind(raw))
	}
	if ms, ok := smallInt(raw); ok {
		return time.UnixMilli(ms), nil
	}
	if ms, err := strconv.ParseInt(bstr(raw), 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	f, err := strconv.ParseFloat(bstr(raw), 64)
	if err != nil || !(f > -1e15 && f < 1e15) {
		return time.Time{}, fmt.Errorf("epoch milliseconds %s out of range", raw)
	}
	return time.UnixMilli(int64(f)), nil
}

// Int parses raw, a JSON number that must be an integer in [lo, hi]
// (written as such or as an integral number such as 3002.0 or 2e3).
// Anything else is an error naming what raw holds; callers add the field
// path.
func Int(raw []byte, lo, hi int64) (int64, error) {
	raw = trimSpace(raw)
	if !isNumber(raw) {
		return 0, fmt.Errorf("expected an integer, got %s", Kind(raw))
	}
	v, ok := smallInt(raw)
	if !ok {
		f, err := strconv.ParseFloat(bstr(raw), 64)
		if err != nil || f != math.Trunc(f) || f < float64(lo) || f > float64(hi) || f >= 0x1p63 {
			return 0, fmt.Errorf("number %s is not an integer in [%d, %d]", raw, lo, hi)
		}
		v = int64(f)
	}
	if v < lo || v > hi {
		return 0, fmt.Errorf("number %s is not an integer in [%d, %d]", raw, lo, hi)
	}
	return v, nil
}

// smallInt parses raw, a JSON number, when it is an integer of at most 18
// digits: the common case, without strconv.
func smallInt(raw []byte) (int64, bool) {
	t := raw
	if t[0] == '-' {
		t = t[1:]
	}
	if len(t) == 0 || len(t) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range t {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if raw[0] == '-' {
		v = -v
	}
	return v, true
}

func isNumber(raw []byte) bool {
	return len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9')
}

// Kind names the JSON type of raw for error messages: "a string", "an
// object", "an array", "a boolean", "null", "a number" or "nothing".
func Kind(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// unquote decodes the JSON string raw. Without escapes the result is a view
// of raw, for parsing only (time.Parse keeps no part of an RFC 3339 text).
func unquote(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' || c < 0x20 || c == '"' {
			var s string
			err := json.Unmarshal(raw, &s)
			return s, err == nil
		}
	}
	return bstr(inner), true
}

// trimSpace removes JSON whitespace around a value.
func trimSpace(raw []byte) []byte {
	for len(raw) > 0 && isSpace(raw[0]) {
		raw = raw[1:]
	}
	for len(raw) > 0 && isSpace(raw[len(raw)-1]) {
		raw = raw[:len(raw)-1]
	}
	return raw
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

package securitylake

import (
	"errors"
	"fmt"
	"math"
)

// meta is what decides where a record goes: its class, its time and the
// cloud region and account it belongs to.
type meta struct {
	classUID int64
	time     int64 // epoch milliseconds
	hasClass bool
	hasTime  bool
	region   string
	account  string
}

// scanMeta reads class_uid, time, cloud.region and cloud.account.uid from an
// OCSF JSON document. It skips everything else without validating it and
// stops once it has all four: the converter validates the whole document
// later. The strings it returns are copies.
func scanMeta(s *scanner, data []byte) (meta, error) {
	var m meta
	s.reset(data)
	if s.peek() != '{' {
		return m, fmt.Errorf("%w: a record must be a JSON object", errSyntax)
	}
	cloudDone := false
	err := members(s, func(key []byte) error {
		if m.hasClass && m.hasTime && cloudDone {
			return errStop
		}
		switch string(key) {
		case "class_uid":
			if s.peek() == 'n' {
				return s.literal("null")
			}
			if !isNumStart(s.peek()) {
				return &FieldError{Path: "class_uid", Err: mismatch("number", s.peek())}
			}
			v, err := s.int64(math.MinInt32, math.MaxInt32)
			if err != nil {
				return &FieldError{Path: "class_uid", Err: err}
			}
			m.classUID, m.hasClass = v, true
			return nil
		case "time":
			if s.peek() == 'n' {
				return s.literal("null")
			}
			if !isNumStart(s.peek()) {
				return &FieldError{Path: "time", Err: mismatch("number (epoch milliseconds)", s.peek())}
			}
			v, err := s.int64(math.MinInt64, math.MaxInt64)
			if err != nil {
				return &FieldError{Path: "time", Err: err}
			}
			m.time, m.hasTime = v, true
			return nil
		case "cloud":
			cloudDone = true
			if s.peek() != '{' {
				return s.skipFast()
			}
			return members(s, func(key []byte) error {
				switch string(key) {
				case "region":
					return stringMember(s, "cloud.region", &m.region, &s.lastRegion)
				case "account":
					if s.peek() != '{' {
						return s.skipFast()
					}
					return members(s, func(key []byte) error {
						if string(key) == "uid" {
							return stringMember(s, "cloud.account.uid", &m.account, &s.lastAccount)
						}
						return s.skipFast()
					})
				}
				return s.skipFast()
			})
		}
		return s.skipFast()
	})
	if err == errStop {
		err = nil
	}
	return m, err
}

// errStop ends an iteration early.
var errStop = errors.New("stop")

func isNumStart(c byte) bool { return c == '-' || (c >= '0' && c <= '9') }

// stringMember reads a string or null into dst; last caches the previous
// value so that repeated values are not copied again.
func stringMember(s *scanner, path string, dst, last *string) error {
	switch s.peek() {
	case 'n':
		return s.literal("null")
	case '"':
		v, err := s.str()
		if err != nil {
			return err
		}
		if string(v) != *last {
			*last = string(v)
		}
		*dst = *last
		return nil
	}
	return &FieldError{Path: path, Err: mismatch("string", s.peek())}
}

// members iterates over the members of the object at the scanner position
// (which must be '{'), calling f with each key positioned at its value; f
// must consume the value.
func members(s *scanner, f func(key []byte) error) error {
	s.pos++ // {
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.syntaxErr("expected object key")
		}
		key, err := s.str()
		if err != nil {
			return err
		}
		if s.peek() != ':' {
			return s.syntaxErr("expected ':'")
		}
		s.pos++
		if err := f(key); err != nil {
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
}

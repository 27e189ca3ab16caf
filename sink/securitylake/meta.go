package securitylake

import (
	"errors"
	"fmt"

	"github.com/lakerelay/lakerelay/ocsf"
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
// OCSF JSON document, class and time as ocsf.EventClassUID and
// ocsf.EventTime read them. It skips everything else without validating it
// and stops once it has all four: the converter validates the whole
// document later. The strings it returns are copies.
func scanMeta(s *scanner, data []byte) (meta, error) {
	var m meta
	s.Reset(data)
	if s.Peek() != '{' {
		return m, fmt.Errorf("%w: a record must be a JSON object", errSyntax)
	}
	cloudDone := false
	err := s.Object(func(key []byte) error {
		if m.hasClass && m.hasTime && cloudDone {
			return errStop
		}
		switch string(key) {
		case "class_uid":
			v, err := eventField(s)
			if v == nil || err != nil {
				return err
			}
			uid, err := ocsf.EventClassUID(v)
			if err != nil {
				return &FieldError{Path: "class_uid", Err: err}
			}
			m.classUID, m.hasClass = int64(uid), true
			return nil
		case "time":
			v, err := eventField(s)
			if v == nil || err != nil {
				return err
			}
			t, err := ocsf.EventTime(v)
			if err != nil {
				return &FieldError{Path: "time", Err: err}
			}
			m.time, m.hasTime = t.UnixMilli(), true
			return nil
		case "cloud":
			cloudDone = true
			if s.Peek() != '{' {
				return s.SkipFast()
			}
			return s.Object(func(key []byte) error {
				switch string(key) {
				case "region":
					return stringMember(s, "cloud.region", &m.region, &s.lastRegion)
				case "account":
					if s.Peek() != '{' {
						return s.SkipFast()
					}
					return s.Object(func(key []byte) error {
						if string(key) == "uid" {
							return stringMember(s, "cloud.account.uid", &m.account, &s.lastAccount)
						}
						return s.SkipFast()
					})
				}
				return s.SkipFast()
			})
		}
		return s.SkipFast()
	})
	if err == errStop {
		err = nil
	}
	return m, err
}

// errStop ends an iteration early.
var errStop = errors.New("stop")

// eventField reads the raw value of a field, validated: nil for null.
func eventField(s *scanner) ([]byte, error) {
	if s.Peek() == 'n' {
		return nil, s.Literal("null")
	}
	start := s.Pos
	if err := s.Skip(); err != nil {
		return nil, err
	}
	return s.Data[start:s.Pos], nil
}

// stringMember reads a string or null into dst; last caches the previous
// value so that repeated values are not copied again.
func stringMember(s *scanner, path string, dst, last *string) error {
	switch s.Peek() {
	case 'n':
		return s.Literal("null")
	case '"':
		v, err := s.Str()
		if err != nil {
			return err
		}
		if string(v) != *last {
			*last = string(v)
		}
		*dst = *last
		return nil
	}
	return &FieldError{Path: path, Err: mismatch("string", s.Peek())}
}

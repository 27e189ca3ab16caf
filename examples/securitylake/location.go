package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lakerelay/lakerelay/internal/awsenv"
)

// sourceLocation is one --source-location value:
//
//	[CLASS=]s3://BUCKET/PREFIX/[;role=ARN[;external-id=ID]]
//
// ";" cannot occur in a role ARN or an external id, so it separates the
// options unambiguously.
type sourceLocation struct {
	class      string // class name or uid; "" for a plain location
	location   string // s3://… (or, plain and without a role, anything: checked by the caller)
	role       string // role to assume for this location, or ""
	externalID string
}

// parseSourceLocation parses a --source-location value. Errors name the
// part that is wrong.
func parseSourceLocation(v string) (sourceLocation, error) {
	var sl sourceLocation
	loc, opts, hasOpts := strings.Cut(v, ";")
	if !strings.HasPrefix(loc, "s3://") {
		if cls, rest, ok := strings.Cut(loc, "="); ok {
			if cls == "" {
				return sl, errors.New("empty class before \"=\"")
			}
			sl.class, loc = cls, rest
		}
	}
	if loc == "" {
		return sl, errors.New("empty location")
	}
	sl.location = loc
	seen := map[string]bool{}
	var list []string
	if hasOpts {
		list = strings.Split(opts, ";")
	}
	for _, opt := range list {
		name, value, ok := strings.Cut(opt, "=")
		switch {
		case !ok || value == "":
			return sl, fmt.Errorf("option %q: want role=ARN or external-id=ID", opt)
		case seen[name]:
			return sl, fmt.Errorf("option %s given twice", name)
		case name == "role":
			sl.role = value
		case name == "external-id":
			sl.externalID = value
		default:
			return sl, fmt.Errorf("unknown option %q (want role=ARN, external-id=ID)", name)
		}
		seen[name] = true
	}
	if sl.role == "" && sl.externalID == "" {
		return sl, nil
	}
	if !strings.HasPrefix(sl.location, "s3://") {
		return sl, fmt.Errorf("role and external-id apply to s3:// locations, not %q", sl.location)
	}
	if err := (awsenv.Options{RoleARN: sl.role, ExternalID: sl.externalID}).Validate(); err != nil {
		return sl, err
	}
	return sl, nil
}

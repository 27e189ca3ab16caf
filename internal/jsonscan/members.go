package jsonscan

import (
	"encoding/json"
	"errors"
)

// ErrNotObject is returned by Members for valid JSON that is not an object.
var ErrNotObject = errors.New("jsonscan: not a JSON object")

// Members parses data, one JSON object optionally surrounded by whitespace
// and nested at most maxDepth deep (0: DefaultMaxDepth), and calls f with
// the raw key (quoted and escaped as written; see KeyIs) and the raw value
// of each top-level member, in order, duplicates included. It validates all
// of data in the same pass: the error is a *SyntaxError (with an offset in
// data) when data is not valid JSON, and ErrNotObject when it is valid but
// not an object. f may have been called for the members before a syntax
// error; callers discard what they gathered when Members fails. The slices
// are views of data.
func Members(data []byte, maxDepth int, f func(key, value []byte)) error {
	p := Parser{B: data, EOF: true, MaxDepth: maxDepth}
	i := p.SkipSpace(0)
	var end int
	var err error
	object := i < len(data) && data[i] == '{'
	if object {
		end, err = p.object(i, f)
	} else {
		end, err = p.Value(i)
	}
	if err != nil {
		return err
	}
	if j := p.SkipSpace(end); j != len(data) {
		return p.bad(j, "after top-level value")
	}
	if !object {
		return ErrNotObject
	}
	return nil
}

// KeyIs reports whether raw, a valid JSON string as written (quotes
// included), decodes to name.
func KeyIs(raw []byte, name string) bool {
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' || c >= 0x80 {
			var s string
			return json.Unmarshal(raw, &s) == nil && s == name
		}
	}
	return string(inner) == name
}

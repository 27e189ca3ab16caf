package source

import "github.com/lakerelay/lakerelay/internal/jsonscan"

// AppendJSON appends data to dst as one compact JSON value and returns the
// extended slice: data itself when it is one JSON value without
// insignificant whitespace (what the JSON stream types deliver), data
// without that whitespace when it is one JSON value, and otherwise data as
// a JSON string (escaped as encoding/json does without HTML escaping). It
// parses data once and allocates only when dst must grow; the result never
// contains a newline outside strings, so it can be written as one line.
func AppendJSON(dst, data []byte) []byte {
	return jsonscan.AppendValue(dst, data, jsonscan.DefaultMaxDepth)
}

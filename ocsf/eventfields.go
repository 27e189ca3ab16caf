package ocsf

import (
	"math"
	"time"

	"github.com/lakerelay/lakerelay/internal/jsonscan"
)

// EventTime parses raw, the JSON value of an event's time (or another
// timestamp_t attribute) as written in the event. It is the one way
// lakerelay reads event times — the JSONL sink's RecordTime, the Security
// Lake sink's partitioning and its converter all accept exactly this: a
// number of epoch milliseconds (an integer, or with a fraction or exponent,
// truncated to the millisecond and within ±1e15) or an RFC 3339 string
// (time.RFC3339Nano). Anything else, null included, is an error that names
// what raw holds but never a string's contents; callers add the field path.
func EventTime(raw []byte) (time.Time, error) { return jsonscan.Time(raw) }

// EventClassUID parses raw, the JSON value of an event's class_uid as
// written in the event: an integer (written as such or as an integral
// number such as 3002.0) in the range of int32. Anything else, null
// included, is an error naming what raw holds; callers add the field path.
func EventClassUID(raw []byte) (int32, error) {
	v, err := jsonscan.Int(raw, math.MinInt32, math.MaxInt32)
	return int32(v), err
}

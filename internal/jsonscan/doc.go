// Package jsonscan is the one JSON scanner of lakerelay: every package that
// looks at JSON bytes without decoding them into Go values uses it.
//
//   - Parser validates JSON values and finds their ends, incrementally:
//     with EOF unset it returns ErrMore when a value may continue past the
//     bytes it has, which is how source splits NDJSON, concatenated JSON and
//     arrays from a stream. It accepts exactly what encoding/json accepts.
//   - Valid, Skip, Compact, AppendValue and AppendString are the one-shot
//     forms: a record checked, a value skipped, whitespace removed, any
//     bytes made one JSON line.
//   - Members iterates over the top-level members of an object while
//     validating it, in one pass (sink's record fields and time).
//   - Scanner reads a document token by token for decoders (the Security
//     Lake converter), additionally requiring UTF-8 in strings.
//   - Time and Int read the time and integer values of events; they are
//     ocsf.EventTime and ocsf.EventClassUID for packages that do not import
//     ocsf.
//
// Nesting is limited by a depth each caller passes; DefaultMaxDepth is
// encoding/json's limit. Errors are *SyntaxError with an offset into the
// bytes parsed (Scanner wraps ErrSyntax and names the offset); callers add
// where the bytes came from. FuzzJSON checks the package against
// encoding/json.
package jsonscan

package securitylake

// The JSON walk of the converter: it reads each OCSF document once and
// appends its values to the column builders of columns.go, checking them
// against the schema.

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/lakerelay/lakerelay/ocsf"
)

// FieldError says why a record does not fit the schema. Path names the field
// in dotted form with list indices ("resources[2].uid"); it wraps the
// underlying cause.
type FieldError struct {
	Path string
	Err  error
}

func (e *FieldError) Error() string {
	if e.Path == "" {
		return "securitylake: " + e.Err.Error()
	}
	return "securitylake: field " + e.Path + ": " + e.Err.Error()
}

func (e *FieldError) Unwrap() error { return e.Err }

// converter turns OCSF JSON documents into Arrow record batches for one
// schema. It is owned by one goroutine.
type converter struct {
	schema   *arrow.Schema
	root     *node
	unmapped *node // top-level "unmapped" utf8 column, or nil
	time     *node // top-level "time" int64 column (epoch milliseconds), or nil

	s     scanner
	str   scanner // reads the unmapped value when it is a JSON string
	dry   bool    // validate only; builders are not touched
	stack []frame
	extra []byte // unknown fields of the current row, as JSON members
	drops        // unknown fields dropped, with Options.DropUnknownFields
	orig  []byte // the row's own "unmapped" value, compact JSON
	tmp   []byte
	rows  int
}

type frame struct {
	n   *node
	key string
	idx int // list index, -1 for a struct member
}

func newConverter(schema *arrow.Schema) (*converter, error) {
	if schema == nil {
		return nil, errors.New("securitylake: nil schema")
	}
	root := &node{kind: kStruct, index: map[string]*node{}, fold: map[string]*node{}}
	for _, f := range schema.Fields() {
		n, err := planField(f, f.Name)
		if err != nil {
			return nil, err
		}
		root.add(n)
	}
	c := &converter{schema: schema, root: root}
	if u := root.index["unmapped"]; u != nil && (u.kind == kString || u.kind == kLargeString) {
		c.unmapped = u
	}
	if t := root.index["time"]; t != nil && t.kind == kInt64 {
		c.time = t
	}
	c.reset()
	return c, nil
}

// reset empties every column.
func (c *converter) reset() {
	for _, k := range c.root.kids {
		resetNode(k)
	}
	c.rows = 0
}

// release drops the columns' memory.
func (c *converter) release() {
	var drop func(n *node)
	drop = func(n *node) {
		n.valid, n.fixed, n.bits, n.offs, n.offs64, n.data = nil, nil, nil, nil, nil, nil
		for _, k := range n.kids {
			drop(k)
		}
		if n.elem != nil {
			drop(n.elem)
		}
	}
	for _, k := range c.root.kids {
		drop(k)
	}
	c.reset()
}

// record builds the record batch of the rows converted so far and empties
// the columns.
func (c *converter) record() arrow.RecordBatch {
	cols := make([]arrow.Array, len(c.root.kids))
	for i, k := range c.root.kids {
		k.padTo(c.rows)
		k.finish()
		d := k.build()
		cols[i] = array.MakeFromData(d)
		d.Release()
	}
	rec := array.NewRecordBatch(c.schema, cols, int64(c.rows))
	for _, a := range cols {
		a.Release()
	}
	c.reset()
	return rec
}

// rowError is a record that did not convert.
type rowError struct {
	i   int // index into the input
	err error
}

// convert appends rows to a record batch. Rows that do not fit the schema
// are left out and reported with their index; the batch holds the others in
// input order. The batch is nil when no row converted. It shares the
// converter's column memory: it must be released, and no longer read,
// before the next call to convert.
func (c *converter) convert(rows [][]byte) (arrow.RecordBatch, []rowError) {
	var bad []rowError
	c.dry = false
	c.drops.clear()
	for i, data := range rows {
		if err := c.row(data); err != nil {
			bad = append(bad, rowError{i, err})
			c.dry = true // builders are inconsistent now: only find the other bad rows
		}
	}
	if len(bad) > 0 {
		c.dry = false
		c.drops.clear()
		c.reset()
		next := 0
		for i, data := range rows {
			if next < len(bad) && bad[next].i == i {
				next++
				continue
			}
			if err := c.row(data); err != nil {
				// Cannot happen: the same row validated in the first pass.
				// Report it rather than write an inconsistent batch.
				bad = append(bad, rowError{i, fmt.Errorf("securitylake: internal: row converted once and failed again: %w", err)})
				c.reset()
				return nil, bad
			}
		}
	}
	if c.rows == 0 {
		c.reset()
		return nil, bad
	}
	return c.record(), bad
}

func (c *converter) fieldErr(err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		return err
	}
	return &FieldError{Path: c.path(""), Err: err}
}

// path renders the current position, plus key if not empty.
func (c *converter) path(key string) string {
	var b strings.Builder
	for _, f := range c.stack {
		if f.idx >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(f.idx))
			b.WriteByte(']')
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(f.key)
	}
	if key != "" {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(key)
	}
	return b.String()
}

// row converts one document.
func (c *converter) row(data []byte) error {
	c.s.Reset(data)
	c.s.MaxDepth = maxDepth
	c.stack = c.stack[:0]
	c.extra = c.extra[:0]
	c.extraPaths = c.extraPaths[:0]
	c.orig = c.orig[:0]
	hasOrig := false
	root := c.root
	root.gen++
	if c.s.Peek() != '{' {
		return &FieldError{Err: fmt.Errorf("%w: a record must be a JSON object", errSyntax)}
	}
	c.s.Pos++
	if c.s.Peek() == '}' {
		c.s.Pos++
	} else {
		for {
			key, err := c.s.Key()
			if err != nil {
				return c.fieldErr(err)
			}
			k := lookup(root, key)
			switch {
			case k == nil:
				if err := c.unknown(key); err != nil {
					return err
				}
			case k.seen == root.gen:
				return &FieldError{Path: c.path(bstr(key)), Err: errors.New("duplicate key")}
			case k == c.unmapped:
				k.seen = root.gen
				if c.s.Peek() == 'n' {
					if err := c.s.Literal("null"); err != nil {
						return c.fieldErr(err)
					}
					break
				}
				if c.orig, err = c.s.Compact(c.orig[:0]); err != nil {
					return c.fieldErr(err)
				}
				hasOrig = true
			default:
				k.seen = root.gen
				if !c.dry {
					k.padTo(c.rows) // the rows before this one
				}
				c.stack = append(c.stack, frame{n: k, key: k.name, idx: -1})
				if err := c.value(k); err != nil {
					return c.fieldErr(err)
				}
				c.stack = c.stack[:len(c.stack)-1]
			}
			if more, err := c.s.Next('}'); !more {
				if err != nil {
					return c.fieldErr(err)
				}
				break
			}
		}
	}
	if err := c.s.End(); err != nil {
		return c.fieldErr(err)
	}
	if len(c.extra) > 0 && c.unmapped == nil && !c.dropUnknown {
		return &FieldError{Path: firstExtraKey(c.extra), Err: errors.New("not in the schema, and the schema has no top-level unmapped column to keep it")}
	}
	for _, k := range root.kids {
		if k.seen != root.gen && k.required && k.kind != kList && (k != c.unmapped || (!hasOrig && len(c.extra) == 0)) {
			return &FieldError{Path: k.name, Err: errRequired}
		}
	}
	if c.dry {
		return nil
	}
	// Every check passed. The fields the row did not set catch up when
	// they are next set, or in record (padTo).
	if c.unmapped != nil {
		c.appendUnmapped(hasOrig)
	} else if len(c.extraPaths) > 0 {
		c.drop()
	}
	c.rows++
	return nil
}

func firstExtraKey(extra []byte) string {
	var s scanner
	s.Reset(extra[1:]) // skip the leading ','
	if s.Peek() == '"' {
		if k, err := s.Str(); err == nil {
			return string(k)
		}
	}
	return ""
}

// appendUnmapped writes the row's unmapped column: its own value, merged
// with the fields that the schema does not hold.
func (c *converter) appendUnmapped(hasOrig bool) {
	b := c.unmapped
	if len(c.extra) == 0 {
		if !hasOrig {
			b.appendNulls(1)
			return
		}
		c.appendStringValue(b, c.orig)
		return
	}
	c.tmp = c.tmp[:0]
	switch {
	case !hasOrig:
		c.tmp = append(c.tmp, '{')
		c.tmp = append(c.tmp, c.extra[1:]...)
	case c.orig[0] == '{' && len(c.orig) == 2: // {}
		c.tmp = append(c.tmp, '{')
		c.tmp = append(c.tmp, c.extra[1:]...)
	case c.orig[0] == '{':
		c.tmp = append(c.tmp, c.orig[:len(c.orig)-1]...)
		c.tmp = append(c.tmp, c.extra...)
	default:
		c.tmp = append(c.tmp, `{"unmapped":`...)
		c.tmp = append(c.tmp, c.orig...)
		c.tmp = append(c.tmp, c.extra...)
	}
	c.tmp = append(c.tmp, '}')
	b.appendStr(c.tmp)
}

// appendStringValue appends compact JSON text v to a utf8 column: the
// contents of a string, the JSON text of anything else.
func (c *converter) appendStringValue(n *node, v []byte) {
	if v[0] == '"' {
		s := &c.str // its scratch buffer, for unescaping, is kept from row to row
		s.Reset(v)
		if str, err := s.Str(); err == nil {
			n.appendStr(str)
			return
		}
	}
	n.appendStr(v)
}

func lookup(n *node, key []byte) *node {
	if k := n.index[bstr(key)]; k != nil {
		return k
	}
	if len(n.fold) == 0 {
		return nil
	}
	return n.fold[strings.ToLower(bstr(key))]
}

// unknown keeps a member that the schema has no field for, keyed by its
// path, for the unmapped column.
func (c *converter) unknown(key []byte) error {
	p := c.path(bstr(key)) // copies key before the scanner reuses it
	c.extraPaths = append(c.extraPaths, p)
	c.extra = append(c.extra, ',')
	c.extra = appendQuoted(c.extra, p)
	c.extra = append(c.extra, ':')
	var err error
	if c.extra, err = c.s.Compact(c.extra); err != nil {
		return c.fieldErr(err)
	}
	return nil
}

// value decodes the next JSON value into n.
func (c *converter) value(n *node) error {
	s := &c.s
	ch := s.Peek()
	if ch == 'n' {
		if err := s.Literal("null"); err != nil {
			return err
		}
		if n.required && n.kind != kList {
			return errRequired
		}
		if !c.dry {
			n.underNull(1) // null, or an empty list for a list that is not nullable
		}
		return nil
	}
	switch n.kind {
	case kStruct:
		if ch != '{' {
			return mismatch("object", ch)
		}
		return c.object(n)
	case kList:
		if ch != '[' {
			return mismatch("array", ch)
		}
		return c.list(n)
	case kString, kLargeString, kBinary:
		if ch == '"' {
			v, err := s.Str()
			if err != nil {
				return err
			}
			if !c.dry {
				n.appendStr(v)
			}
			return nil
		}
		var err error
		c.tmp, err = s.Compact(c.tmp[:0])
		if err != nil {
			return err
		}
		if !c.dry {
			n.appendStr(c.tmp)
		}
		return nil
	case kBool:
		var v bool
		switch ch {
		case 't':
			if err := s.Literal("true"); err != nil {
				return err
			}
			v = true
		case 'f':
			if err := s.Literal("false"); err != nil {
				return err
			}
		default:
			return mismatch("boolean", ch)
		}
		if !c.dry {
			n.appendBool(v)
		}
		return nil
	case kTimestamp:
		return c.timestamp(n, ch)
	}
	if n == c.time { // the event time, read as everywhere else
		t, err := c.eventTime(ch)
		if err == nil && !c.dry {
			n.appendFixed(uint64(t.UnixMilli()))
		}
		return err
	}
	// Numbers.
	if ch != '-' && (ch < '0' || ch > '9') {
		return mismatch("number", ch)
	}
	switch n.kind {
	case kInt8:
		v, err := s.Int64(math.MinInt8, math.MaxInt8)
		if err == nil && !c.dry {
			n.appendFixed(uint64(v))
		}
		return err
	case kInt16:
		v, err := s.Int64(math.MinInt16, math.MaxInt16)
		if err == nil && !c.dry {
			n.appendFixed(uint64(v))
		}
		return err
	case kInt32:
		v, err := s.Int64(math.MinInt32, math.MaxInt32)
		if err == nil && !c.dry {
			n.appendFixed(uint64(v))
		}
		return err
	case kInt64:
		v, err := s.Int64(math.MinInt64, math.MaxInt64)
		if err == nil && !c.dry {
			n.appendFixed(uint64(v))
		}
		return err
	case kDate32:
		v, err := s.Int64(math.MinInt32, math.MaxInt32)
		if err == nil && !c.dry {
			n.appendFixed(uint64(v))
		}
		return err
	case kUint8:
		v, err := s.Uint64(math.MaxUint8)
		if err == nil && !c.dry {
			n.appendFixed(v)
		}
		return err
	case kUint16:
		v, err := s.Uint64(math.MaxUint16)
		if err == nil && !c.dry {
			n.appendFixed(v)
		}
		return err
	case kUint32:
		v, err := s.Uint64(math.MaxUint32)
		if err == nil && !c.dry {
			n.appendFixed(v)
		}
		return err
	case kUint64:
		v, err := s.Uint64(math.MaxUint64)
		if err == nil && !c.dry {
			n.appendFixed(v)
		}
		return err
	case kFloat32:
		v, err := s.Float64()
		if err == nil && !c.dry {
			n.appendFixed(uint64(math.Float32bits(float32(v))))
		}
		return err
	case kFloat64:
		v, err := s.Float64()
		if err == nil && !c.dry {
			n.appendFixed(math.Float64bits(v))
		}
		return err
	}
	return fmt.Errorf("unsupported column kind %d", n.kind)
}

func mismatch(want string, ch byte) error {
	got := "number"
	switch ch {
	case '"':
		got = "string"
	case '{':
		got = "object"
	case '[':
		got = "array"
	case 't', 'f':
		got = "boolean"
	case 0:
		return fmt.Errorf("%w: unexpected end", errSyntax)
	}
	return fmt.Errorf("expected %s, got %s", want, got)
}

// timestamp reads a time as ocsf.EventTime does: an RFC 3339 string or a
// number of epoch milliseconds.
func (c *converter) timestamp(n *node, ch byte) error {
	t, err := c.eventTime(ch)
	if err != nil || c.dry {
		return err
	}
	var v int64
	switch n.unit {
	case arrow.Second:
		v = t.Unix()
	case arrow.Millisecond:
		v = t.UnixMilli()
	case arrow.Microsecond:
		v = t.UnixMicro()
	default:
		v = t.UnixNano()
	}
	n.appendFixed(uint64(v))
	return nil
}

// eventTime reads the value at the scanner, whose first byte is ch, with
// ocsf.EventTime. The value stays out of error messages: errors may be
// logged.
func (c *converter) eventTime(ch byte) (time.Time, error) {
	if ch != '"' && ch != '-' && (ch < '0' || ch > '9') {
		return time.Time{}, mismatch("RFC 3339 time string or epoch milliseconds", ch)
	}
	start := c.s.Pos
	if err := c.s.Skip(); err != nil {
		return time.Time{}, err
	}
	return ocsf.EventTime(c.s.Data[start:c.s.Pos])
}

func (c *converter) object(n *node) error {
	s := &c.s
	if len(c.stack) > maxDepth {
		return s.SyntaxErr("nesting too deep")
	}
	s.Pos++ // {
	n.gen++
	gen := n.gen
	if !c.dry {
		n.flush() // earlier rows' nulls go before this value
	}
	if s.Peek() == '}' {
		s.Pos++
	} else {
		for {
			key, err := s.Key()
			if err != nil {
				return err
			}
			k := lookup(n, key)
			switch {
			case k == nil:
				if err := c.unknown(key); err != nil {
					return err
				}
			case k.seen == gen:
				return &FieldError{Path: c.path(bstr(key)), Err: errors.New("duplicate key")}
			default:
				k.seen = gen
				if !c.dry {
					k.padTo(n.n) // the rows before this one
				}
				c.stack = append(c.stack, frame{n: k, key: k.name, idx: -1})
				if err := c.value(k); err != nil {
					return c.fieldErr(err)
				}
				c.stack = c.stack[:len(c.stack)-1]
			}
			if more, err := s.Next('}'); !more {
				if err != nil {
					return err
				}
				break
			}
		}
	}
	for _, k := range n.kids {
		if k.seen != gen && k.required && k.kind != kList {
			return &FieldError{Path: c.path(k.name), Err: errRequired}
		}
	}
	if c.dry {
		return nil
	}
	n.setValid()
	n.n++ // the fields it did not set catch up later (padTo)
	return nil
}

// errRequired is the cause for a missing or null value of a field that is
// not nullable. (A list that is not nullable, a Parquet REPEATED field,
// becomes an empty list instead.)
var errRequired = errors.New("required (not nullable), but missing or null")

func (c *converter) list(n *node) error {
	s := &c.s
	if len(c.stack) > maxDepth {
		return s.SyntaxErr("nesting too deep")
	}
	s.Pos++ // [
	if s.Peek() == ']' {
		s.Pos++
		if !c.dry {
			n.endList()
		}
		return nil
	}
	for i := 0; ; i++ {
		c.stack = append(c.stack, frame{n: n.elem, idx: i})
		if err := c.value(n.elem); err != nil {
			return c.fieldErr(err)
		}
		c.stack = c.stack[:len(c.stack)-1]
		switch s.Peek() {
		case ',':
			s.Pos++
		case ']':
			s.Pos++
			if !c.dry {
				n.endList()
			}
			return nil
		default:
			return s.SyntaxErr("expected ',' or ']'")
		}
	}
}

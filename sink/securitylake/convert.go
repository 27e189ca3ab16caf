package securitylake

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

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

type kind uint8

const (
	kBool kind = iota
	kInt8
	kInt16
	kInt32
	kInt64
	kUint8
	kUint16
	kUint32
	kUint64
	kFloat32
	kFloat64
	kString
	kLargeString
	kBinary
	kTimestamp
	kDate32
	kStruct
	kList
)

// node is one field of the schema with the column it is building. Columns
// are plain Go slices, reused from batch to batch; they are copied into
// buffers of the converter's allocator when a record batch is built.
type node struct {
	name  string
	kind  kind
	typ   arrow.DataType
	unit  arrow.TimeUnit // kTimestamp
	width int            // fixed-width kinds: bytes per value
	// required is set for fields that are not nullable: a record must give
	// them a value, and under a null parent they hold empty values.
	required bool
	seen     uint32 // gen of the parent struct value that set this field
	gen      uint32 // kStruct: counts struct values
	kids     []*node
	index    map[string]*node // kStruct: exact names
	fold     map[string]*node // kStruct: lower-case names, for a case-insensitive fallback
	elem     *node            // kList

	// The column.
	n      int     // values (rows, or list elements)
	nulls  int     // of which null
	pend   int     // kStruct: nulls not yet applied to this struct and its fields
	valid  []byte  // validity bitmap; bits beyond n are zero
	fixed  []byte  // fixed-width values, little endian
	bits   []byte  // kBool values
	offs   []int32 // kString, kBinary, kList offsets (n+1)
	offs64 []int64 // kLargeString offsets (n+1)
	data   []byte  // string bytes
}

// converter turns OCSF JSON documents into Arrow record batches for one
// schema. It is owned by one goroutine.
type converter struct {
	mem      memory.Allocator
	schema   *arrow.Schema
	root     *node
	unmapped *node // top-level "unmapped" utf8 column, or nil
	time     *node // top-level "time" int64 column (epoch milliseconds), or nil

	s     scanner
	dry   bool // validate only; builders are not touched
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

func newConverter(mem memory.Allocator, schema *arrow.Schema) (*converter, error) {
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
	c := &converter{mem: mem, schema: schema, root: root}
	if u := root.index["unmapped"]; u != nil && (u.kind == kString || u.kind == kLargeString) {
		c.unmapped = u
	}
	if t := root.index["time"]; t != nil && t.kind == kInt64 {
		c.time = t
	}
	c.reset()
	return c, nil
}

func (n *node) add(k *node) {
	n.kids = append(n.kids, k)
	if _, dup := n.index[k.name]; !dup {
		n.index[k.name] = k
	}
	l := strings.ToLower(k.name)
	if _, dup := n.fold[l]; !dup {
		n.fold[l] = k
	}
}

func planField(f arrow.Field, path string) (*node, error) {
	n := &node{name: f.Name, typ: f.Type, required: !f.Nullable}
	if fw, ok := f.Type.(arrow.FixedWidthDataType); ok {
		n.width = fw.BitWidth() / 8
	}
	switch t := f.Type.(type) {
	case *arrow.BooleanType:
		n.kind = kBool
	case *arrow.Int8Type:
		n.kind = kInt8
	case *arrow.Int16Type:
		n.kind = kInt16
	case *arrow.Int32Type:
		n.kind = kInt32
	case *arrow.Int64Type:
		n.kind = kInt64
	case *arrow.Uint8Type:
		n.kind = kUint8
	case *arrow.Uint16Type:
		n.kind = kUint16
	case *arrow.Uint32Type:
		n.kind = kUint32
	case *arrow.Uint64Type:
		n.kind = kUint64
	case *arrow.Float32Type:
		n.kind = kFloat32
	case *arrow.Float64Type:
		n.kind = kFloat64
	case *arrow.StringType:
		n.kind = kString
	case *arrow.LargeStringType:
		n.kind = kLargeString
	case *arrow.BinaryType:
		n.kind = kBinary
	case *arrow.TimestampType:
		n.kind, n.unit = kTimestamp, t.Unit
	case *arrow.Date32Type:
		n.kind = kDate32
	case *arrow.StructType:
		n.kind = kStruct
		n.index = map[string]*node{}
		n.fold = map[string]*node{}
		for _, cf := range t.Fields() {
			k, err := planField(cf, path+"."+cf.Name)
			if err != nil {
				return nil, err
			}
			n.add(k)
		}
	case *arrow.ListType:
		n.kind = kList
		e, err := planField(t.ElemField(), path+"[]")
		if err != nil {
			return nil, err
		}
		n.elem = e
	default:
		return nil, fmt.Errorf("securitylake: schema field %s: unsupported type %s", path, f.Type)
	}
	return n, nil
}

// reset empties every column.
func (c *converter) reset() {
	for _, k := range c.root.kids {
		resetNode(k)
	}
	c.rows = 0
}

func resetNode(n *node) {
	n.n, n.nulls, n.pend = 0, 0, 0
	n.valid, n.fixed, n.bits, n.data = n.valid[:0], n.fixed[:0], n.bits[:0], n.data[:0]
	n.offs = append(n.offs[:0], 0)
	n.offs64 = append(n.offs64[:0], 0)
	for _, k := range n.kids {
		resetNode(k)
	}
	if n.elem != nil {
		resetNode(n.elem)
	}
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

// Column appends. Bitmaps grow a zero byte at a time, so bits beyond n are
// always zero.

func (n *node) setValid() {
	if n.n>>3 >= len(n.valid) {
		n.valid = append(n.valid, 0)
	}
	n.valid[n.n>>3] |= 1 << (n.n & 7)
}

func (n *node) growValid() {
	if n.n>>3 >= len(n.valid) {
		n.valid = append(n.valid, 0)
	}
}

// appendNulls adds k nulls to the column of n (for a struct, to it and,
// lazily, to all its fields).
func (n *node) appendNulls(k int) {
	if n.kind == kStruct {
		n.pend += k
		return
	}
	for range k {
		n.growValid()
		n.n++
		switch n.kind {
		case kBool:
			if (n.n-1)>>3 >= len(n.bits) {
				n.bits = append(n.bits, 0)
			}
		case kString, kBinary, kList:
			n.offs = append(n.offs, n.offs[len(n.offs)-1])
		case kLargeString:
			n.offs64 = append(n.offs64, n.offs64[len(n.offs64)-1])
		default:
			n.fixed = append(n.fixed, zeros[:n.width]...)
		}
	}
	n.nulls += k
}

var zeros [16]byte

// flush applies a struct's pending nulls to itself and hands them to its
// fields.
func (n *node) flush() {
	k := n.pend
	if k == 0 {
		return
	}
	n.pend = 0
	for range k {
		n.growValid()
		n.n++
	}
	n.nulls += k
	for _, f := range n.kids {
		f.underNull(k)
	}
}

// underNull fills k rows of a field whose parent is null: nulls, or empty
// values for a field that is not nullable.
func (n *node) underNull(k int) {
	if !n.required {
		n.appendNulls(k)
		return
	}
	for range k {
		n.setValid()
		n.n++
		switch n.kind {
		case kBool:
			if (n.n-1)>>3 >= len(n.bits) {
				n.bits = append(n.bits, 0)
			}
		case kString, kBinary, kList:
			n.offs = append(n.offs, n.offs[len(n.offs)-1])
		case kLargeString:
			n.offs64 = append(n.offs64, n.offs64[len(n.offs64)-1])
		case kStruct:
		default:
			n.fixed = append(n.fixed, zeros[:n.width]...)
		}
	}
	if n.kind == kStruct {
		n.fillFields(k)
	}
}

// fillFields gives the fields of a non-nullable struct that got k
// empty rows their k rows.
func (n *node) fillFields(k int) {
	for _, f := range n.kids {
		f.underNull(k)
	}
}

// finish applies all pending nulls below n.
func (n *node) finish() {
	if n.kind == kStruct {
		n.flush()
		for _, f := range n.kids {
			f.finish()
		}
	}
	if n.elem != nil {
		n.elem.finish()
	}
}

func (n *node) appendStr(v []byte) {
	n.setValid()
	n.n++
	n.data = append(n.data, v...)
	if n.kind == kLargeString {
		n.offs64 = append(n.offs64, int64(len(n.data)))
		return
	}
	n.offs = append(n.offs, int32(len(n.data)))
}

func (n *node) appendFixed(u uint64) {
	n.setValid()
	n.n++
	switch n.width {
	case 1:
		n.fixed = append(n.fixed, byte(u))
	case 2:
		n.fixed = binary.LittleEndian.AppendUint16(n.fixed, uint16(u))
	case 4:
		n.fixed = binary.LittleEndian.AppendUint32(n.fixed, uint32(u))
	default:
		n.fixed = binary.LittleEndian.AppendUint64(n.fixed, u)
	}
}

func (n *node) appendBool(v bool) {
	if n.n>>3 >= len(n.bits) {
		n.bits = append(n.bits, 0)
	}
	if v {
		n.bits[n.n>>3] |= 1 << (n.n & 7)
	}
	n.setValid()
	n.n++
}

// build turns the column into Arrow data in buffers of mem.
func (n *node) build(mem memory.Allocator) arrow.ArrayData {
	buf := func(b []byte) *memory.Buffer {
		out := memory.NewResizableBuffer(mem)
		out.Resize(len(b))
		copy(out.Bytes(), b)
		return out
	}
	var validity *memory.Buffer
	if n.nulls > 0 {
		validity = buf(n.valid[:(n.n+7)>>3])
	}
	var bufs []*memory.Buffer
	var kids []arrow.ArrayData
	switch n.kind {
	case kStruct:
		bufs = []*memory.Buffer{validity}
		for _, f := range n.kids {
			kids = append(kids, f.build(mem))
		}
	case kList:
		bufs = []*memory.Buffer{validity, buf(int32Bytes(n.offs))}
		kids = []arrow.ArrayData{n.elem.build(mem)}
	case kString, kBinary:
		bufs = []*memory.Buffer{validity, buf(int32Bytes(n.offs)), buf(n.data)}
	case kLargeString:
		bufs = []*memory.Buffer{validity, buf(int64Bytes(n.offs64)), buf(n.data)}
	case kBool:
		bufs = []*memory.Buffer{validity, buf(n.bits[:(n.n+7)>>3])}
	default:
		bufs = []*memory.Buffer{validity, buf(n.fixed)}
	}
	d := array.NewData(n.typ, n.n, bufs, kids, n.nulls, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	for _, k := range kids {
		k.Release()
	}
	return d
}

func int32Bytes(v []int32) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*4)
}

func int64Bytes(v []int64) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*8)
}

// record builds the record batch of the rows converted so far and empties
// the columns.
func (c *converter) record() arrow.RecordBatch {
	cols := make([]arrow.Array, len(c.root.kids))
	for i, k := range c.root.kids {
		k.finish()
		d := k.build(c.mem)
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
// input order. The batch is nil when no row converted.
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
	// Every check passed: fill what the row did not set.
	for _, k := range root.kids {
		if k.seen != root.gen && k != c.unmapped {
			k.underNull(1) // null, or an empty list for a list that is not nullable
		}
	}
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
		appendStringValue(b, c.orig)
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
func appendStringValue(n *node, v []byte) {
	if v[0] == '"' {
		var s scanner
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
		n.flush() // earlier rows' nulls go before this value's fields
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
	n.n++
	for _, k := range n.kids {
		if k.seen != gen {
			k.underNull(1) // null, or an empty list for a list that is not nullable
		}
	}
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

// endList closes a list value whose elements were appended to n.elem.
func (n *node) endList() {
	n.elem.finishPending()
	n.setValid()
	n.n++
	n.offs = append(n.offs, int32(n.elem.n))
}

// finishPending makes n.n exact for a list element column: a struct
// element's pending nulls are applied.
func (n *node) finishPending() {
	if n.kind == kStruct {
		n.flush()
	}
}

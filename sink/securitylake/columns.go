package securitylake

// The column builders of the converter: one node per schema field, building
// its Arrow column in plain Go slices (appends, nulls, lists, structs) and
// turning it into Arrow array data. The JSON walk that drives them is in
// convert.go.

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

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
// are plain Go slices, reused from batch to batch; a record batch is built
// on them without a copy (see build).
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

// Column appends. Bitmaps grow a zero byte at a time, so bits beyond n are
// always zero.

func (n *node) setValid() {
	if n.n>>3 >= len(n.valid) {
		n.valid = append(n.valid, 0)
	}
	n.valid[n.n>>3] |= 1 << (n.n & 7)
}

// rows is the number of rows of n's column, a struct's pending nulls
// included.
func (n *node) rows() int { return n.n + n.pend }

// padTo fills the column of n up to rows with missing values: nulls, or
// empty values for a field that is not nullable. Fields are filled lazily:
// a field a row does not set gets nothing then, and catches up with its
// struct (or the record) when it next gets a value, or when the columns are
// finished. So a record costs nothing for the fields it lacks.
func (n *node) padTo(rows int) {
	if k := rows - n.rows(); k > 0 {
		n.underNull(k)
	}
}

// growBits extends the bitmap b to hold nbits bits, with zero bits.
func growBits(b []byte, nbits int) []byte {
	need := (nbits + 7) >> 3
	if have := len(b); need > have {
		b = slices.Grow(b, need-have)[:need]
		clear(b[have:])
	}
	return b
}

// appendNulls adds k nulls to the column of n (for a struct, lazily: see
// flush).
func (n *node) appendNulls(k int) {
	if n.kind == kStruct {
		n.pend += k
		return
	}
	n.n += k
	n.nulls += k
	n.valid = growBits(n.valid, n.n)
	n.appendEmpty(k)
}

// appendEmpty adds the values of k rows that are null or empty (the
// validity bitmap is the caller's).
func (n *node) appendEmpty(k int) {
	switch n.kind {
	case kStruct:
	case kBool:
		n.bits = growBits(n.bits, n.n)
	case kString, kBinary, kList:
		last := n.offs[len(n.offs)-1]
		for range k {
			n.offs = append(n.offs, last)
		}
	case kLargeString:
		last := n.offs64[len(n.offs64)-1]
		for range k {
			n.offs64 = append(n.offs64, last)
		}
	default:
		n.fixed = append(n.fixed, make([]byte, k*n.width)...)
	}
}

// flush applies a struct's pending nulls to itself. Its fields catch up
// later (see padTo).
func (n *node) flush() {
	if k := n.pend; k > 0 {
		n.pend = 0
		n.n += k
		n.nulls += k
		n.valid = growBits(n.valid, n.n)
	}
}

// underNull fills k rows of a field whose value is missing or whose parent
// is null: nulls, or empty values for a field that is not nullable (a
// struct's fields catch up later, see padTo).
func (n *node) underNull(k int) {
	if !n.required {
		n.appendNulls(k)
		return
	}
	for range k {
		n.setValid()
		n.n++
	}
	n.appendEmpty(k)
}

// finish brings every column below n up to date: pending nulls applied and
// fields filled up to their struct's rows.
func (n *node) finish() {
	if n.kind == kStruct {
		n.flush()
		for _, f := range n.kids {
			f.padTo(n.n)
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

// build turns the column into Arrow data. The data shares the column's
// slices, without a copy: it must be released, and no longer read, before
// the column is reset and appended to again.
func (n *node) build() arrow.ArrayData {
	var validity *memory.Buffer
	if n.nulls > 0 {
		validity = memory.NewBufferBytes(n.valid[:(n.n+7)>>3])
	}
	var bufs []*memory.Buffer
	var kids []arrow.ArrayData
	switch n.kind {
	case kStruct:
		bufs = []*memory.Buffer{validity}
		for _, f := range n.kids {
			kids = append(kids, f.build())
		}
	case kList:
		bufs = []*memory.Buffer{validity, memory.NewBufferBytes(int32Bytes(n.offs))}
		kids = []arrow.ArrayData{n.elem.build()}
	case kString, kBinary:
		bufs = []*memory.Buffer{validity, memory.NewBufferBytes(int32Bytes(n.offs)), memory.NewBufferBytes(n.data)}
	case kLargeString:
		bufs = []*memory.Buffer{validity, memory.NewBufferBytes(int64Bytes(n.offs64)), memory.NewBufferBytes(n.data)}
	case kBool:
		bufs = []*memory.Buffer{validity, memory.NewBufferBytes(n.bits[:(n.n+7)>>3])}
	default:
		bufs = []*memory.Buffer{validity, memory.NewBufferBytes(n.fixed)}
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

package ocsf

import (
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
)

// Limits that keep Arrow schemas of recursive OCSF objects finite.
const (
	// MaxObjectDepth is the deepest object nesting kept in Arrow schemas: a
	// top-level object column (actor) is depth 1, actor.user depth 2, and an
	// object attribute that would sit at depth MaxObjectDepth+1 is omitted
	// (actor.process.file.signature.certificate is the deepest kept path of
	// that shape).
	MaxObjectDepth = 5
	// MaxObjectRepeat is how often one object type may occur on a single
	// path: process.parent_process is kept, process.parent_process.parent_process
	// is omitted.
	MaxObjectRepeat = 2
)

// UnmappedColumn is the top-level column every class schema has: a UTF-8
// column holding compact JSON text. Writers put there the attributes of an
// event that have no column of their own (not in the schema, cut by
// [MaxObjectDepth] or [MaxObjectRepeat], or deprecated), so that nothing is
// dropped.
const UnmappedColumn = "unmapped"

// Arrow schema metadata keys set on every class schema.
const (
	MetaVersion   = "ocsf.version"
	MetaClassUID  = "ocsf.class_uid"
	MetaClassName = "ocsf.class_name"
)

// ArrowSchema returns the Arrow schema of a class, given by name, caption or
// uid. The conventions, shared with the writers in this module:
//
//   - every column and struct field is nullable; field names are the OCSF
//     attribute names; fields are sorted by name at every level;
//   - integer_t (and port_t) → int32, long_t → int64, float_t → float64,
//     boolean_t → bool, timestamp_t (including time) → int64 epoch
//     milliseconds, datetime_t (the *_dt attributes) → timestamp(ms, "UTC"),
//     every other scalar type → utf8;
//   - json_t and free-form objects (the generic "object" type: unmapped,
//     xattributes) → utf8 holding compact JSON text;
//   - objects → struct, arrays → list of the element type;
//   - objects nested beyond [MaxObjectDepth], or repeating on a path more than
//     [MaxObjectRepeat] times, are omitted, as are deprecated attributes and
//     objects left with no fields;
//   - a top-level [UnmappedColumn] utf8 column is always present.
//
// All profile attributes of the class are included.
func (s *Schema) ArrowSchema(class string) (*arrow.Schema, error) {
	c, err := s.class(class)
	if err != nil {
		return nil, err
	}
	fields := s.arrowFields(c.attrs, nil)
	hasUnmapped := false
	for i, f := range fields {
		if f.Name == UnmappedColumn {
			fields[i] = arrow.Field{Name: UnmappedColumn, Type: arrow.BinaryTypes.String, Nullable: true}
			hasUnmapped = true
		}
	}
	if !hasUnmapped {
		// Keep the sorted order.
		at := len(fields)
		for i, f := range fields {
			if f.Name > UnmappedColumn {
				at = i
				break
			}
		}
		fields = append(fields[:at], append([]arrow.Field{{Name: UnmappedColumn, Type: arrow.BinaryTypes.String, Nullable: true}}, fields[at:]...)...)
	}
	md := arrow.NewMetadata(
		[]string{MetaVersion, MetaClassUID, MetaClassName},
		[]string{s.version, strconv.Itoa(c.uid), c.name},
	)
	return arrow.NewSchema(fields, &md), nil
}

func (s *Schema) arrowFields(attrs []*attrDef, path []string) []arrow.Field {
	fields := make([]arrow.Field, 0, len(attrs))
	for _, a := range attrs {
		if a.deprecated {
			continue
		}
		t := s.arrowType(a, path)
		if t == nil {
			continue
		}
		if a.isArray {
			t = arrow.ListOf(t)
		}
		fields = append(fields, arrow.Field{Name: a.name, Type: t, Nullable: true})
	}
	return fields
}

// arrowType returns the element type of a, or nil when a is cut.
func (s *Schema) arrowType(a *attrDef, path []string) arrow.DataType {
	if !a.isObject {
		return s.scalarArrowType(a.typ)
	}
	o := s.objects[a.typ]
	if o == nil || a.typ == freeForm || len(o.attrs) == 0 {
		return arrow.BinaryTypes.String
	}
	if len(path) >= MaxObjectDepth {
		return nil
	}
	n := 0
	for _, p := range path {
		if p == a.typ {
			n++
		}
	}
	if n >= MaxObjectRepeat {
		return nil
	}
	fields := s.arrowFields(o.attrs, append(path, a.typ))
	if len(fields) == 0 {
		return nil
	}
	return arrow.StructOf(fields...)
}

var timestampMillisUTC = &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}

func (s *Schema) scalarArrowType(typ string) arrow.DataType {
	switch typ {
	case tDatetime:
		return timestampMillisUTC
	case tTime:
		return arrow.PrimitiveTypes.Int64
	}
	base := typ
	if t, ok := s.types[typ]; ok {
		base = t.base
	}
	switch base {
	case tInteger:
		return arrow.PrimitiveTypes.Int32
	case tLong:
		return arrow.PrimitiveTypes.Int64
	case tFloat:
		return arrow.PrimitiveTypes.Float64
	case tBoolean:
		return arrow.FixedWidthTypes.Boolean
	default:
		return arrow.BinaryTypes.String
	}
}

// ArrowSchema returns the Arrow schema of a class of the built-in OCSF
// [Version] definitions (see [Builtin] for the classes), following the
// conventions of [Schema.ArrowSchema].
func ArrowSchema(classUID int) (*arrow.Schema, error) {
	s, err := Builtin(Version)
	if err != nil {
		return nil, err
	}
	if _, ok := s.byUID[classUID]; !ok {
		return nil, fmt.Errorf("ocsf: %w: uid %d has no built-in definition (OCSF %s)", ErrUnknownClass, classUID, Version)
	}
	return s.cachedArrow(classUID)
}

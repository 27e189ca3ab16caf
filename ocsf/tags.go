package ocsf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// ErrTagSchema is wrapped by every [TagError].
var ErrTagSchema = errors.New("invalid tag schema")

// TagError reports a bad element of a tag-format schema.
type TagError struct {
	// Path names the element: the dotted field names from the root
	// ("my_schema.actor.user"), or the index when a field has no name yet
	// ("my_schema.Fields[3]").
	Path string
	// Tag is the element's tag text, as written.
	Tag string
	// Msg says what is wrong.
	Msg string
}

func (e *TagError) Error() string {
	if e.Tag == "" {
		return fmt.Sprintf("ocsf: tag schema: %s: %s", e.Path, e.Msg)
	}
	return fmt.Sprintf("ocsf: tag schema: %s: %s (tag %q)", e.Path, e.Msg, truncate(e.Tag, 200))
}

// Unwrap returns [ErrTagSchema].
func (e *TagError) Unwrap() error { return ErrTagSchema }

// MetaTagSchemaName is the Arrow schema metadata key holding the root name of
// a tag-format schema.
const MetaTagSchemaName = "parquet.schema_name"

const maxTagDepth = 64

type tagNode struct {
	Tag    string    `json:"Tag"`
	Fields []tagNode `json:"Fields"`
}

// ParseTagSchema parses a Parquet schema written in the JSON tag format some
// products use for Parquet configuration (that of xitongsys/parquet-go):
//
//	{"Tag":"name=my_schema, repetitiontype=REQUIRED","Fields":[
//	  {"Tag":"name=activity_id, type=INT32, repetitiontype=OPTIONAL"},
//	  {"Tag":"name=actor, repetitiontype=OPTIONAL","Fields":[ ... ]},
//	  {"Tag":"name=labels, type=LIST, repetitiontype=OPTIONAL","Fields":[
//	    {"Tag":"name=element, type=BYTE_ARRAY, convertedtype=UTF8"}]}]}
//
// Tag keys (case-insensitive): name, inname, type (BOOLEAN, INT32, INT64,
// FLOAT, DOUBLE, BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY; LIST and MAP for
// groups), convertedtype, logicaltype (with logicaltype.unit and
// logicaltype.isadjustedtoutc for TIMESTAMP), repetitiontype (REQUIRED — the
// default —, OPTIONAL, REPEATED), length, precision, scale, and the accepted
// but unused encoding, fieldid, omitstats, keytype, valuetype,
// keyconvertedtype, valueconvertedtype.
//
// The result maps: BOOLEAN → bool; INT32 → int32 (int8/int16/uint8/uint16/
// uint32 with INT_8 … UINT_32, date32 with DATE, time32(ms) with
// TIME_MILLIS); INT64 → int64 (uint64 with UINT_64, timestamp(ms|us, UTC)
// with TIMESTAMP_MILLIS/MICROS or a TIMESTAMP logical type, time64(us) with
// TIME_MICROS); FLOAT → float32; DOUBLE → float64; BYTE_ARRAY → utf8 with
// UTF8/STRING/JSON/ENUM, else binary; FIXED_LEN_BYTE_ARRAY → fixed-size
// binary of length; DECIMAL → decimal128(precision, scale); groups → struct;
// LIST groups (two- or three-level) and REPEATED fields → list; MAP groups →
// map. REQUIRED fields are not nullable, OPTIONAL ones are. Field names are
// kept exactly as written (such configurations often capitalise them, as in
// Activity_id for activity_id, so writers filling these schemas from OCSF
// JSON should match names case-insensitively). INT96 and nanosecond timestamps are rejected:
// Athena and DuckDB read neither reliably.
//
// Every problem is reported as a [*TagError] naming the element.
func ParseTagSchema(data []byte) (*arrow.Schema, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var root tagNode
	if err := dec.Decode(&root); err != nil {
		return nil, &TagError{Path: "(document)", Msg: "not a tag schema: " + err.Error()}
	}
	if dec.More() {
		return nil, &TagError{Path: "(document)", Msg: "data after the schema object"}
	}
	tags, err := parseTag("(root)", root.Tag)
	if err != nil {
		return nil, err
	}
	name := tags["name"]
	if name == "" {
		name = "(root)"
	}
	if t := tags["type"]; t != "" {
		return nil, &TagError{Path: name, Tag: root.Tag, Msg: "the root is a group and takes no type"}
	}
	if len(root.Fields) == 0 {
		return nil, &TagError{Path: name, Tag: root.Tag, Msg: "the root has no Fields"}
	}
	fields, err := tagFields(name, root.Fields, 1)
	if err != nil {
		return nil, err
	}
	md := arrow.NewMetadata([]string{MetaTagSchemaName}, []string{tags["name"]})
	return arrow.NewSchema(fields, &md), nil
}

var tagKeys = map[string]bool{
	"name": true, "inname": true, "type": true, "convertedtype": true, "logicaltype": true,
	"logicaltype.unit": true, "logicaltype.isadjustedtoutc": true, "logicaltype.precision": true,
	"logicaltype.scale": true, "logicaltype.bitwidth": true, "logicaltype.issigned": true,
	"repetitiontype": true, "length": true, "precision": true, "scale": true,
	"encoding": true, "fieldid": true, "omitstats": true, "keytype": true, "valuetype": true,
	"keyconvertedtype": true, "valueconvertedtype": true,
}

// parseTag splits "k=v, k=v" into a map with lower-case keys. Values keep
// their case (name) — callers upper-case enum values.
func parseTag(path, tag string) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range strings.Split(tag, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			return nil, &TagError{Path: path, Tag: tag, Msg: fmt.Sprintf("%q is not key=value", item)}
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if !tagKeys[k] {
			return nil, &TagError{Path: path, Tag: tag, Msg: fmt.Sprintf("unknown tag key %q", k)}
		}
		if _, dup := out[k]; dup {
			return nil, &TagError{Path: path, Tag: tag, Msg: fmt.Sprintf("tag key %q given twice", k)}
		}
		out[k] = v
	}
	return out, nil
}

func tagFields(path string, nodes []tagNode, depth int) ([]arrow.Field, error) {
	if depth > maxTagDepth {
		return nil, &TagError{Path: path, Msg: fmt.Sprintf("nested deeper than %d levels", maxTagDepth)}
	}
	fields := make([]arrow.Field, 0, len(nodes))
	seen := map[string]bool{}
	for i, n := range nodes {
		f, err := tagField(fmt.Sprintf("%s.Fields[%d]", path, i), path, n, depth)
		if err != nil {
			return nil, err
		}
		if seen[f.Name] {
			return nil, &TagError{Path: path + "." + f.Name, Tag: n.Tag, Msg: "duplicate field name"}
		}
		seen[f.Name] = true
		fields = append(fields, f)
	}
	return fields, nil
}

func tagField(indexPath, parent string, n tagNode, depth int) (arrow.Field, error) {
	tags, err := parseTag(indexPath, n.Tag)
	if err != nil {
		return arrow.Field{}, err
	}
	name := tags["name"]
	if name == "" {
		return arrow.Field{}, &TagError{Path: indexPath, Tag: n.Tag, Msg: "field has no name"}
	}
	path := parent + "." + name
	bad := func(format string, args ...any) error {
		return &TagError{Path: path, Tag: n.Tag, Msg: fmt.Sprintf(format, args...)}
	}
	rep := strings.ToUpper(tags["repetitiontype"])
	switch rep {
	case "", "REQUIRED", "OPTIONAL", "REPEATED":
	default:
		return arrow.Field{}, bad("unknown repetitiontype %q (want REQUIRED, OPTIONAL or REPEATED)", tags["repetitiontype"])
	}
	typ := strings.ToUpper(tags["type"])
	conv := strings.ToUpper(tags["convertedtype"])
	var dt arrow.DataType
	switch {
	case typ == "LIST" || (typ == "" && conv == "LIST"):
		dt, err = tagList(path, n, depth)
	case typ == "MAP" || (typ == "" && (conv == "MAP" || conv == "MAP_KEY_VALUE")):
		dt, err = tagMap(path, n, depth)
	case typ == "":
		if len(n.Fields) == 0 {
			return arrow.Field{}, bad("field has neither a type nor Fields")
		}
		var fs []arrow.Field
		fs, err = tagFields(path, n.Fields, depth+1)
		if err == nil {
			dt = arrow.StructOf(fs...)
		}
	default:
		if len(n.Fields) > 0 {
			return arrow.Field{}, bad("primitive type %s cannot have Fields", typ)
		}
		dt, err = tagPrimitive(path, n.Tag, tags)
	}
	if err != nil {
		return arrow.Field{}, err
	}
	if rep == "REPEATED" {
		return arrow.Field{Name: name, Type: arrow.ListOfField(arrow.Field{Name: "element", Type: dt}), Nullable: false}, nil
	}
	return arrow.Field{Name: name, Type: dt, Nullable: rep == "OPTIONAL"}, nil
}

// tagList accepts the two-level form (LIST with one child, the element) and
// the three-level form (LIST with one REPEATED group child holding the
// element).
func tagList(path string, n tagNode, depth int) (arrow.DataType, error) {
	if len(n.Fields) != 1 {
		return nil, &TagError{Path: path, Tag: n.Tag, Msg: fmt.Sprintf("a LIST needs exactly one child (the element), has %d", len(n.Fields))}
	}
	child := n.Fields[0]
	ctags, err := parseTag(path+".Fields[0]", child.Tag)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(ctags["repetitiontype"], "REPEATED") && ctags["type"] == "" && len(child.Fields) == 1 {
		// three-level: list (repeated group) → element
		el, err := tagField(path+"."+ctags["name"]+".Fields[0]", path+"."+ctags["name"], child.Fields[0], depth+2)
		if err != nil {
			return nil, err
		}
		return arrow.ListOfField(arrow.Field{Name: "element", Type: el.Type, Nullable: el.Nullable}), nil
	}
	el, err := tagField(path+".Fields[0]", path, child, depth+1)
	if err != nil {
		return nil, err
	}
	if l, ok := el.Type.(*arrow.ListType); ok && strings.EqualFold(ctags["repetitiontype"], "REPEATED") {
		return l, nil // LIST group around a plain repeated field
	}
	return arrow.ListOfField(arrow.Field{Name: "element", Type: el.Type, Nullable: el.Nullable}), nil
}

// tagMap accepts MAP with key and value children, or with one REPEATED
// key_value group holding them.
func tagMap(path string, n tagNode, depth int) (arrow.DataType, error) {
	kids := n.Fields
	at := path
	if len(kids) == 1 {
		ctags, err := parseTag(path+".Fields[0]", kids[0].Tag)
		if err != nil {
			return nil, err
		}
		at = path + "." + ctags["name"]
		kids = kids[0].Fields
	}
	if len(kids) != 2 {
		return nil, &TagError{Path: path, Tag: n.Tag, Msg: "a MAP needs a key and a value child"}
	}
	key, err := tagField(at+".Fields[0]", at, kids[0], depth+2)
	if err != nil {
		return nil, err
	}
	val, err := tagField(at+".Fields[1]", at, kids[1], depth+2)
	if err != nil {
		return nil, err
	}
	if !arrow.IsPrimitive(key.Type.ID()) && key.Type.ID() != arrow.STRING && key.Type.ID() != arrow.BINARY {
		return nil, &TagError{Path: at + "." + key.Name, Tag: kids[0].Tag, Msg: "a MAP key must be a primitive type"}
	}
	m := arrow.MapOf(key.Type, val.Type)
	m.SetItemNullable(val.Nullable)
	return m, nil
}

func tagPrimitive(path, tag string, tags map[string]string) (arrow.DataType, error) {
	bad := func(format string, args ...any) error {
		return &TagError{Path: path, Tag: tag, Msg: fmt.Sprintf(format, args...)}
	}
	typ := strings.ToUpper(tags["type"])
	conv := strings.ToUpper(tags["convertedtype"])
	logical := strings.ToUpper(tags["logicaltype"])
	unit := strings.ToUpper(tags["logicaltype.unit"])
	if conv == "DECIMAL" || logical == "DECIMAL" {
		p, errP := strconv.Atoi(firstNonEmpty(tags["precision"], tags["logicaltype.precision"]))
		s, errS := strconv.Atoi(firstNonEmpty(tags["scale"], tags["logicaltype.scale"], "0"))
		if errP != nil || errS != nil || p < 1 || p > 38 || s < 0 || s > p {
			return nil, bad("DECIMAL needs precision 1..38 and scale 0..precision")
		}
		switch typ {
		case "INT32", "INT64", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY":
			return &arrow.Decimal128Type{Precision: int32(p), Scale: int32(s)}, nil
		}
		return nil, bad("DECIMAL cannot annotate %s", typ)
	}
	if logical == "TIMESTAMP" {
		if typ != "INT64" {
			return nil, bad("a TIMESTAMP logical type needs type=INT64")
		}
		tz := "UTC"
		if v := tags["logicaltype.isadjustedtoutc"]; v != "" && !strings.EqualFold(v, "true") {
			tz = ""
		}
		switch unit {
		case "MILLIS", "":
			return &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: tz}, nil
		case "MICROS":
			return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: tz}, nil
		case "NANOS":
			return nil, bad("nanosecond timestamps are not readable by Athena; use MILLIS or MICROS")
		}
		return nil, bad("unknown logicaltype.unit %q", tags["logicaltype.unit"])
	}
	if logical != "" && logical != "STRING" && logical != "JSON" && logical != "ENUM" && logical != "DATE" && logical != "INTEGER" {
		return nil, bad("unsupported logicaltype %q", tags["logicaltype"])
	}
	wrongConv := func() error { return bad("convertedtype %s cannot annotate %s", conv, typ) }
	switch typ {
	case "BOOLEAN":
		if conv != "" {
			return nil, wrongConv()
		}
		return arrow.FixedWidthTypes.Boolean, nil
	case "INT32":
		switch conv {
		case "", "INT_32":
			if logical == "DATE" {
				return arrow.FixedWidthTypes.Date32, nil
			}
			return arrow.PrimitiveTypes.Int32, nil
		case "INT_8":
			return arrow.PrimitiveTypes.Int8, nil
		case "INT_16":
			return arrow.PrimitiveTypes.Int16, nil
		case "UINT_8":
			return arrow.PrimitiveTypes.Uint8, nil
		case "UINT_16":
			return arrow.PrimitiveTypes.Uint16, nil
		case "UINT_32":
			return arrow.PrimitiveTypes.Uint32, nil
		case "DATE":
			return arrow.FixedWidthTypes.Date32, nil
		case "TIME_MILLIS":
			return arrow.FixedWidthTypes.Time32ms, nil
		}
		return nil, wrongConv()
	case "INT64":
		switch conv {
		case "", "INT_64":
			return arrow.PrimitiveTypes.Int64, nil
		case "UINT_64":
			return arrow.PrimitiveTypes.Uint64, nil
		case "TIMESTAMP_MILLIS":
			return &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, nil
		case "TIMESTAMP_MICROS":
			return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, nil
		case "TIME_MICROS":
			return arrow.FixedWidthTypes.Time64us, nil
		}
		return nil, wrongConv()
	case "INT96":
		return nil, bad("INT96 timestamps are deprecated and not read reliably; use INT64 with convertedtype=TIMESTAMP_MILLIS")
	case "FLOAT":
		if conv != "" {
			return nil, wrongConv()
		}
		return arrow.PrimitiveTypes.Float32, nil
	case "DOUBLE":
		if conv != "" {
			return nil, wrongConv()
		}
		return arrow.PrimitiveTypes.Float64, nil
	case "BYTE_ARRAY":
		switch conv {
		case "UTF8", "JSON", "ENUM":
			return arrow.BinaryTypes.String, nil
		case "", "BSON":
			if logical == "STRING" || logical == "JSON" || logical == "ENUM" {
				return arrow.BinaryTypes.String, nil
			}
			return arrow.BinaryTypes.Binary, nil
		}
		return nil, wrongConv()
	case "FIXED_LEN_BYTE_ARRAY":
		n, err := strconv.Atoi(tags["length"])
		if err != nil || n < 1 || n > 1<<20 {
			return nil, bad("FIXED_LEN_BYTE_ARRAY needs length=N (1..1048576)")
		}
		if conv != "" && conv != "INTERVAL" {
			return nil, wrongConv()
		}
		return &arrow.FixedSizeBinaryType{ByteWidth: n}, nil
	}
	return nil, bad("unknown type %q (want BOOLEAN, INT32, INT64, FLOAT, DOUBLE, BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY, LIST or MAP)", tags["type"])
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

package ocsf

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// issueExample is the tag schema from the Security Lake issue, extended with
// nested groups and lists.
const issueExample = `{"Tag":"name=my_schema, repetitiontype=REQUIRED","Fields":[
 {"Tag":"name=Activity_id, type=INT64, convertedtype=INT_64, repetitiontype=OPTIONAL"},
 {"Tag":"name=time, type=INT64, convertedtype=TIMESTAMP_MILLIS, repetitiontype=OPTIONAL"},
 {"Tag":"name=message, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"},
 {"Tag":"name=actor, repetitiontype=OPTIONAL","Fields":[
   {"Tag":"name=user, repetitiontype=OPTIONAL","Fields":[
     {"Tag":"name=uid, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"},
     {"Tag":"name=is_admin, type=BOOLEAN, repetitiontype=OPTIONAL"}]}]},
 {"Tag":"name=labels, type=LIST, repetitiontype=OPTIONAL","Fields":[
   {"Tag":"name=element, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=REQUIRED"}]},
 {"Tag":"name=resources, convertedtype=LIST, repetitiontype=OPTIONAL","Fields":[
   {"Tag":"name=list, repetitiontype=REPEATED","Fields":[
     {"Tag":"name=element, repetitiontype=OPTIONAL","Fields":[
       {"Tag":"name=uid, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"},
       {"Tag":"name=size, type=INT32, repetitiontype=OPTIONAL"}]}]}]},
 {"Tag":"name=ports, type=INT32, repetitiontype=REPEATED"},
 {"Tag":"name=attrs, type=MAP, repetitiontype=OPTIONAL","Fields":[
   {"Tag":"name=key, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=REQUIRED"},
   {"Tag":"name=value, type=DOUBLE, repetitiontype=OPTIONAL"}]}
]}`

func TestParseTagSchema(t *testing.T) {
	s, err := ParseTagSchema([]byte(issueExample))
	if err != nil {
		t.Fatal(err)
	}
	want := arrow.NewSchema([]arrow.Field{
		{Name: "Activity_id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "time", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "message", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "actor", Type: arrow.StructOf(arrow.Field{Name: "user", Nullable: true, Type: arrow.StructOf(
			arrow.Field{Name: "uid", Type: arrow.BinaryTypes.String, Nullable: true},
			arrow.Field{Name: "is_admin", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		)}), Nullable: true},
		{Name: "labels", Type: arrow.ListOfField(arrow.Field{Name: "element", Type: arrow.BinaryTypes.String}), Nullable: true},
		{Name: "resources", Type: arrow.ListOfField(arrow.Field{Name: "element", Nullable: true, Type: arrow.StructOf(
			arrow.Field{Name: "uid", Type: arrow.BinaryTypes.String, Nullable: true},
			arrow.Field{Name: "size", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		)}), Nullable: true},
		{Name: "ports", Type: arrow.ListOfField(arrow.Field{Name: "element", Type: arrow.PrimitiveTypes.Int32})},
		{Name: "attrs", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64), Nullable: true},
	}, nil)
	if len(s.Fields()) != len(want.Fields()) {
		t.Fatalf("got %d fields, want %d:\n%s", len(s.Fields()), len(want.Fields()), s)
	}
	for i, f := range want.Fields() {
		g := s.Field(i)
		if g.Name != f.Name || g.Nullable != f.Nullable || !arrow.TypeEqual(g.Type, f.Type, arrow.CheckMetadata()) {
			t.Errorf("field %d: got %s, want %s", i, g, f)
		}
	}
	if v, _ := s.Metadata().GetValue(MetaTagSchemaName); v != "my_schema" {
		t.Errorf("schema name metadata = %q", v)
	}
}

func TestParseTagSchemaPrimitives(t *testing.T) {
	cases := []struct {
		tag  string
		want arrow.DataType
	}{
		{"type=BOOLEAN", arrow.FixedWidthTypes.Boolean},
		{"type=INT32", arrow.PrimitiveTypes.Int32},
		{"type=int32, convertedtype=int_16", arrow.PrimitiveTypes.Int16},
		{"type=INT32, convertedtype=INT_8", arrow.PrimitiveTypes.Int8},
		{"type=INT32, convertedtype=UINT_8", arrow.PrimitiveTypes.Uint8},
		{"type=INT32, convertedtype=UINT_16", arrow.PrimitiveTypes.Uint16},
		{"type=INT32, convertedtype=UINT_32", arrow.PrimitiveTypes.Uint32},
		{"type=INT32, convertedtype=DATE", arrow.FixedWidthTypes.Date32},
		{"type=INT32, convertedtype=TIME_MILLIS", arrow.FixedWidthTypes.Time32ms},
		{"type=INT64, convertedtype=UINT_64", arrow.PrimitiveTypes.Uint64},
		{"type=INT64, convertedtype=TIMESTAMP_MICROS", &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
		{"type=INT64, convertedtype=TIME_MICROS", arrow.FixedWidthTypes.Time64us},
		{"type=INT64, logicaltype=TIMESTAMP, logicaltype.unit=MILLIS, logicaltype.isadjustedtoutc=true", &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}},
		{"type=INT64, logicaltype=TIMESTAMP, logicaltype.unit=MICROS, logicaltype.isadjustedtoutc=false", &arrow.TimestampType{Unit: arrow.Microsecond}},
		{"type=FLOAT", arrow.PrimitiveTypes.Float32},
		{"type=DOUBLE", arrow.PrimitiveTypes.Float64},
		{"type=BYTE_ARRAY", arrow.BinaryTypes.Binary},
		{"type=BYTE_ARRAY, logicaltype=STRING", arrow.BinaryTypes.String},
		{"type=BYTE_ARRAY, convertedtype=JSON", arrow.BinaryTypes.String},
		{"type=FIXED_LEN_BYTE_ARRAY, length=16", &arrow.FixedSizeBinaryType{ByteWidth: 16}},
		{"type=INT64, convertedtype=DECIMAL, precision=18, scale=2", &arrow.Decimal128Type{Precision: 18, Scale: 2}},
		{"type=BYTE_ARRAY, convertedtype=UTF8, encoding=PLAIN_DICTIONARY, fieldid=3, omitstats=true, inname=X", arrow.BinaryTypes.String},
	}
	for _, c := range cases {
		t.Run(c.tag, func(t *testing.T) {
			doc := `{"Tag":"name=s","Fields":[{"Tag":"name=f, ` + c.tag + `, repetitiontype=OPTIONAL"}]}`
			s, err := ParseTagSchema([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Field(0).Type; !arrow.TypeEqual(got, c.want) {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestParseTagSchemaErrors(t *testing.T) {
	cases := []struct {
		name, doc, path, msg string
	}{
		{"not json", `{"Tag":`, "(document)", "not a tag schema"},
		{"unknown member", `{"Tag":"name=s","Fields":[],"Extra":1}`, "(document)", "unknown field"},
		{"no fields", `{"Tag":"name=s"}`, "s", "no Fields"},
		{"root type", `{"Tag":"name=s, type=INT32","Fields":[{"Tag":"name=a, type=INT32"}]}`, "s", "takes no type"},
		{"unknown type", `{"Tag":"name=s","Fields":[{"Tag":"name=a, type=INT33"}]}`, "s.a", `unknown type "INT33"`},
		{"typo key", `{"Tag":"name=s","Fields":[{"Tag":"name=a, tpye=INT32"}]}`, "s.Fields[0]", `unknown tag key "tpye"`},
		{"no equals", `{"Tag":"name=s","Fields":[{"Tag":"name=a, INT32"}]}`, "s.Fields[0]", "not key=value"},
		{"dup key", `{"Tag":"name=s","Fields":[{"Tag":"name=a, type=INT32, type=INT64"}]}`, "s.Fields[0]", "given twice"},
		{"no name", `{"Tag":"name=s","Fields":[{"Tag":"type=INT32"}]}`, "s.Fields[0]", "no name"},
		{"dup name", `{"Tag":"name=s","Fields":[{"Tag":"name=a, type=INT32"},{"Tag":"name=a, type=INT64"}]}`, "s.a", "duplicate"},
		{"bad repetition", `{"Tag":"name=s","Fields":[{"Tag":"name=a, type=INT32, repetitiontype=SOMETIMES"}]}`, "s.a", "repetitiontype"},
		{"no type no fields", `{"Tag":"name=s","Fields":[{"Tag":"name=a"}]}`, "s.a", "neither a type nor Fields"},
		{"primitive with fields", `{"Tag":"name=s","Fields":[{"Tag":"name=a, type=INT32","Fields":[{"Tag":"name=b, type=INT32"}]}]}`, "s.a", "cannot have Fields"},
		{"bad converted", `{"Tag":"name=s","Fields":[{"Tag":"name=a, type=BOOLEAN, convertedtype=UTF8"}]}`, "s.a", "cannot annotate"},
		{"int96", `{"Tag":"name=s","Fields":[{"Tag":"name=a, type=INT96"}]}`, "s.a", "INT96"},
		{"nanos", `{"Tag":"name=s","Fields":[{"Tag":"name=a, type=INT64, logicaltype=TIMESTAMP, logicaltype.unit=NANOS"}]}`, "s.a", "nanosecond"},
		{"fixed no length", `{"Tag":"name=s","Fields":[{"Tag":"name=a, type=FIXED_LEN_BYTE_ARRAY"}]}`, "s.a", "length"},
		{"decimal no precision", `{"Tag":"name=s","Fields":[{"Tag":"name=a, type=INT64, convertedtype=DECIMAL"}]}`, "s.a", "precision"},
		{"list two children", `{"Tag":"name=s","Fields":[{"Tag":"name=l, type=LIST","Fields":[{"Tag":"name=a, type=INT32"},{"Tag":"name=b, type=INT32"}]}]}`, "s.l", "exactly one child"},
		{"list bad element", `{"Tag":"name=s","Fields":[{"Tag":"name=l, type=LIST","Fields":[{"Tag":"name=element, type=STRING"}]}]}`, "s.l.element", "unknown type"},
		{"map one child", `{"Tag":"name=s","Fields":[{"Tag":"name=m, type=MAP","Fields":[{"Tag":"name=key, type=INT32"}]}]}`, "s.m", "key and a value"},
		{"map struct key", `{"Tag":"name=s","Fields":[{"Tag":"name=m, type=MAP","Fields":[{"Tag":"name=key","Fields":[{"Tag":"name=x, type=INT32"}]},{"Tag":"name=value, type=INT32"}]}]}`, "s.m.key", "primitive"},
		{"deep", `{"Tag":"name=s","Fields":[` + strings.Repeat(`{"Tag":"name=g","Fields":[`, 70) + `{"Tag":"name=x, type=INT32"}` + strings.Repeat(`]}`, 70) + `]}`, "", "deeper than"},
		{"trailing", `{"Tag":"name=s","Fields":[{"Tag":"name=a, type=INT32"}]} {}`, "(document)", "data after"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := ParseTagSchema([]byte(c.doc))
			if err == nil {
				t.Fatalf("ParseTagSchema succeeded: %s", s)
			}
			if !errors.Is(err, ErrTagSchema) {
				t.Errorf("error %v does not wrap ErrTagSchema", err)
			}
			var te *TagError
			if !errors.As(err, &te) {
				t.Fatalf("error %T is not a *TagError", err)
			}
			if c.path != "" && te.Path != c.path {
				t.Errorf("path %q, want %q (%v)", te.Path, c.path, err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not say %q", err, c.msg)
			}
		})
	}
}

package ocsf

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

var builtinUIDs = []int{ClassDetectionFinding, ClassAccountChange, ClassAuthentication, ClassNetworkActivity, ClassAPIActivity}

func TestArrowSchemaConventions(t *testing.T) {
	for _, uid := range builtinUIDs {
		name, err := ClassName(uid)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			s, err := ArrowSchema(uid)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := ArrowSchema(uid)
			if !s.Equal(again) {
				t.Fatal("ArrowSchema is not deterministic")
			}
			want := map[string]arrow.DataType{
				"time":        arrow.PrimitiveTypes.Int64,
				"time_dt":     &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"},
				"type_uid":    arrow.PrimitiveTypes.Int64,
				"class_uid":   arrow.PrimitiveTypes.Int32,
				"activity_id": arrow.PrimitiveTypes.Int32,
				"severity_id": arrow.PrimitiveTypes.Int32,
				"unmapped":    arrow.BinaryTypes.String,
				"message":     arrow.BinaryTypes.String,
				"count":       arrow.PrimitiveTypes.Int32,
			}
			for col, typ := range want {
				fs, ok := s.FieldsByName(col)
				if !ok {
					t.Errorf("no column %s", col)
					continue
				}
				if !arrow.TypeEqual(fs[0].Type, typ) {
					t.Errorf("column %s: %s, want %s", col, fs[0].Type, typ)
				}
			}
			md := s.Metadata()
			if v, _ := md.GetValue(MetaVersion); v != Version {
				t.Errorf("metadata %s = %q", MetaVersion, v)
			}
			checkFields(t, "", s.Fields())
		})
	}
}

// checkFields asserts nullability and sorted order at every level.
func checkFields(t *testing.T, path string, fields []arrow.Field) {
	t.Helper()
	for i, f := range fields {
		p := strings.TrimPrefix(path+"."+f.Name, ".")
		if !f.Nullable {
			t.Errorf("%s: not nullable", p)
		}
		if i > 0 && fields[i-1].Name >= f.Name {
			t.Errorf("%s: not sorted after %s", p, fields[i-1].Name)
		}
		typ := f.Type
		if l, ok := typ.(*arrow.ListType); ok {
			if !l.ElemField().Nullable {
				t.Errorf("%s[]: element not nullable", p)
			}
			typ = l.Elem()
			p += "[]"
		}
		if st, ok := typ.(*arrow.StructType); ok {
			if st.NumFields() == 0 {
				t.Errorf("%s: empty struct", p)
			}
			checkFields(t, p, st.Fields())
		}
	}
}

func TestArrowSchemaNestedTypes(t *testing.T) {
	s, err := ArrowSchema(ClassAPIActivity)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path string
		want arrow.DataType
	}{
		{"actor.user.uid", arrow.BinaryTypes.String},
		{"actor.user.account.type_id", arrow.PrimitiveTypes.Int32},
		{"src_endpoint.port", arrow.PrimitiveTypes.Int32},
		{"src_endpoint.location.coordinates", arrow.ListOf(arrow.PrimitiveTypes.Float64)},
		{"resources", nil}, // list of struct, checked below
		{"api.request.data", arrow.BinaryTypes.String},
		{"metadata.product.vendor_name", arrow.BinaryTypes.String},
		{"metadata.profiles", arrow.ListOf(arrow.BinaryTypes.String)},
		{"actor.process.parent_process.pid", arrow.PrimitiveTypes.Int32},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			typ := lookupArrow(t, s, c.path)
			if c.want != nil && !arrow.TypeEqual(typ, c.want) {
				t.Errorf("%s: %s, want %s", c.path, typ, c.want)
			}
		})
	}
	if l, ok := lookupArrow(t, s, "resources").(*arrow.ListType); !ok || l.Elem().ID() != arrow.STRUCT {
		t.Errorf("resources is not a list of struct")
	}
	// The recursion cut: process.parent_process.parent_process is omitted.
	pp := lookupArrow(t, s, "actor.process.parent_process").(*arrow.StructType)
	if _, ok := pp.FieldIdx("parent_process"); ok {
		t.Error("actor.process.parent_process.parent_process present; want it cut at MaxObjectRepeat")
	}
}

func lookupArrow(t *testing.T, s *arrow.Schema, path string) arrow.DataType {
	t.Helper()
	parts := strings.Split(path, ".")
	fs, ok := s.FieldsByName(parts[0])
	if !ok {
		t.Fatalf("no column %s", parts[0])
	}
	typ := fs[0].Type
	for _, p := range parts[1:] {
		st, ok := typ.(*arrow.StructType)
		if !ok {
			t.Fatalf("%s: %s is not a struct", path, typ)
		}
		i, ok := st.FieldIdx(p)
		if !ok {
			t.Fatalf("%s: no field %s", path, p)
		}
		typ = st.Field(i).Type
	}
	return typ
}

func TestClassUID(t *testing.T) {
	cases := []struct {
		in   string
		want int
	}{
		{"api_activity", 6003}, {"API Activity", 6003}, {"6003", 6003}, {" api-activity ", 6003},
		{"authentication", 3002}, {"Account Change", 3001}, {"detection_finding", 2004},
		{"4001", 4001}, {"network activity", 4001},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ClassUID(c.in)
			if err != nil || got != c.want {
				t.Fatalf("ClassUID(%q) = %d, %v; want %d", c.in, got, err, c.want)
			}
		})
	}
	for _, bad := range []string{"", "file_activity", "1001", "999999", "x"} {
		if _, err := ClassUID(bad); !errors.Is(err, ErrUnknownClass) {
			t.Errorf("ClassUID(%q) error = %v, want ErrUnknownClass", bad, err)
		}
	}
	if _, err := ArrowSchema(1001); !errors.Is(err, ErrUnknownClass) {
		t.Errorf("ArrowSchema(1001) error = %v, want ErrUnknownClass", err)
	}
	if n, err := ClassName(6003); err != nil || n != "api_activity" {
		t.Errorf("ClassName(6003) = %q, %v", n, err)
	}
	if _, err := Builtin("1.3.0"); err == nil {
		t.Error("Builtin(1.3.0) succeeded; there are no 1.3.0 built-ins yet")
	}
}

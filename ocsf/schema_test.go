package ocsf

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// miniExport is a small schema in the official export format.
const miniExport = `{
 "version": "9.9.9",
 "types": {
  "string_t": {"type": null, "max_len": 10},
  "integer_t": {}, "long_t": {}, "timestamp_t": {"type": "long_t"},
  "datetime_t": {"type": "string_t", "regex": "^\\d{4}-"},
  "port_t": {"type": "integer_t", "range": [0, 65535]},
  "json_t": {}, "boolean_t": {}, "float_t": {}
 },
 "categories": {"system": {"name": "system", "caption": "System Activity", "uid": 1}},
 "objects": {
  "object": {"name": "object", "attributes": {}},
  "node": {"name": "node", "constraints": {"at_least_one": ["id", "label"]}, "attributes": {
    "id": {"type": "integer_t", "requirement": "recommended"},
    "label": {"type": "string_t"},
    "next": {"type": "node", "object_type": "node"},
    "old": {"type": "string_t", "deprecated": {"message": "gone", "since": "9.0.0"}}
  }}
 },
 "classes": {
  "thing_activity": {"name": "thing_activity", "caption": "Thing Activity", "uid": 1099, "category": "system", "attributes": {
    "class_uid": {"type": "integer_t", "requirement": "required"},
    "activity_id": {"type": "integer_t", "requirement": "required", "enum": {"0": {"caption": "Unknown"}, "1": {"caption": "Poke"}}},
    "time": {"type": "timestamp_t", "requirement": "required"},
    "time_dt": {"type": "datetime_t", "profile": "datetime"},
    "head": {"type": "node", "object_type": "node", "requirement": "required"},
    "nodes": {"type": "node", "object_type": "node", "is_array": true},
    "port": {"type": "port_t"},
    "extra": {"type": "object", "object_type": "object"},
    "blob": {"type": "json_t"}
  }}
 }
}`

func TestLoadSchemaMini(t *testing.T) {
	s, err := LoadSchema(strings.NewReader(miniExport))
	if err != nil {
		t.Fatal(err)
	}
	if s.Version() != "9.9.9" || len(s.Classes()) != 1 {
		t.Fatalf("version %s classes %v", s.Version(), s.Classes())
	}
	for _, key := range []string{"thing_activity", "Thing Activity", "1099"} {
		if uid, err := s.ClassUID(key); err != nil || uid != 1099 {
			t.Errorf("ClassUID(%q) = %d, %v", key, uid, err)
		}
	}
	as, err := s.ArrowSchema("thing_activity")
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, f := range as.Fields() {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, ","); got != "activity_id,blob,class_uid,extra,head,nodes,port,time,time_dt,unmapped" {
		t.Errorf("columns %s", got)
	}
	// node.next recurses: kept once (node appears twice on head.next), then cut.
	head := lookupArrow(t, as, "head").(*arrow.StructType)
	next := lookupArrow(t, as, "head.next").(*arrow.StructType)
	if _, ok := head.FieldIdx("old"); ok {
		t.Error("deprecated attribute present")
	}
	if _, ok := next.FieldIdx("next"); ok {
		t.Error("head.next.next present; want it cut")
	}
	for path, want := range map[string]arrow.DataType{
		"blob": arrow.BinaryTypes.String, "extra": arrow.BinaryTypes.String, "port": arrow.PrimitiveTypes.Int32,
		"time": arrow.PrimitiveTypes.Int64, "time_dt": timestampMillisUTC, "head.id": arrow.PrimitiveTypes.Int32,
	} {
		if got := lookupArrow(t, as, path); !arrow.TypeEqual(got, want) {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}
	findings, err := s.Validate([]byte(`{"class_uid":1099,"activity_id":1,"time":1,"head":{"label":"0123456789abc","next":{}},"nodes":[{"id":1},{}],"extra":{"any":[1]},"blob":[1,2]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"head.label": CodeFormat, "head.next": CodeAtLeastOne, "nodes[1]": CodeAtLeastOne}
	for _, f := range findings {
		if want[f.Path] != f.Code {
			t.Errorf("unexpected finding %s", f)
		}
		delete(want, f.Path)
	}
	if len(want) > 0 {
		t.Errorf("missing findings %v (got %v)", want, findings)
	}
}

func TestLoadSchemaErrors(t *testing.T) {
	cases := map[string]string{
		"not json":        `{`,
		"empty object":    `{}`,
		"no classes":      `{"version":"1","types":{"string_t":{}}}`,
		"unknown object":  strings.Replace(miniExport, `"object_type": "node", "requirement": "required"`, `"object_type": "nodule", "requirement": "required"`, 1),
		"unknown type":    strings.Replace(miniExport, `"port": {"type": "port_t"}`, `"port": {"type": "porty_t"}`, 1),
		"type cycle":      strings.Replace(miniExport, `"port_t": {"type": "integer_t"`, `"port_t": {"type": "port_t"`, 1),
		"type no base":    strings.Replace(miniExport, `"port_t": {"type": "integer_t"`, `"port_t": {"type": null`, 1),
		"bad regex":       strings.Replace(miniExport, `"regex": "^\\d{4}-"`, `"regex": "(("`, 1),
		"class no uid":    strings.Replace(miniExport, `"uid": 1099,`, ``, 1),
		"wrong structure": `{"version":"1","types":{"string_t":{}},"classes":[1]}`,
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			if s, err := LoadSchema(strings.NewReader(doc)); err == nil {
				t.Fatalf("LoadSchema succeeded: %v", s.Classes())
			} else if !strings.HasPrefix(err.Error(), "ocsf: load schema") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	if _, err := (&Schema{}).ClassName(1); !errors.Is(err, ErrUnknownClass) {
		t.Errorf("ClassName on empty schema: %v", err)
	}
}

// TestOfficialExports loads every official export present and builds the
// Arrow schema of every class.
func TestOfficialExports(t *testing.T) {
	for _, version := range []string{"1.1.0", "1.3.0"} {
		t.Run(version, func(t *testing.T) {
			s := officialSchema(t, version)
			if len(s.Classes()) < 40 {
				t.Errorf("only %d classes", len(s.Classes()))
			}
			for _, name := range s.Classes() {
				as, err := s.ArrowSchema(name)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if _, ok := as.FieldsByName(UnmappedColumn); !ok {
					t.Errorf("%s: no unmapped column", name)
				}
				if d := arrowDepth(as.Fields()); d > MaxObjectDepth {
					t.Errorf("%s: struct depth %d > %d", name, d, MaxObjectDepth)
				}
				checkFields(t, name, as.Fields())
			}
		})
	}
	// 1.3.0 differs from 1.1.0 where the schema changed.
	t.Run("1.3.0 changes", func(t *testing.T) {
		s13 := officialSchema(t, "1.3.0")
		as, err := s13.ArrowSchema("6003")
		if err != nil {
			t.Fatal(err)
		}
		if got := lookupArrow(t, as, "duration"); !arrow.TypeEqual(got, arrow.PrimitiveTypes.Int64) {
			t.Errorf("1.3.0 api_activity.duration: %s, want int64 (long_t)", got)
		}
		if _, ok := as.FieldsByName("osint"); !ok {
			t.Error("1.3.0 api_activity has no osint column")
		}
		// A 1.1.0 event checked against 1.3.0 says so.
		ev := sampleEvents(t)[ClassNetworkActivity]
		findings, err := s13.Validate(ev)
		if err != nil {
			t.Fatal(err)
		}
		var sawVersion bool
		for _, f := range findings {
			sawVersion = sawVersion || f.Code == CodeVersion
		}
		if !sawVersion {
			t.Errorf("no version finding for a 1.1.0 event against 1.3.0: %v", findings)
		}
	})
}

func arrowDepth(fields []arrow.Field) int {
	max := 0
	for _, f := range fields {
		typ := f.Type
		if l, ok := typ.(*arrow.ListType); ok {
			typ = l.Elem()
		}
		if st, ok := typ.(*arrow.StructType); ok {
			if d := 1 + arrowDepth(st.Fields()); d > max {
				max = d
			}
		}
	}
	return max
}

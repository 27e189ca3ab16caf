package ocsf

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// The official schema exports live outside the repository, in
// ../shared/ocsf relative to the repository root, or in the directory named
// by LAKERELAY_OCSF_SCHEMA_DIR (CI provides them). Tests that need them are
// skipped, saying where the file was looked for, when they are absent.

var officialCache sync.Map // version → *Schema

func officialSchemaPath(t testing.TB, version string) string {
	t.Helper()
	if dir := os.Getenv("LAKERELAY_OCSF_SCHEMA_DIR"); dir != "" {
		return filepath.Join(dir, "schema-"+version+".json")
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("ocsf tests: repository root (go.mod) not found")
		}
		dir = parent
	}
	return filepath.Join(dir, "..", "shared", "ocsf", "schema-"+version+".json")
}

// officialSchema loads the official export of version; when the file is
// absent it skips the test, naming the path and how to provide it.
func officialSchema(t testing.TB, version string) *Schema {
	t.Helper()
	if s, ok := officialCache.Load(version); ok {
		return s.(*Schema)
	}
	path := officialSchemaPath(t, version)
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		t.Skipf("the official OCSF %s schema export is not present at %s; put schema-%s.json there or set LAKERELAY_OCSF_SCHEMA_DIR to the directory holding it", version, path, version)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := LoadSchema(f)
	if err != nil {
		t.Fatalf("LoadSchema(%s): %v", path, err)
	}
	if s.Version() != version {
		t.Fatalf("LoadSchema(%s).Version() = %q, want %q", path, s.Version(), version)
	}
	officialCache.Store(version, s)
	return s
}

// TestBuiltinAgreesWithOfficial checks every attribute the built-in
// definitions declare against the official 1.1.0 export: same type, array
// flag, requirement, profile, enum values a subset, same constraints; and
// that the built-in Arrow schemas are sub-trees of the official ones.
func TestBuiltinAgreesWithOfficial(t *testing.T) {
	off := officialSchema(t, Version)
	bi, err := Builtin(Version)
	if err != nil {
		t.Fatal(err)
	}
	for _, uid := range []int{ClassDetectionFinding, ClassAccountChange, ClassAuthentication, ClassNetworkActivity, ClassAPIActivity} {
		bc, oc := bi.byUID[uid], off.byUID[uid]
		if oc == nil {
			t.Fatalf("official %s has no class %d", Version, uid)
		}
		t.Run(bc.name, func(t *testing.T) {
			if bc.name != oc.name || bc.caption != oc.caption || bc.categoryUID != oc.categoryUID || bc.categoryName != oc.categoryName {
				t.Errorf("class %d: built-in %s/%q/%d/%q, official %s/%q/%d/%q", uid, bc.name, bc.caption, bc.categoryUID, bc.categoryName, oc.name, oc.caption, oc.categoryUID, oc.categoryName)
			}
			if !sameSet(bc.atLeastOne, oc.atLeastOne) {
				t.Errorf("at_least_one: built-in %v, official %v", bc.atLeastOne, oc.atLeastOne)
			}
			seen := map[string]bool{}
			compareAttrs(t, bi, off, bc.name, bc.attrs, oc.byName, seen)

			bs, err := ArrowSchema(uid)
			if err != nil {
				t.Fatal(err)
			}
			oas, err := off.ArrowSchema(oc.name)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range bs.Fields() {
				of, ok := oas.FieldsByName(f.Name)
				if !ok {
					t.Errorf("arrow: official has no column %s", f.Name)
					continue
				}
				compareArrow(t, f.Name, f.Type, of[0].Type)
			}
		})
	}
}

func compareAttrs(t *testing.T, bi, off *Schema, where string, attrs []*attrDef, official map[string]*attrDef, seen map[string]bool) {
	t.Helper()
	for _, a := range attrs {
		path := where + "." + a.name
		o, ok := official[a.name]
		if !ok {
			t.Errorf("%s: not in the official schema", path)
			continue
		}
		if a.typ != o.typ || a.isObject != o.isObject || a.isArray != o.isArray {
			t.Errorf("%s: built-in type %s (object %v, array %v), official %s (object %v, array %v)", path, a.typ, a.isObject, a.isArray, o.typ, o.isObject, o.isArray)
		}
		if a.req != o.req {
			t.Errorf("%s: built-in requirement %d, official %d", path, a.req, o.req)
		}
		if a.profile != o.profile {
			t.Errorf("%s: built-in profile %q, official %q", path, a.profile, o.profile)
		}
		if (len(a.enum) > 0) != (len(o.enum) > 0) {
			t.Errorf("%s: built-in enum %v, official %v", path, keys(a.enum), keys(o.enum))
		}
		for k := range a.enum {
			if _, ok := o.enum[k]; !ok {
				t.Errorf("%s: built-in enum value %s not in the official enum %v", path, k, keys(o.enum))
			}
		}
		if a.isObject && a.typ != freeForm && !seen[a.typ] {
			seen[a.typ] = true
			bo, oo := bi.objects[a.typ], off.objects[a.typ]
			if !sameSet(bo.atLeastOne, oo.atLeastOne) || !sameSet(bo.justOne, oo.justOne) {
				t.Errorf("object %s constraints: built-in %v/%v, official %v/%v", a.typ, bo.atLeastOne, bo.justOne, oo.atLeastOne, oo.justOne)
			}
			compareAttrs(t, bi, off, a.typ, bo.attrs, oo.byName, seen)
		}
	}
}

func compareArrow(t *testing.T, path string, b, o arrow.DataType) {
	t.Helper()
	switch bt := b.(type) {
	case *arrow.StructType:
		ot, ok := o.(*arrow.StructType)
		if !ok {
			t.Errorf("arrow %s: built-in struct, official %s", path, o)
			return
		}
		for _, f := range bt.Fields() {
			i, ok := ot.FieldIdx(f.Name)
			if !ok {
				t.Errorf("arrow %s.%s: not in the official schema", path, f.Name)
				continue
			}
			of := ot.Field(i)
			if f.Nullable != of.Nullable || !f.Nullable {
				t.Errorf("arrow %s.%s: not nullable", path, f.Name)
			}
			compareArrow(t, path+"."+f.Name, f.Type, of.Type)
		}
	case *arrow.ListType:
		ot, ok := o.(*arrow.ListType)
		if !ok {
			t.Errorf("arrow %s: built-in list, official %s", path, o)
			return
		}
		compareArrow(t, path+"[]", bt.Elem(), ot.Elem())
	default:
		if !arrow.TypeEqual(b, o) {
			t.Errorf("arrow %s: built-in %s, official %s", path, b, o)
		}
	}
}

func sameSet(a, b []string) bool {
	x, y := append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(x)
	sort.Strings(y)
	return reflect.DeepEqual(x, y) || (len(x) == 0 && len(y) == 0)
}

func keys(m map[string]string) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

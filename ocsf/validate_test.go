package ocsf

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lakerelay/lakerelay"
)

// validEvent returns a conforming API Activity event as a generic map.
func validEvent(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "cloudtrail-ocsf", "get_object.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func obj(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m = m[p].(map[string]any)
	}
	return m
}

func TestValidateFindings(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(m map[string]any)
		path   string
		code   string
		sev    lakerelay.Severity
	}{
		{"missing time", func(m map[string]any) { delete(m, "time") }, "time", CodeRequired, lakerelay.SeverityError},
		{"null metadata", func(m map[string]any) { m["metadata"] = nil }, "metadata", CodeRequired, lakerelay.SeverityError},
		{"nested required", func(m map[string]any) { delete(obj(m, "api"), "operation") }, "api.operation", CodeRequired, lakerelay.SeverityError},
		{"deep required", func(m map[string]any) { delete(obj(m, "metadata", "product"), "vendor_name") }, "metadata.product.vendor_name", CodeRequired, lakerelay.SeverityError},
		{"profile attribute required", func(m map[string]any) { delete(m, "cloud") }, "cloud", CodeRequired, lakerelay.SeverityError},
		{"wrong type", func(m map[string]any) { m["severity_id"] = "1" }, "severity_id", CodeType, lakerelay.SeverityError},
		{"fraction", func(m map[string]any) { m["time"] = 1.5 }, "time", CodeType, lakerelay.SeverityError},
		{"int32 overflow", func(m map[string]any) { m["count"] = 1 << 40 }, "count", CodeType, lakerelay.SeverityError},
		{"not an object", func(m map[string]any) { m["actor"] = "root" }, "actor", CodeType, lakerelay.SeverityError},
		{"not an array", func(m map[string]any) { m["resources"] = map[string]any{"uid": "x"} }, "resources", CodeType, lakerelay.SeverityError},
		{"array element", func(m map[string]any) { m["resources"].([]any)[1].(map[string]any)["type"] = 7 }, "resources[1].type", CodeType, lakerelay.SeverityError},
		{"enum", func(m map[string]any) { m["severity_id"] = 7 }, "severity_id", CodeEnum, lakerelay.SeverityError},
		{"activity enum", func(m map[string]any) { m["activity_id"] = 5; m["type_uid"] = 600305 }, "activity_id", CodeEnum, lakerelay.SeverityError},
		{"nested enum", func(m map[string]any) { obj(m, "cloud", "account")["type_id"] = 12 }, "cloud.account.type_id", CodeEnum, lakerelay.SeverityError},
		{"type_uid", func(m map[string]any) { m["type_uid"] = 600399 }, "type_uid", CodeUIDMismatch, lakerelay.SeverityError},
		{"category_uid", func(m map[string]any) { m["category_uid"] = 3 }, "category_uid", CodeUIDMismatch, lakerelay.SeverityError},
		{"unknown class", func(m map[string]any) { m["class_uid"] = 9999 }, "class_uid", CodeUnknownClass, lakerelay.SeverityError},
		{"class missing", func(m map[string]any) { delete(m, "class_uid") }, "class_uid", CodeRequired, lakerelay.SeverityError},
		{"class type", func(m map[string]any) { m["class_uid"] = "6003" }, "class_uid", CodeType, lakerelay.SeverityError},
		{"at_least_one", func(m map[string]any) { m["actor"] = map[string]any{} }, "actor", CodeAtLeastOne, lakerelay.SeverityError},
		{"at_least_one nested", func(m map[string]any) { obj(m, "actor")["user"] = map[string]any{"type": "IAMUser"} }, "actor.user", CodeAtLeastOne, lakerelay.SeverityError},
		{"port range", func(m map[string]any) { obj(m, "src_endpoint")["port"] = 70000 }, "src_endpoint.port", CodeType, lakerelay.SeverityError},
		{"ip format", func(m map[string]any) { obj(m, "src_endpoint")["ip"] = "10.0.0.300" }, "src_endpoint.ip", CodeFormat, lakerelay.SeverityWarning},
		{"datetime format", func(m map[string]any) { m["time_dt"] = "March 2" }, "time_dt", CodeFormat, lakerelay.SeverityWarning},
		{"unknown attribute", func(m map[string]any) { obj(m, "actor")["shoe_size"] = 44 }, "actor.shoe_size", CodeUnknownAttribute, lakerelay.SeverityWarning},
		{"version", func(m map[string]any) { obj(m, "metadata")["version"] = "1.0.0" }, "metadata.version", CodeVersion, lakerelay.SeverityWarning},
	}
	for name, schema := range map[string]func(t *testing.T) *Schema{
		"builtin":  func(t *testing.T) *Schema { return mustBuiltin(t) },
		"official": func(t *testing.T) *Schema { return officialSchema(t, Version) },
	} {
		t.Run(name, func(t *testing.T) {
			s := schema(t)
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					m := validEvent(t)
					c.mutate(m)
					b, _ := json.Marshal(m)
					findings, err := s.Validate(b)
					if err != nil {
						t.Fatal(err)
					}
					found := false
					for _, f := range findings {
						if f.Path == c.path && f.Code == c.code && f.Severity == c.sev {
							found = true
						}
					}
					if !found {
						t.Errorf("want %s %s at %s; got %v", c.sev, c.code, c.path, findings)
					}
					if lakerelay.HasErrors(findings) != (c.sev == lakerelay.SeverityError) {
						t.Errorf("HasErrors = %v for %v", lakerelay.HasErrors(findings), findings)
					}
				})
			}
		})
	}
}

func TestValidateProfiles(t *testing.T) {
	m := validEvent(t)
	delete(m, "cloud")
	obj(m, "metadata")["profiles"] = []any{"datetime"}
	b, _ := json.Marshal(m)
	findings, err := Validate(b)
	if err != nil {
		t.Fatal(err)
	}
	if lakerelay.HasErrors(findings) {
		t.Errorf("cloud required without the cloud profile: %v", findings)
	}
}

func TestValidateJustOne(t *testing.T) {
	s := &Schema{version: "x", byUID: map[int]*classDef{}, objects: map[string]*objectDef{}, types: builtinTypes()}
	a := &attrDef{name: "a", typ: tString}
	b := &attrDef{name: "b", typ: tString}
	c := &classDef{name: "c", uid: 1001, attrs: []*attrDef{a, b}, byName: map[string]*attrDef{"a": a, "b": b}, justOne: []string{"a", "b"}}
	s.byUID[1001] = c
	for in, want := range map[string]bool{
		`{"class_uid":1001,"a":"x"}`:         false,
		`{"class_uid":1001,"a":"x","b":"y"}`: true,
		`{"class_uid":1001}`:                 true,
	} {
		findings, err := s.Validate([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if lakerelay.HasErrors(findings) != want {
			t.Errorf("%s: findings %v", in, findings)
		}
	}
}

func TestValidateNotJSON(t *testing.T) {
	for _, in := range []string{``, `{`, `[]`, `"x"`, `null`, `{"class_uid":6003} {}`, `{"a":1}x`} {
		if _, err := Validate([]byte(in)); !errors.Is(err, lakerelay.ErrInvalidRecord) {
			t.Errorf("Validate(%q) error = %v, want ErrInvalidRecord", in, err)
		}
	}
}

// TestFindingsNeverQuoteStrings checks that no finding message carries a
// string value of the event, so findings are safe to log.
func TestFindingsNeverQuoteStrings(t *testing.T) {
	const secret = "s3cr3t-value"
	cases := map[string]func(m map[string]any){
		"version":   func(m map[string]any) { obj(m, "metadata")["version"] = secret },
		"datetime":  func(m map[string]any) { m["time_dt"] = secret },
		"ip":        func(m map[string]any) { obj(m, "src_endpoint")["ip"] = secret },
		"enum":      func(m map[string]any) { m["activity_id"] = secret },
		"object":    func(m map[string]any) { m["actor"] = secret },
		"array":     func(m map[string]any) { m["resources"] = secret },
		"class_uid": func(m map[string]any) { m["class_uid"] = secret },
		"boolean":   func(m map[string]any) { obj(m, "api")["request"] = map[string]any{"uid": secret, "flags": secret} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			m := validEvent(t)
			mutate(m)
			b, _ := json.Marshal(m)
			findings, err := Validate(b)
			if err != nil {
				t.Fatal(err)
			}
			if len(findings) == 0 {
				t.Fatal("no finding for the bad value")
			}
			for _, f := range findings {
				if strings.Contains(f.String(), secret) {
					t.Errorf("finding quotes the event's value: %s", f)
				}
			}
		})
	}
}

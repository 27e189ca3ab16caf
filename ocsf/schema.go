package ocsf

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Schema is one version of the OCSF schema: its classes, objects and data
// types. Get one from [LoadSchema] (any version, from the official export) or
// [Builtin] (the definitions compiled into this package). A Schema is
// immutable and safe for concurrent use.
type Schema struct {
	version string
	classes map[string]*classDef // by name
	byUID   map[int]*classDef
	objects map[string]*objectDef
	types   map[string]*typeDef

	arrowCache sync.Map // class uid → *arrow.Schema
}

// Requirement is an attribute's requirement level.
type requirement int

const (
	optional requirement = iota
	recommended
	required
)

type classDef struct {
	name, caption string
	uid           int
	categoryUID   int
	categoryName  string
	attrs         []*attrDef // sorted by name
	byName        map[string]*attrDef
	atLeastOne    []string
	justOne       []string
}

type objectDef struct {
	name       string
	attrs      []*attrDef // sorted by name
	byName     map[string]*attrDef
	atLeastOne []string
	justOne    []string
}

type attrDef struct {
	name string
	// typ is the scalar type name (string_t, ...) or, for objects, the
	// object name ("object" for a free-form object).
	typ        string
	isObject   bool
	isArray    bool
	req        requirement
	profile    string
	deprecated bool
	enum       map[string]string // value (as JSON text without quotes) → caption
}

type typeDef struct {
	name   string
	base   string // one of the primitive types below
	regex  *regexp.Regexp
	min    *float64
	max    *float64
	maxLen int
	check  func(string) bool // extra format check (built-in ip_t)
}

// Primitive OCSF types every other data type reduces to.
const (
	tBoolean  = "boolean_t"
	tInteger  = "integer_t"
	tLong     = "long_t"
	tFloat    = "float_t"
	tString   = "string_t"
	tJSON     = "json_t"
	tTime     = "timestamp_t"
	tDatetime = "datetime_t"
	// freeForm is the object name of the generic OCSF object, which has no
	// attributes of its own (unmapped, xattributes).
	freeForm = "object"
)

var primitives = map[string]bool{tBoolean: true, tInteger: true, tLong: true, tFloat: true, tString: true, tJSON: true}

// Version returns the schema's version, such as "1.1.0".
func (s *Schema) Version() string { return s.version }

// Classes returns the names of the schema's classes, sorted.
func (s *Schema) Classes() []string {
	names := make([]string, 0, len(s.classes))
	for n := range s.classes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ClassUID resolves a class given by name ("api_activity"), caption ("API
// Activity", case-insensitive) or uid ("6003") to its uid.
func (s *Schema) ClassUID(nameOrUID string) (int, error) {
	c, err := s.class(nameOrUID)
	if err != nil {
		return 0, err
	}
	return c.uid, nil
}

// ClassName returns the name of the class with the given uid.
func (s *Schema) ClassName(uid int) (string, error) {
	c, ok := s.byUID[uid]
	if !ok {
		return "", fmt.Errorf("ocsf: %w: uid %d in schema %s", ErrUnknownClass, uid, s.version)
	}
	return c.name, nil
}

// ErrUnknownClass is returned when a class name or uid names no class of the
// schema.
var ErrUnknownClass = errors.New("unknown class")

func (s *Schema) class(nameOrUID string) (*classDef, error) {
	key := strings.TrimSpace(nameOrUID)
	if uid, err := strconv.Atoi(key); err == nil {
		if c, ok := s.byUID[uid]; ok {
			return c, nil
		}
	}
	if c, ok := s.classes[key]; ok {
		return c, nil
	}
	norm := normalizeName(key)
	for _, c := range s.classes {
		if normalizeName(c.name) == norm || normalizeName(c.caption) == norm {
			return c, nil
		}
	}
	return nil, fmt.Errorf("ocsf: %w: %q in schema %s", ErrUnknownClass, nameOrUID, s.version)
}

// normalizeName folds "API Activity", "api-activity" and "api_activity" to
// one form.
func normalizeName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.NewReplacer(" ", "_", "-", "_").Replace(s)
}

// The export format, as produced by the OCSF server's /export/schema and
// found in ocsf-lib-py's schema cache (schema-<version>.json).
type exportSchema struct {
	Version    string                    `json:"version"`
	Classes    map[string]exportClass    `json:"classes"`
	Objects    map[string]exportClass    `json:"objects"`
	Types      map[string]exportType     `json:"types"`
	Categories map[string]exportCategory `json:"categories"`
}

type exportClass struct {
	Name        string                `json:"name"`
	Caption     string                `json:"caption"`
	UID         *int                  `json:"uid"`
	Category    string                `json:"category"`
	Attributes  map[string]exportAttr `json:"attributes"`
	Constraints *exportConstraints    `json:"constraints"`
}

type exportConstraints struct {
	AtLeastOne []string `json:"at_least_one"`
	JustOne    []string `json:"just_one"`
}

type exportAttr struct {
	Type        string                     `json:"type"`
	ObjectType  string                     `json:"object_type"`
	IsArray     bool                       `json:"is_array"`
	Requirement string                     `json:"requirement"`
	Profile     string                     `json:"profile"`
	Deprecated  json.RawMessage            `json:"deprecated"`
	Enum        map[string]json.RawMessage `json:"enum"`
}

type exportType struct {
	Type   string    `json:"type"`
	Regex  string    `json:"regex"`
	Range  []float64 `json:"range"`
	MaxLen *int      `json:"max_len"`
}

type exportCategory struct {
	Name    string `json:"name"`
	Caption string `json:"caption"`
	UID     int    `json:"uid"`
}

// maxSchemaBytes bounds what LoadSchema reads: the largest official exports
// are a few MiB.
const maxSchemaBytes = 256 << 20

// LoadSchema reads a whole OCSF schema in the official export format (the
// JSON document with top-level keys version, classes, objects, types, …, as
// served by the OCSF server's /export/schema and shipped as
// schema-<version>.json by ocsf-lib-py). Attribute lists are the resolved
// ones of the export (inheritance and profiles already applied); profile
// gating is kept so that [Schema.Validate] requires profile attributes only
// when the event declares the profile in metadata.profiles.
//
// It fails, naming the element, when the document is not such an export or
// an attribute refers to a type or object the schema does not define.
func LoadSchema(r io.Reader) (*Schema, error) {
	var ex exportSchema
	dec := json.NewDecoder(io.LimitReader(r, maxSchemaBytes))
	if err := dec.Decode(&ex); err != nil {
		return nil, fmt.Errorf("ocsf: load schema: %w", err)
	}
	if ex.Version == "" || len(ex.Classes) == 0 || len(ex.Types) == 0 {
		return nil, errors.New("ocsf: load schema: not an OCSF schema export (need version, classes, objects and types)")
	}
	s := &Schema{
		version: ex.Version,
		classes: make(map[string]*classDef, len(ex.Classes)),
		byUID:   make(map[int]*classDef, len(ex.Classes)),
		objects: make(map[string]*objectDef, len(ex.Objects)),
		types:   make(map[string]*typeDef, len(ex.Types)),
	}
	if err := s.loadTypes(ex.Types); err != nil {
		return nil, err
	}
	categories := map[string]exportCategory{}
	for key, c := range ex.Categories {
		if c.Name == "" {
			c.Name = key
		}
		categories[c.Name] = c
	}
	// Objects first, so that attribute references can be checked.
	for key := range ex.Objects {
		s.objects[key] = &objectDef{name: key}
	}
	if _, ok := s.objects[freeForm]; !ok {
		s.objects[freeForm] = &objectDef{name: freeForm, byName: map[string]*attrDef{}}
	}
	for key, o := range ex.Objects {
		def := s.objects[key]
		attrs, err := s.convertAttrs("object "+key, o.Attributes)
		if err != nil {
			return nil, err
		}
		def.attrs, def.byName = attrs, indexAttrs(attrs)
		if o.Constraints != nil {
			def.atLeastOne, def.justOne = o.Constraints.AtLeastOne, o.Constraints.JustOne
		}
	}
	for key, c := range ex.Classes {
		if c.UID == nil {
			return nil, fmt.Errorf("ocsf: load schema: class %s: no uid", key)
		}
		name := c.Name
		if name == "" {
			name = key
		}
		attrs, err := s.convertAttrs("class "+key, c.Attributes)
		if err != nil {
			return nil, err
		}
		def := &classDef{
			name: name, caption: c.Caption, uid: *c.UID,
			categoryUID: *c.UID / 1000,
			attrs:       attrs, byName: indexAttrs(attrs),
		}
		if cat, ok := categories[c.Category]; ok {
			def.categoryName = cat.Caption
		}
		if c.Constraints != nil {
			def.atLeastOne, def.justOne = c.Constraints.AtLeastOne, c.Constraints.JustOne
		}
		if _, dup := s.classes[name]; dup {
			return nil, fmt.Errorf("ocsf: load schema: two classes named %s", name)
		}
		if prev, dup := s.byUID[def.uid]; dup {
			return nil, fmt.Errorf("ocsf: load schema: classes %s and %s share uid %d", prev.name, name, def.uid)
		}
		s.classes[name] = def
		s.byUID[def.uid] = def
	}
	return s, nil
}

func (s *Schema) loadTypes(types map[string]exportType) error {
	for name, t := range types {
		def := &typeDef{name: name}
		if t.Regex != "" {
			re, err := regexp.Compile(t.Regex)
			if err != nil {
				return fmt.Errorf("ocsf: load schema: type %s: regex: %w", name, err)
			}
			def.regex = re
		}
		if len(t.Range) == 2 {
			lo, hi := t.Range[0], t.Range[1]
			def.min, def.max = &lo, &hi
		}
		if t.MaxLen != nil {
			def.maxLen = *t.MaxLen
		}
		s.types[name] = def
	}
	// Resolve each type's primitive base by following "type".
	for name, def := range s.types {
		base := name
		for i := 0; !primitives[base]; i++ {
			t, ok := types[base]
			if !ok || t.Type == "" || i > len(types) {
				return fmt.Errorf("ocsf: load schema: type %s does not reduce to a primitive type", name)
			}
			base = t.Type
		}
		def.base = base
	}
	return nil
}

func (s *Schema) convertAttrs(where string, in map[string]exportAttr) ([]*attrDef, error) {
	out := make([]*attrDef, 0, len(in))
	for name, a := range in {
		def := &attrDef{
			name:       name,
			isArray:    a.IsArray,
			profile:    a.Profile,
			deprecated: len(a.Deprecated) > 0 && string(a.Deprecated) != "null" && string(a.Deprecated) != "false",
		}
		switch a.Requirement {
		case "required":
			def.req = required
		case "recommended":
			def.req = recommended
		}
		switch {
		case a.ObjectType != "":
			if _, ok := s.objects[a.ObjectType]; !ok {
				return nil, fmt.Errorf("ocsf: load schema: %s attribute %s: unknown object %q", where, name, a.ObjectType)
			}
			def.typ, def.isObject = a.ObjectType, true
		case s.types[a.Type] != nil:
			def.typ = a.Type
		default:
			return nil, fmt.Errorf("ocsf: load schema: %s attribute %s: unknown type %q", where, name, a.Type)
		}
		if len(a.Enum) > 0 {
			def.enum = make(map[string]string, len(a.Enum))
			for k, v := range a.Enum {
				var e struct {
					Caption string `json:"caption"`
				}
				_ = json.Unmarshal(v, &e) // a caption is informational only
				def.enum[k] = e.Caption
			}
		}
		out = append(out, def)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

func indexAttrs(attrs []*attrDef) map[string]*attrDef {
	m := make(map[string]*attrDef, len(attrs))
	for _, a := range attrs {
		m[a.name] = a
	}
	return m
}

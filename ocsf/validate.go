package ocsf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lakerelay/lakerelay"
)

// Finding codes.
const (
	CodeRequired         = "required"          // a required attribute is missing (or null)
	CodeType             = "type"              // the value has the wrong JSON type or is out of the type's range
	CodeFormat           = "format"            // a string does not match its type's format or length (warning)
	CodeEnum             = "enum"              // the value is not one of the attribute's enum values
	CodeUnknownClass     = "unknown_class"     // class_uid names no class of the schema
	CodeUIDMismatch      = "uid_mismatch"      // category_uid or type_uid disagrees with class_uid/activity_id
	CodeAtLeastOne       = "at_least_one"      // none of a constraint's attributes is present
	CodeJustOne          = "just_one"          // not exactly one of a constraint's attributes is present
	CodeUnknownAttribute = "unknown_attribute" // not in the schema (warning; writers put it in unmapped)
	CodeDeprecated       = "deprecated"        // a deprecated attribute is present (warning)
	CodeVersion          = "version"           // metadata.version is not the schema's version (warning)
)

// Finding is one problem of an event. Path locates it ("actor.user.uid",
// "resources[0].type"; empty for the event as a whole); the codes are the
// Code constants above. Severities: [lakerelay.SeverityError] for an event
// that does not conform to the schema, [lakerelay.SeverityWarning] for what
// conforming readers may still trip on (an attribute the schema does not
// define, which writers move to unmapped; a deprecated attribute; a value
// that does not match its type's format). Use [lakerelay.HasErrors].
type Finding = lakerelay.Finding

// Validate checks one raw JSON event against its class (taken from
// class_uid) in the built-in [Version] definitions. See [Schema.Validate].
func Validate(event []byte) ([]Finding, error) {
	s, err := Builtin(Version)
	if err != nil {
		return nil, err
	}
	return s.Validate(event)
}

// Validate checks one raw JSON event against its class (taken from
// class_uid) in s: required attributes recursively (profile attributes only
// when metadata.profiles names the profile), JSON types and ranges, formats
// (warnings), enum values, uid consistency (category_uid = class_uid/1000,
// type_uid = class_uid*100 + activity_id), at_least_one and just_one
// constraints, unknown and deprecated attributes (warnings). Findings are
// sorted by path.
//
// The error is non-nil, wrapping lakerelay.ErrInvalidRecord, only when event
// is not one JSON object.
func (s *Schema) Validate(event []byte) ([]Finding, error) {
	dec := json.NewDecoder(bytes.NewReader(event))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("ocsf: validate: %w: %w", lakerelay.ErrInvalidRecord, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("ocsf: validate: %w: data after the JSON object", lakerelay.ErrInvalidRecord)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("ocsf: validate: %w: event is not a JSON object", lakerelay.ErrInvalidRecord)
	}
	vd := &validator{s: s, profiles: map[string]bool{}}
	vd.run(obj)
	sort.SliceStable(vd.findings, func(i, j int) bool { return vd.findings[i].Path < vd.findings[j].Path })
	return vd.findings, nil
}

type validator struct {
	s        *Schema
	profiles map[string]bool
	findings []Finding
}

func (v *validator) add(sev lakerelay.Severity, path, code, format string, args ...any) {
	v.findings = append(v.findings, Finding{Path: path, Code: code, Message: fmt.Sprintf(format, args...), Severity: sev})
}

func (v *validator) run(obj map[string]any) {
	raw, present := obj["class_uid"]
	if !present || raw == nil {
		v.add(lakerelay.SeverityError, "class_uid", CodeRequired, "class_uid is required to know the event's class")
		return
	}
	classUID, ok := asInt(raw)
	if !ok {
		v.add(lakerelay.SeverityError, "class_uid", CodeType, "class_uid must be an integer, got %s", describe(raw))
		return
	}
	c, ok := v.s.byUID[int(classUID)]
	if !ok || classUID != int64(int(classUID)) {
		v.add(lakerelay.SeverityError, "class_uid", CodeUnknownClass, "class %d is not defined in OCSF %s", classUID, v.s.version)
		return
	}
	if md, ok := obj["metadata"].(map[string]any); ok {
		if ps, ok := md["profiles"].([]any); ok {
			for _, p := range ps {
				if name, ok := p.(string); ok {
					v.profiles[name] = true
				}
			}
		}
		if ver, ok := md["version"].(string); ok && ver != v.s.version {
			v.add(lakerelay.SeverityWarning, "metadata.version", CodeVersion, "the event declares another OCSF version than %s, the one it is checked against", v.s.version)
		}
	}
	v.object("", c.attrs, c.byName, c.atLeastOne, c.justOne, obj, true)

	// uid consistency
	if cat, ok := asInt(obj["category_uid"]); ok && cat != classUID/1000 {
		v.add(lakerelay.SeverityError, "category_uid", CodeUIDMismatch, "category_uid %d does not match class_uid %d (want %d)", cat, classUID, classUID/1000)
	}
	act, okAct := asInt(obj["activity_id"])
	if typ, ok := asInt(obj["type_uid"]); ok && okAct && typ != classUID*100+act {
		v.add(lakerelay.SeverityError, "type_uid", CodeUIDMismatch, "type_uid %d is not class_uid*100 + activity_id = %d", typ, classUID*100+act)
	}
}

// uidAttrs are checked by run (uid consistency) instead of by their enums.
var uidAttrs = map[string]bool{"class_uid": true, "category_uid": true, "type_uid": true}

func (v *validator) object(path string, attrs []*attrDef, byName map[string]*attrDef, atLeastOne, justOne []string, obj map[string]any, root bool) {
	for _, a := range attrs {
		val, present := obj[a.name]
		p := join(path, a.name)
		if !present || val == nil {
			if a.req == required && (a.profile == "" || v.profiles[a.profile]) && !a.deprecated {
				v.add(lakerelay.SeverityError, p, CodeRequired, "required attribute is missing")
			}
			continue
		}
		if a.deprecated {
			v.add(lakerelay.SeverityWarning, p, CodeDeprecated, "attribute is deprecated in OCSF %s", v.s.version)
		}
		v.value(p, a, val, root && uidAttrs[a.name])
	}
	extra := make([]string, 0)
	for k := range obj {
		if _, ok := byName[k]; !ok {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		v.add(lakerelay.SeverityWarning, join(path, k), CodeUnknownAttribute, "attribute not defined here in OCSF %s; writers move it to unmapped", v.s.version)
	}
	if len(atLeastOne) > 0 && countPresent(obj, atLeastOne) == 0 {
		v.add(lakerelay.SeverityError, path, CodeAtLeastOne, "at least one of %s is required", strings.Join(atLeastOne, ", "))
	}
	if len(justOne) > 0 {
		if n := countPresent(obj, justOne); n != 1 {
			v.add(lakerelay.SeverityError, path, CodeJustOne, "exactly one of %s is required, found %d", strings.Join(justOne, ", "), n)
		}
	}
}

func countPresent(obj map[string]any, names []string) int {
	n := 0
	for _, name := range names {
		if val, ok := obj[name]; ok && val != nil {
			n++
		}
	}
	return n
}

func (v *validator) value(path string, a *attrDef, val any, skipEnum bool) {
	if a.isArray {
		arr, ok := val.([]any)
		if !ok {
			v.add(lakerelay.SeverityError, path, CodeType, "must be an array, got %s", describe(val))
			return
		}
		for i, e := range arr {
			if e == nil {
				continue
			}
			v.element(path+"["+strconv.Itoa(i)+"]", a, e, skipEnum)
		}
		return
	}
	v.element(path, a, val, skipEnum)
}

func (v *validator) element(path string, a *attrDef, val any, skipEnum bool) {
	if a.isObject {
		obj, ok := val.(map[string]any)
		if !ok {
			v.add(lakerelay.SeverityError, path, CodeType, "must be an object (%s), got %s", a.typ, describe(val))
			return
		}
		o := v.s.objects[a.typ]
		if a.typ == freeForm || o == nil {
			return
		}
		v.object(path, o.attrs, o.byName, o.atLeastOne, o.justOne, obj, false)
		return
	}
	if !v.scalar(path, a.typ, val) {
		return
	}
	if a.enum != nil && !skipEnum {
		key, ok := enumKey(val)
		if _, in := a.enum[key]; !ok || !in {
			v.add(lakerelay.SeverityError, path, CodeEnum, "%s is not one of the defined values (%s)", describe(val), enumList(a.enum))
		}
	}
}

// scalar checks val against the data type typ and reports whether its JSON
// type was right.
func (v *validator) scalar(path, typ string, val any) bool {
	t := v.s.types[typ]
	base := typ
	if t != nil {
		base = t.base
	}
	switch base {
	case tBoolean:
		if _, ok := val.(bool); !ok {
			v.add(lakerelay.SeverityError, path, CodeType, "must be a boolean (%s), got %s", typ, describe(val))
			return false
		}
	case tInteger, tLong:
		n, ok := asInt(val)
		if !ok {
			v.add(lakerelay.SeverityError, path, CodeType, "must be an integer (%s), got %s", typ, describe(val))
			return false
		}
		if base == tInteger && (n < math.MinInt32 || n > math.MaxInt32) {
			v.add(lakerelay.SeverityError, path, CodeType, "%d does not fit a 32-bit integer (%s)", n, typ)
			return false
		}
		if t != nil && ((t.min != nil && float64(n) < *t.min) || (t.max != nil && float64(n) > *t.max)) {
			v.add(lakerelay.SeverityError, path, CodeType, "%d is out of range [%v, %v] for %s", n, *t.min, *t.max, typ)
		}
	case tFloat:
		num, ok := val.(json.Number)
		if !ok {
			v.add(lakerelay.SeverityError, path, CodeType, "must be a number (%s), got %s", typ, describe(val))
			return false
		}
		if _, err := num.Float64(); err != nil {
			v.add(lakerelay.SeverityError, path, CodeType, "%s does not fit a 64-bit float", num)
			return false
		}
	case tJSON:
		// any JSON value
	default: // strings
		str, ok := val.(string)
		if !ok {
			v.add(lakerelay.SeverityError, path, CodeType, "must be a string (%s), got %s", typ, describe(val))
			return false
		}
		if t == nil {
			return true
		}
		if t.maxLen > 0 && utf8.RuneCountInString(str) > t.maxLen {
			v.add(lakerelay.SeverityWarning, path, CodeFormat, "longer than %d characters (%s)", t.maxLen, typ)
		}
		if (t.regex != nil && !t.regex.MatchString(str)) || (t.check != nil && !t.check(str)) {
			v.add(lakerelay.SeverityWarning, path, CodeFormat, "not a valid %s", typ)
		}
	}
	return true
}

func asInt(val any) (int64, bool) {
	num, ok := val.(json.Number)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(num), 10, 64)
	return n, err == nil
}

func enumKey(val any) (string, bool) {
	switch x := val.(type) {
	case string:
		return x, true
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return strconv.FormatInt(n, 10), true
		}
		return string(x), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

func enumList(enum map[string]string) string {
	ks := make([]string, 0, len(enum))
	for k := range enum {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		a, errA := strconv.Atoi(ks[i])
		b, errB := strconv.Atoi(ks[j])
		if errA == nil && errB == nil {
			return a < b
		}
		return ks[i] < ks[j]
	})
	if len(ks) > 12 {
		return strings.Join(ks[:12], ", ") + ", …"
	}
	return strings.Join(ks, ", ")
}

func describe(val any) string {
	switch x := val.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return string(x)
	case string:
		// Record contents stay out of messages: callers may log findings.
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", val)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

package ocsf

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// builtinClass describes one class of the built-in definitions.
type builtinClass struct {
	uid          int
	name         string
	caption      string
	category     CategoryUID
	categoryName string
	typ          reflect.Type
	activities   map[string]string
	atLeastOne   []string
	// optional names base-event attributes that this class, unlike the
	// base event, leaves optional in the official export (Email Activity's
	// activity_id in 1.1.0).
	optional []string
}

// The classes of the built-in OCSF 1.1.0 definitions.
var builtinClasses110 = []builtinClass{
	{ClassProcessActivity, "process_activity", "Process Activity", CategorySystem, "System Activity",
		reflect.TypeOf(ProcessActivity{}),
		map[string]string{"0": "Unknown", "1": "Launch", "2": "Terminate", "3": "Open", "4": "Inject",
			"5": "Set User ID", "99": "Other"}, nil, nil},
	{ClassDetectionFinding, "detection_finding", "Detection Finding", CategoryFindings, "Findings",
		reflect.TypeOf(DetectionFinding{}),
		map[string]string{"0": "Unknown", "1": "Create", "2": "Update", "3": "Close", "99": "Other"}, nil, nil},
	{ClassAccountChange, "account_change", "Account Change", CategoryIAM, "Identity & Access Management",
		reflect.TypeOf(AccountChange{}),
		map[string]string{"0": "Unknown", "1": "Create", "2": "Enable", "3": "Password Change", "4": "Password Reset",
			"5": "Disable", "6": "Delete", "7": "Attach Policy", "8": "Detach Policy", "9": "Lock",
			"10": "MFA Factor Enable", "11": "MFA Factor Disable", "99": "Other"}, nil, nil},
	{ClassAuthentication, "authentication", "Authentication", CategoryIAM, "Identity & Access Management",
		reflect.TypeOf(Authentication{}),
		map[string]string{"0": "Unknown", "1": "Logon", "2": "Logoff", "3": "Authentication Ticket",
			"4": "Service Ticket Request", "5": "Service Ticket Renew", "99": "Other"},
		[]string{"service", "dst_endpoint"}, nil},
	{ClassNetworkActivity, "network_activity", "Network Activity", CategoryNetwork, "Network Activity",
		reflect.TypeOf(NetworkActivity{}),
		map[string]string{"0": "Unknown", "1": "Open", "2": "Close", "3": "Reset", "4": "Fail", "5": "Refuse",
			"6": "Traffic", "99": "Other"}, nil, nil},
	{ClassEmailActivity, "email_activity", "Email Activity", CategoryNetwork, "Network Activity",
		reflect.TypeOf(EmailActivity{}),
		map[string]string{"0": "Unknown", "1": "Send", "2": "Receive", "3": "Scan", "99": "Other"}, nil,
		[]string{"activity_id"}},
	{ClassAPIActivity, "api_activity", "API Activity", CategoryApplication, "Application Activity",
		reflect.TypeOf(APIActivity{}),
		map[string]string{"0": "Unknown", "1": "Create", "2": "Read", "3": "Update", "4": "Delete", "99": "Other"}, nil, nil},
}

// builtinObject names a Go type as an OCSF object.
type builtinObject struct {
	name       string
	atLeastOne []string
}

var builtinObjects110 = map[reflect.Type]builtinObject{
	reflect.TypeOf(Metadata{}):              {"metadata", nil},
	reflect.TypeOf(Email{}):                 {"email", nil},
	reflect.TypeOf(Product{}):               {"product", []string{"name", "uid"}},
	reflect.TypeOf(Feature{}):               {"feature", []string{"name", "uid"}},
	reflect.TypeOf(Cloud{}):                 {"cloud", nil},
	reflect.TypeOf(Account{}):               {"account", []string{"name", "uid"}},
	reflect.TypeOf(Organization{}):          {"organization", []string{"name", "uid"}},
	reflect.TypeOf(API{}):                   {"api", nil},
	reflect.TypeOf(Service{}):               {"service", []string{"name", "uid"}},
	reflect.TypeOf(Request{}):               {"request", nil},
	reflect.TypeOf(Response{}):              {"response", nil},
	reflect.TypeOf(Actor{}):                 {"actor", []string{"process", "user", "invoked_by", "session"}},
	reflect.TypeOf(User{}):                  {"user", []string{"account", "name", "uid"}},
	reflect.TypeOf(Session{}):               {"session", nil},
	reflect.TypeOf(IDP{}):                   {"idp", []string{"name", "uid"}},
	reflect.TypeOf(Group{}):                 {"group", []string{"name", "uid"}},
	reflect.TypeOf(NetworkEndpoint{}):       {"network_endpoint", []string{"ip", "uid", "name", "hostname", "svc_name", "instance_uid", "interface_uid", "interface_name"}},
	reflect.TypeOf(Location{}):              {"location", []string{"coordinates", "city", "country", "postal_code", "region"}},
	reflect.TypeOf(HTTPRequest{}):           {"http_request", nil},
	reflect.TypeOf(HTTPHeader{}):            {"http_header", nil},
	reflect.TypeOf(URL{}):                   {"url", []string{"url_string", "path"}},
	reflect.TypeOf(ResourceDetails{}):       {"resource_details", []string{"name", "uid"}},
	reflect.TypeOf(FindingInfo{}):           {"finding_info", nil},
	reflect.TypeOf(Analytic{}):              {"analytic", []string{"name", "uid"}},
	reflect.TypeOf(Attack{}):                {"attack", []string{"tactic", "technique", "sub_technique"}},
	reflect.TypeOf(Tactic{}):                {"tactic", []string{"name", "uid"}},
	reflect.TypeOf(Technique{}):             {"technique", []string{"name", "uid"}},
	reflect.TypeOf(SubTechnique{}):          {"sub_technique", []string{"name", "uid"}},
	reflect.TypeOf(Evidences{}):             {"evidences", []string{"actor", "api", "connection_info", "data", "dst_endpoint", "file", "process", "query", "src_endpoint"}},
	reflect.TypeOf(DNSQuery{}):              {"dns_query", nil},
	reflect.TypeOf(Process{}):               {"process", []string{"pid", "uid"}},
	reflect.TypeOf(File{}):                  {"file", nil},
	reflect.TypeOf(Fingerprint{}):           {"fingerprint", nil},
	reflect.TypeOf(NetworkConnectionInfo{}): {"network_connection_info", nil},
	reflect.TypeOf(NetworkTraffic{}):        {"network_traffic", nil},
	reflect.TypeOf(TLS{}):                   {"tls", nil},
	reflect.TypeOf(Device{}):                {"device", []string{"ip", "uid", "name", "hostname", "instance_uid", "interface_uid", "interface_name"}},
	reflect.TypeOf(OS{}):                    {"os", nil},
	reflect.TypeOf(Policy{}):                {"policy", []string{"name", "uid"}},
	reflect.TypeOf(Authorization{}):         {"authorization", nil},
	reflect.TypeOf(Remediation{}):           {"remediation", nil},
	reflect.TypeOf(Observable{}):            {"observable", nil},
	reflect.TypeOf(Enrichment{}):            {"enrichment", nil},
}

// builtinTypes are the OCSF data types (the same set in 1.1.0 and 1.3.0).
func builtinTypes() map[string]*typeDef {
	re := regexp.MustCompile
	f := func(v float64) *float64 { return &v }
	validIP := func(s string) bool { _, err := netip.ParseAddr(strings.TrimSpace(s)); return err == nil }
	types := []*typeDef{
		{name: tBoolean, base: tBoolean},
		{name: tInteger, base: tInteger},
		{name: tLong, base: tLong},
		{name: tFloat, base: tFloat},
		{name: tJSON, base: tJSON},
		{name: tString, base: tString, maxLen: 65535},
		{name: tTime, base: tLong},
		{name: tDatetime, base: tString, regex: re(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(Z|[\+-]\d{2}:\d{2})?$`)},
		{name: "bytestring_t", base: tString},
		{name: "email_t", base: tString, regex: re(`^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+$`)},
		{name: "file_hash_t", base: tString, maxLen: 64},
		{name: "file_name_t", base: tString},
		{name: "hostname_t", base: tString, regex: re(`^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9\-]*[A-Za-z0-9])$`)},
		{name: "ip_t", base: tString, maxLen: 40, check: validIP},
		{name: "mac_t", base: tString, maxLen: 32, regex: re(`^([0-9A-Fa-f]{2}[:-]){5}([0-9A-Fa-f]{2})$`)},
		{name: "port_t", base: tInteger, min: f(0), max: f(65535)},
		{name: "process_name_t", base: tString},
		{name: "resource_uid_t", base: tString, maxLen: 64},
		{name: "subnet_t", base: tString, maxLen: 42},
		{name: "url_t", base: tString},
		{name: "username_t", base: tString},
		{name: "uuid_t", base: tString, regex: re(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)},
	}
	m := make(map[string]*typeDef, len(types))
	for _, t := range types {
		m[t.name] = t
	}
	return m
}

var (
	builtinOnce    sync.Once
	builtinSchemas map[string]*Schema
	builtinErr     error
)

// BuiltinVersions lists the OCSF versions with built-in definitions.
func BuiltinVersions() []string { return []string{"1.1.0"} }

// Builtin returns the built-in definitions of an OCSF version (see
// [BuiltinVersions]). They cover the base event and the classes Process
// Activity (1007), Detection Finding (2004), Account Change (3001),
// Authentication (3002), Network Activity (4001), Email Activity (4009) and
// API Activity (6003) with the objects of the Go types
// of this package — a subset of each class's attributes, the ones in use by
// security products and the mappers here. Attributes outside the subset
// still reach the Arrow data through the unmapped column. For every other
// class or attribute, load the official export with [LoadSchema].
func Builtin(version string) (*Schema, error) {
	builtinOnce.Do(func() {
		s, err := buildSchema("1.1.0", builtinClasses110, builtinObjects110)
		if err != nil {
			builtinErr = err
			return
		}
		builtinSchemas = map[string]*Schema{"1.1.0": s}
	})
	if builtinErr != nil {
		return nil, builtinErr
	}
	s, ok := builtinSchemas[version]
	if !ok {
		return nil, fmt.Errorf("ocsf: no built-in definitions for OCSF %q (have %s); load the official export with LoadSchema",
			version, strings.Join(BuiltinVersions(), ", "))
	}
	return s, nil
}

// ClassUID resolves a built-in class given by name ("api_activity"),
// caption ("API Activity") or uid ("6003") to its uid.
func ClassUID(nameOrUID string) (int, error) {
	s, err := Builtin(Version)
	if err != nil {
		return 0, err
	}
	return s.ClassUID(nameOrUID)
}

// ClassName returns the name ("api_activity") of a built-in class.
func ClassName(uid int) (string, error) {
	s, err := Builtin(Version)
	if err != nil {
		return "", err
	}
	return s.ClassName(uid)
}

func (s *Schema) cachedArrow(uid int) (*arrow.Schema, error) {
	if v, ok := s.arrowCache.Load(uid); ok {
		return v.(*arrow.Schema), nil
	}
	as, err := s.ArrowSchema(strconv.Itoa(uid))
	if err != nil {
		return nil, err
	}
	v, _ := s.arrowCache.LoadOrStore(uid, as)
	return v.(*arrow.Schema), nil
}

var (
	timestampType = reflect.TypeOf(Timestamp(0))
	timeType      = reflect.TypeOf(time.Time{})
	rawType       = reflect.TypeOf(json.RawMessage(nil))
	freeFormType  = reflect.TypeOf(map[string]any(nil))
)

// buildSchema derives a Schema from Go types and their tags.
func buildSchema(version string, classes []builtinClass, objects map[reflect.Type]builtinObject) (*Schema, error) {
	s := &Schema{
		version: version,
		classes: map[string]*classDef{},
		byUID:   map[int]*classDef{},
		objects: map[string]*objectDef{freeForm: {name: freeForm, byName: map[string]*attrDef{}}},
		types:   builtinTypes(),
	}
	b := &builder{s: s, objects: objects}
	for _, c := range classes {
		attrs, err := b.attrs(c.typ, c.activities)
		if err != nil {
			return nil, fmt.Errorf("ocsf: built-in class %s: %w", c.name, err)
		}
		for _, a := range attrs {
			if slices.Contains(c.optional, a.name) {
				a.req = optional
			}
			switch a.name {
			case "class_uid":
				a.enum = map[string]string{strconv.Itoa(c.uid): c.caption}
			case "category_uid":
				a.enum = map[string]string{strconv.Itoa(int(c.category)): c.categoryName}
			case "type_uid":
				a.enum = map[string]string{}
				for k, v := range c.activities {
					id, _ := strconv.Atoi(k)
					a.enum[strconv.FormatInt(TypeUID(c.uid, int32(id)), 10)] = c.caption + ": " + v
				}
			}
		}
		def := &classDef{
			name: c.name, caption: c.caption, uid: c.uid,
			categoryUID: int(c.category), categoryName: c.categoryName,
			attrs: attrs, byName: indexAttrs(attrs), atLeastOne: c.atLeastOne,
		}
		s.classes[c.name] = def
		s.byUID[c.uid] = def
	}
	return s, nil
}

type builder struct {
	s       *Schema
	objects map[reflect.Type]builtinObject
}

// attrs returns the attributes of a struct type, embedded structs
// flattened, sorted by name.
func (b *builder) attrs(t reflect.Type, activities map[string]string) ([]*attrDef, error) {
	var out []*attrDef
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			sub, err := b.attrs(f.Type, activities)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			return nil, fmt.Errorf("field %s has no json name", f.Name)
		}
		a := &attrDef{name: name}
		typ, opts, _ := strings.Cut(f.Tag.Get("ocsf"), ",")
		for _, o := range strings.Split(opts, ",") {
			switch {
			case o == "":
			case o == "req":
				a.req = required
			case o == "rec":
				a.req = recommended
			case strings.HasPrefix(o, "profile="):
				a.profile = strings.TrimPrefix(o, "profile=")
			case o == "enum=activity":
				a.enum = activities
			case o == "enum=class", o == "enum=category":
				// set per class by buildSchema
			case strings.HasPrefix(o, "enum="):
				e, ok := builtinEnums[strings.TrimPrefix(o, "enum=")]
				if !ok {
					return nil, fmt.Errorf("field %s: unknown enum %q", f.Name, o)
				}
				a.enum = e
			default:
				return nil, fmt.Errorf("field %s: unknown ocsf tag option %q", f.Name, o)
			}
		}
		if err := b.kind(a, f.Type, typ); err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// kind sets the OCSF type of a from the Go type ft (or the explicit tag type).
func (b *builder) kind(a *attrDef, ft reflect.Type, tagType string) error {
	for ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
	}
	if ft.Kind() == reflect.Slice && ft != rawType {
		a.isArray = true
		ft = ft.Elem()
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
	}
	if tagType != "" {
		if _, ok := b.s.types[tagType]; !ok {
			return fmt.Errorf("unknown OCSF type %q", tagType)
		}
		a.typ = tagType
		return nil
	}
	switch {
	case ft == timestampType:
		a.typ = tTime
	case ft == timeType:
		a.typ = tDatetime
	case ft == rawType:
		a.typ = tJSON
	case ft == freeFormType:
		a.typ, a.isObject = freeForm, true
	case ft.Kind() == reflect.Struct:
		obj, ok := b.objects[ft]
		if !ok {
			return fmt.Errorf("type %s is not a registered object", ft)
		}
		a.typ, a.isObject = obj.name, true
		if _, done := b.s.objects[obj.name]; done {
			return nil
		}
		def := &objectDef{name: obj.name, atLeastOne: obj.atLeastOne}
		b.s.objects[obj.name] = def // before recursing: objects may be recursive
		attrs, err := b.attrs(ft, nil)
		if err != nil {
			return fmt.Errorf("object %s: %w", obj.name, err)
		}
		def.attrs, def.byName = attrs, indexAttrs(attrs)
	case ft.Kind() == reflect.String:
		a.typ = tString
	case ft.Kind() == reflect.Bool:
		a.typ = tBoolean
	case ft.Kind() == reflect.Int32:
		a.typ = tInteger
	case ft.Kind() == reflect.Int64:
		a.typ = tLong
	case ft.Kind() == reflect.Float64:
		a.typ = tFloat
	default:
		return fmt.Errorf("no OCSF type for Go type %s", ft)
	}
	return nil
}

package ocsf

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/jsonscan"
)

// This file reads a CloudTrail record for MapCloudTrail: one validating pass
// over the record (jsonscan.Members) picks out the top-level members, and
// the few the mapping looks into are then walked without validating again.
//
// The record is read as encoding/json reads it, which is what the first
// implementation of MapCloudTrail did (a map of the top-level members, then
// typed decodes of userIdentity, resources and parts of requestParameters,
// responseElements and additionalEventData), so that the events stay the
// same byte for byte:
//
//   - top-level members are matched exactly; of duplicate members the last
//     one counts; a null member counts as absent;
//   - inside userIdentity, resources[] and the request and response objects,
//     member names are matched as encoding/json matches a struct's fields:
//     exactly, else case-insensitively (bytes.EqualFold: "ARN", "Arn" and
//     "arn" name the same field); each duplicate is decoded in turn, so the
//     last one that is a string wins, null changes nothing, and of objects
//     (sessionContext, sessionIssuer, attributes) the members merge unless a
//     null in between resets them;
//   - strings are decoded as encoding/json decodes them (escapes resolved,
//     invalid UTF-8 and lone surrogates as U+FFFD) and written as it
//     writes them; values kept under unmapped are kept verbatim, only
//     without insignificant white space, and their keys are decoded,
//     sorted and deduplicated (the last one wins);
//   - a member of the wrong JSON type in userIdentity, resources or a
//     top-level string is an error; in the request and response objects
//     it is ignored, except that the issued session of an STS call and the
//     policy of an IAM change are left out when their object has one.

// ctStringFields are the top-level string members the mapping reads, in the
// order of ctRecord.stringFields.
var ctStringFields = [...]string{
	"eventVersion", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress", "userAgent",
	"errorCode", "errorMessage", "requestID", "eventID", "recipientAccountId", "apiVersion",
}

// ctStringField returns the index of name in ctStringFields, or -1.
func ctStringField(name string) int {
	switch name {
	case "eventVersion":
		return 0
	case "eventTime":
		return 1
	case "eventSource":
		return 2
	case "eventName":
		return 3
	case "awsRegion":
		return 4
	case "sourceIPAddress":
		return 5
	case "userAgent":
		return 6
	case "errorCode":
		return 7
	case "errorMessage":
		return 8
	case "requestID":
		return 9
	case "eventID":
		return 10
	case "recipientAccountId":
		return 11
	case "apiVersion":
		return 12
	}
	return -1
}

// ctRecord is a CloudTrail record as the mapping reads it. Its strings are
// decoded, and views of the record where they need no decoding: a ctRecord
// must not outlive the record it was read from.
type ctRecord struct {
	eventVersion, eventTime, eventSource, eventName string
	awsRegion, sourceIP, userAgent                  string
	errorCode, errorMessage, requestID, eventID     string
	recipientAccountID, apiVersion                  string

	identity  ctIdentity
	resources []ctResource

	// The raw values of the members the mapping looks into; nil when
	// absent or null.
	requestParameters, responseElements, additionalEventData []byte

	// unmapped holds the top-level members without an OCSF attribute, in
	// record order, duplicates and nulls included; identityRest the members
	// of userIdentity without one.
	unmapped, identityRest []ctMember

	scratch []byte // MapCloudTrail's buffer, kept with the lists for reuse
}

// stringFields returns pointers to the fields of ctStringFields, in order.
func (r *ctRecord) stringFields() [len(ctStringFields)]*string {
	return [...]*string{
		&r.eventVersion, &r.eventTime, &r.eventSource, &r.eventName, &r.awsRegion, &r.sourceIP, &r.userAgent,
		&r.errorCode, &r.errorMessage, &r.requestID, &r.eventID, &r.recipientAccountID, &r.apiVersion,
	}
}

// ctMember is a member kept under unmapped: its decoded key and raw value.
type ctMember struct {
	key   string
	value []byte
}

// ctIdentity is userIdentity.
type ctIdentity struct {
	present                                       bool // userIdentity is an object
	typ, principalID, arn, accountID, accessKeyID string
	userName, invokedBy                           string
	hasSession                                    bool // sessionContext is an object
	session                                       ctSessionContext
}

// identityFields name the fields of ctIdentity, in the order of
// ctIdentity.stringFields, then sessionContext. The first seven are the members
// that are mapped: every other member is kept under unmapped.
var identityFields = [...]string{"type", "principalId", "arn", "accountId", "accessKeyId", "userName", "invokedBy", "sessionContext"}

func (id *ctIdentity) stringFields() [7]*string {
	return [...]*string{&id.typ, &id.principalID, &id.arn, &id.accountID, &id.accessKeyID, &id.userName, &id.invokedBy}
}

// ctSessionContext is userIdentity.sessionContext.
type ctSessionContext struct {
	hasIssuer     bool      // sessionIssuer is an object
	issuer        [5]string // sessionIssuerFields
	hasAttributes bool      // attributes is an object
	attributes    [2]string // attributeFields
}

var (
	sessionContextFields = [...]string{"sessionIssuer", "attributes"}
	sessionIssuerFields  = [...]string{"type", "principalId", "arn", "accountId", "userName"}
	attributeFields      = [...]string{"creationDate", "mfaAuthenticated"}
	resourceFields       = [...]string{"ARN", "accountId", "type"}
)

// Indexes into ctSessionContext.issuer, .attributes and ctResource.
const (
	issuerARN, issuerUserName      = 2, 4
	attrCreationDate, attrMFA      = 0, 1
	resourceARN, resourceAccountID = 0, 1
	resourceType                   = 2
)

// ctResource is an element of resources (resourceFields).
type ctResource [3]string

// read reads raw, one CloudTrail record, into r. The error wraps
// lakerelay.ErrInvalidRecord and names the field or the offset.
func (r *ctRecord) read(raw []byte) error {
	var strs [len(ctStringFields)][]byte
	var identity, resources []byte
	err := jsonscan.Members(raw, jsonscan.DefaultMaxDepth, func(rawKey, value []byte) {
		k := unquote(rawKey)
		if i := ctStringField(k); i >= 0 {
			strs[i] = value
			return
		}
		switch k {
		case "userIdentity":
			identity = value
			return
		case "resources":
			resources = value
			return
		case "requestParameters":
			r.requestParameters = value
		case "responseElements":
			r.responseElements = value
		case "additionalEventData":
			r.additionalEventData = value
		}
		r.unmapped = append(r.unmapped, ctMember{k, value})
	})
	if err != nil {
		var se *jsonscan.SyntaxError
		if errors.As(err, &se) {
			return invalid("%s at offset %d", se.Msg, se.Offset)
		}
		return invalid("record is %s, want a JSON object", jsonscan.Kind(bytes.TrimSpace(raw)))
	}
	for _, v := range []*[]byte{&r.requestParameters, &r.responseElements, &r.additionalEventData} {
		if isNull(*v) {
			*v = nil
		}
	}
	dst := r.stringFields()
	for i, v := range strs {
		if v != nil && !decodeString(dst[i], v) {
			return invalid("field %s: want a string, got %s", ctStringFields[i], jsonscan.Kind(v))
		}
	}
	if identity != nil && !isNull(identity) {
		if err := r.readIdentity(identity); err != nil {
			return err
		}
	}
	if resources != nil && !isNull(resources) {
		if err := r.readResources(resources); err != nil {
			return err
		}
	}
	if r.eventName == "" {
		return invalid("field eventName is missing")
	}
	if r.eventTime == "" {
		return invalid("field eventTime is missing")
	}
	return nil
}

// readIdentity reads userIdentity (v, not null).
func (r *ctRecord) readIdentity(v []byte) error {
	if v[0] != '{' {
		return invalid("field userIdentity: want an object, got %s", jsonscan.Kind(v))
	}
	id := &r.identity
	id.present = true
	dst := id.stringFields()
	for k, val := range members(v) {
		i, exact := fieldIndex(k, identityFields[:])
		if !exact || i == len(dst) {
			r.identityRest = append(r.identityRest, ctMember{k, val})
		}
		switch {
		case i < 0:
		case i < len(dst):
			if !decodeString(dst[i], val) {
				return invalid("field userIdentity.%s: want a string, got %s", identityFields[i], jsonscan.Kind(val))
			}
		case isNull(val): // sessionContext: null resets it
			id.hasSession, id.session = false, ctSessionContext{}
		case val[0] != '{':
			return invalid("field userIdentity.sessionContext: want an object, got %s", jsonscan.Kind(val))
		default:
			id.hasSession = true
			if err := id.session.read(val); err != nil {
				return err
			}
		}
	}
	return nil
}

// read reads sessionContext (v, an object) into s, over what s holds.
func (s *ctSessionContext) read(v []byte) error {
	for k, val := range members(v) {
		switch i, _ := fieldIndex(k, sessionContextFields[:]); i {
		case 0:
			if err := readObject(val, &s.hasIssuer, sessionIssuerFields[:], s.issuer[:], "sessionIssuer"); err != nil {
				return err
			}
		case 1:
			if err := readObject(val, &s.hasAttributes, attributeFields[:], s.attributes[:], "attributes"); err != nil {
				return err
			}
		}
	}
	return nil
}

// readObject decodes val into an object field of sessionContext whose
// fields are strings: null resets it, an object is decoded over what it
// holds.
func readObject(val []byte, has *bool, names, dst []string, name string) error {
	if isNull(val) {
		*has = false
		clear(dst)
		return nil
	}
	*has = true
	if bad := decodeStrings(val, names, dst); bad >= 0 {
		if bad == len(names) {
			return invalid("field userIdentity.sessionContext.%s: want an object, got %s", name, jsonscan.Kind(val))
		}
		return invalid("field userIdentity.sessionContext.%s.%s: want a string", name, names[bad])
	}
	return nil
}

// readResources reads resources (v, not null).
func (r *ctRecord) readResources(v []byte) error {
	if v[0] != '[' {
		return invalid("field resources: want an array, got %s", jsonscan.Kind(v))
	}
	i := 0
	for e := range elements(v) {
		var res ctResource
		if bad := decodeStrings(e, resourceFields[:], res[:]); bad == len(resourceFields) {
			return invalid("field resources[%d]: want an object, got %s", i, jsonscan.Kind(e))
		} else if bad >= 0 {
			return invalid("field resources[%d].%s: want a string", i, resourceFields[bad])
		}
		r.resources = append(r.resources, res)
		i++
	}
	return nil
}

// decodeString decodes v into *dst as encoding/json decodes a JSON value
// into a string: a string is decoded, null changes nothing, and any other
// value is a type error (false).
func decodeString(dst *string, v []byte) bool {
	switch v[0] {
	case '"':
		*dst = unquote(v)
		return true
	case 'n':
		return true
	}
	return false
}

// decodeStrings decodes v as encoding/json decodes a JSON value into a struct
// whose fields are the strings named by names: into dst[i] goes each string
// member matching names[i] in turn (see fieldIndex), so the last one wins;
// members of other types change nothing, and neither does null for v. The
// result is where encoding/json reports an error: -1 for none, len(names)
// when v is neither an object nor null (nil included: no value), else the
// index of the first field one of whose members was neither a string nor
// null. Decoding goes on past errors, as encoding/json's does.
func decodeStrings(v []byte, names, dst []string) (bad int) {
	switch {
	case len(v) == 0 || (v[0] != '{' && !isNull(v)):
		return len(names)
	case v[0] == 'n':
		return -1
	}
	bad = -1
	for k, val := range members(v) {
		if i, _ := fieldIndex(k, names); i >= 0 && !decodeString(&dst[i], val) && bad < 0 {
			bad = i
		}
	}
	return bad
}

// fieldIndex returns the index of the struct field named by names that
// encoding/json decodes the member key into: the field named exactly key,
// else the first whose name equals key under Unicode case folding; -1 for
// none. exact reports an exact match.
func fieldIndex(key string, names []string) (i int, exact bool) {
	for i, n := range names {
		if n == key {
			return i, true
		}
	}
	for i, n := range names {
		if strings.EqualFold(n, key) {
			return i, false
		}
	}
	return -1, false
}

// members yields the decoded key and the raw value of each member of obj, a
// valid JSON object (validated before: it is not validated again).
func members(obj []byte) iter.Seq2[string, []byte] {
	return func(yield func(string, []byte) bool) {
		s := jsonscan.Scanner{Data: obj, Pos: 1}
		if s.Peek() == '}' {
			return
		}
		for {
			s.Peek()
			k := s.Pos
			_ = s.SkipFast()
			key := obj[k:s.Pos]
			s.Peek()
			s.Pos++ // ':'
			s.Peek()
			v := s.Pos
			_ = s.SkipFast()
			if !yield(unquote(key), obj[v:s.Pos]) {
				return
			}
			if more, _ := s.Next('}'); !more {
				return
			}
		}
	}
}

// elements yields the raw elements of arr, a valid JSON array.
func elements(arr []byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		s := jsonscan.Scanner{Data: arr, Pos: 1}
		if s.Peek() == ']' {
			return
		}
		for {
			s.Peek()
			v := s.Pos
			_ = s.SkipFast()
			if !yield(arr[v:s.Pos]) {
				return
			}
			if more, _ := s.Next(']'); !more {
				return
			}
		}
	}
}

// appendMembers appends ms as a JSON object, as encoding/json writes a map
// of them: sorted by key, of duplicate keys the last; values without
// insignificant white space; members whose value is null left out when
// skipNull is set. A member with a nil value stands for rest, appended the
// same way.
func appendMembers(b []byte, ms []ctMember, skipNull bool, rest []ctMember) []byte {
	// Sort indexes, not the members: moving pointers costs write barriers
	// while the garbage collector runs.
	var buf [64]int32
	order := buf[:0]
	for i := range ms {
		order = append(order, int32(i))
	}
	slices.SortStableFunc(order, func(i, j int32) int { return strings.Compare(ms[i].key, ms[j].key) })
	o := len(b)
	b = append(b, '{')
	for n, i := range order {
		m := &ms[i]
		if n+1 < len(order) && ms[order[n+1]].key == m.key || skipNull && isNull(m.value) {
			continue
		}
		if len(b) > o+1 {
			b = append(b, ',')
		}
		b = append(appendString(b, m.key), ':')
		if m.value == nil {
			b = appendMembers(b, rest, false, nil)
		} else {
			b = appendCompact(b, m.value)
		}
	}
	return append(b, '}')
}

// invalid returns an error of MapCloudTrail wrapping
// lakerelay.ErrInvalidRecord.
func invalid(format string, args ...any) error {
	return fmt.Errorf("ocsf: cloudtrail: %w: %s", lakerelay.ErrInvalidRecord, fmt.Sprintf(format, args...))
}

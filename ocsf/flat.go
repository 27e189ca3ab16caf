package ocsf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/lakerelay/lakerelay"
)

// flatEvent is a vendor event (a JSON object) whose fields a mapper takes
// one by one; what is left goes to unmapped, so nothing is lost. The first
// field of the wrong JSON type is remembered as the error, naming the
// field.
type flatEvent struct {
	source string // "crowdstrike", "teleport": the error prefix
	m      map[string]any
	err    error
}

func parseFlat(source string, raw []byte) (*flatEvent, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("ocsf: %s: %w: %w", source, lakerelay.ErrInvalidRecord, err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("ocsf: %s: %w: data after the JSON object", source, lakerelay.ErrInvalidRecord)
	}
	if m == nil {
		return nil, fmt.Errorf("ocsf: %s: %w: record is null, want a JSON object", source, lakerelay.ErrInvalidRecord)
	}
	return &flatEvent{source: source, m: m}, nil
}

// invalid returns an error wrapping lakerelay.ErrInvalidRecord.
func (e *flatEvent) invalid(format string, args ...any) error {
	return fmt.Errorf("ocsf: %s: %w: %s", e.source, lakerelay.ErrInvalidRecord, fmt.Sprintf(format, args...))
}

func (e *flatEvent) fail(name, want string) {
	if e.err == nil {
		e.err = e.invalid("field %s is not %s", name, want)
	}
}

// str takes a string field; a number is taken as its text. Absent or null
// is "".
func (e *flatEvent) str(name string) string {
	v, ok := e.m[name]
	if !ok {
		return ""
	}
	delete(e.m, name)
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	}
	e.fail(name, "a string")
	return ""
}

// int takes an integer field given as a JSON number or a string of digits
// (CrowdStrike writes numbers as strings); ok is false when absent or empty.
func (e *flatEvent) int(name string) (n int64, ok bool) {
	s := e.str(name)
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		e.fail(name, "an integer")
		return 0, false
	}
	return n, true
}

// int32 takes an integer field that must fit an OCSF integer_t.
func (e *flatEvent) int32(name string) (int32, bool) {
	n, ok := e.int(name)
	if ok && (n < -1<<31 || n > 1<<31-1) {
		e.fail(name, "a 32-bit integer")
		return 0, false
	}
	return int32(n), ok
}

// bool takes a boolean field; ok is false when absent or null.
func (e *flatEvent) bool(name string) (b, ok bool) {
	v, present := e.m[name]
	if !present || v == nil {
		delete(e.m, name)
		return false, false
	}
	delete(e.m, name)
	b, ok = v.(bool)
	if !ok {
		e.fail(name, "a boolean")
	}
	return b, ok
}

// strs takes a field holding an array of strings, or one string; nil
// when absent, null or empty.
func (e *flatEvent) strs(name string) []string {
	v, ok := e.m[name]
	if !ok {
		return nil
	}
	delete(e.m, name)
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		if v == "" {
			return nil
		}
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				e.fail(name, "an array of strings")
				return nil
			}
			out = append(out, s)
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	e.fail(name, "an array of strings")
	return nil
}

// epochSeconds takes a time given as decimal seconds since the epoch
// ("1700000000.123"), as CrowdStrike writes ProcessStartTime.
func (e *flatEvent) epochSeconds(name string) Timestamp {
	s := e.str(name)
	if s == "" {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e11 {
		e.fail(name, "epoch seconds")
		return 0
	}
	return Timestamp(f*1000 + 0.5)
}

// unmapped returns the fields no mapper took, or nil.
func (e *flatEvent) unmapped() map[string]any {
	if len(e.m) == 0 {
		return nil
	}
	return e.m
}

// endpoint parses "ip:port" or "[ip6]:port" into a network endpoint; nil
// when s is empty or not such an address.
func endpoint(s string) *NetworkEndpoint {
	host, port, ok := splitHostPort(s)
	if !ok {
		return nil
	}
	return &NetworkEndpoint{IP: host, Port: port}
}

func splitHostPort(s string) (string, int32, bool) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 {
		return "", 0, false
	}
	host := strings.TrimSuffix(strings.TrimPrefix(s[:i], "["), "]")
	p, err := strconv.ParseUint(s[i+1:], 10, 16)
	if err != nil || !validIP(host) {
		return "", 0, false
	}
	return host, int32(p), true
}

func validIP(s string) bool {
	// Without a colon only IPv4 parses, which is digits and dots: other
	// strings (host and service names) are not tried, sparing the error
	// ParseAddr allocates.
	if strings.IndexByte(s, ':') < 0 && strings.Trim(s, "0123456789.") != "" {
		return false
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// mapFlat parses raw as a flat vendor event, maps it with m and encodes
// the result.
func mapFlat(source string, raw []byte, m func(*flatEvent) (any, error)) ([]byte, error) {
	e, err := parseFlat(source, raw)
	if err != nil {
		return nil, err
	}
	ev, err := m(e)
	if err != nil {
		return nil, err
	}
	return encode(source, ev)
}

// encode writes an event as compact JSON without HTML escaping.
func encode(source string, ev any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return nil, fmt.Errorf("ocsf: %s: %w: %w", source, lakerelay.ErrInvalidRecord, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// baseEvent returns the base attributes of a vendor event at t.
func baseEvent(t time.Time, product Product, uid string) BaseEvent {
	t = t.UTC().Truncate(time.Millisecond)
	return BaseEvent{
		Metadata: Metadata{
			Product:  product,
			Profiles: []string{"datetime"},
			UID:      uid,
			Version:  Version,
		},
		Severity:   "Informational",
		SeverityID: SeverityInformational,
		Time:       TimestampOf(t),
		TimeDt:     &t,
	}
}

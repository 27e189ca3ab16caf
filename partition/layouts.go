package partition

import (
	"strings"
	"time"
)

// Key layouts, as templates for [Compile].
const (
	// ConnectorLayout is the layout of an S3 output connector:
	// {prefix}/{connector_type}/{connector_id}/{flow_run_id}/{stream_name}/.
	// The prefix may hold several segments, or be empty (then it is left
	// out together with its "/").
	ConnectorLayout = "{+prefix}/{connector_type}/{connector_id}/{flow_run_id}/{stream_name}/"
	// VendorLayout is the layout of a vendor's "export findings to your
	// bucket" integration: {vendor}/{event_type}/{YYYY-MM-DD}/{account}/,
	// the date being the event's day in UTC.
	VendorLayout = "{vendor}/{event_type}/{YYYY-MM-DD}/{account}/"
)

var (
	connectorTemplate = mustCompile(ConnectorLayout)
	vendorTemplate    = mustCompile(VendorLayout)
)

// mustCompile is for the package's own constant templates, which the tests
// compile.
func mustCompile(s string) *Template {
	t, err := Compile(s)
	if err != nil {
		panic(err)
	}
	return t
}

// ConnectorTemplate returns [ConnectorLayout] compiled.
func ConnectorTemplate() *Template { return connectorTemplate }

// VendorTemplate returns [VendorLayout] compiled.
func VendorTemplate() *Template { return vendorTemplate }

// Connector returns the connector layout prefix
// "prefix/connectorType/connectorID/flowRunID/streamName/" (without
// "prefix/" when prefix is empty). prefix may contain "/"; every other value
// must be one key segment.
func Connector(prefix, connectorType, connectorID, flowRunID, streamName string) (string, error) {
	return connectorTemplate.Execute(map[string]string{
		"prefix":         prefix,
		"connector_type": connectorType,
		"connector_id":   connectorID,
		"flow_run_id":    flowRunID,
		"stream_name":    streamName,
	}, time.Time{})
}

// TrimPrefix returns a key prefix as users often write it, like a path
// ("/connector-syncs/"), without its leading and trailing "/"
// ("connector-syncs"), ready for the {+prefix} of [ConnectorLayout]. Object
// keys never start with "/". Empty segments inside are kept, for validation
// to reject.
func TrimPrefix(prefix string) string { return strings.Trim(prefix, "/") }

// Vendor returns the vendor layout prefix "vendor/eventType/YYYY-MM-DD/account/"
// for an event at t (its UTC day).
func Vendor(vendor, eventType, account string, t time.Time) (string, error) {
	return vendorTemplate.Execute(map[string]string{
		"vendor":     vendor,
		"event_type": eventType,
		"account":    account,
	}, t)
}

// Hive returns a template of Hive-style partitions, "name1={name1}/name2={name2}/",
// filled like any template. Names must be field names (letters, digits,
// "_"); a name that is also a date token (yyyy, MM, dd, HH, mm, ss) is
// filled from the time, as in any template. For date partitions under other
// names write the template directly: Compile("year={yyyy}/month={MM}/day={dd}/").
func Hive(names ...string) (*Template, error) {
	if len(names) == 0 {
		return nil, &TemplateError{Reason: "Hive: no partition names"}
	}
	var b strings.Builder
	for _, n := range names {
		if !isFieldName(n) {
			return nil, &TemplateError{Template: n, Reason: "Hive: not a field name (letters, digits, _)"}
		}
		b.WriteString(n + "={" + n + "}/")
	}
	return Compile(b.String())
}

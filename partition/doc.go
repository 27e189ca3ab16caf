// Package partition builds and validates object keys: Amazon Security Lake
// partitions, connector and vendor layouts, Hive-style paths, key templates,
// and unique, time-ordered object names.
//
// It is pure: no I/O, no AWS clients.
//
// The layouts:
//
//	SecurityLake   region=<region>/accountId=<account>/eventDay=<yyyyMMdd>/
//	Connector      [<prefix>/]<connector_type>/<connector_id>/<flow_run_id>/<stream_name>/
//	Vendor         <vendor>/<event_type>/<YYYY-MM-DD>/<account>/
//	Hive           name1=<v1>/name2=<v2>/
//	Compile        any template: {name}, {+path}, {date:2006-01-02}, {yyyy}{MM}{dd}{HH}...
//
// A full key is a layout's prefix followed by [ObjectName]. Dates are always
// the UTC day of the time given (for events, the event's own time).
//
// # Errors
//
// Every value that becomes part of a key is validated: no empty segment, no
// "." or ".." segment, no control characters, no leading "/", valid UTF-8,
// at most [MaxKeyLen] bytes in all. Rejections are *[KeyError] values naming
// the field and wrapping [ErrInvalidKey]; template syntax errors are
// *[TemplateError] values wrapping [ErrInvalidTemplate].
//
// # Concurrency
//
// All functions, and the methods of a compiled [Template], are safe for
// concurrent use.
//
// # Performance
//
// Compile a template once and [Template.Bind] its fixed fields once; then
// [Template.Execute] only formats the time and validates the result.
package partition

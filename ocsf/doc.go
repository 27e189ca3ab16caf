// Package ocsf models the Open Cybersecurity Schema Framework (OCSF): Go types
// for the base event and the classes this module emits, enum constants,
// validation of raw JSON events, Arrow schemas for writing OCSF as Parquet
// that Athena and DuckDB read, a parser for the tag format some products use
// to configure Parquet schemas, and mappers to OCSF for AWS CloudTrail
// ([MapCloudTrail], [AppendCloudTrail]), CrowdStrike Falcon Data Replicator ([MapCrowdStrike]),
// Teleport audit events ([MapTeleport]) and Proofpoint TAP message events
// ([MapProofpoint]). Every mapper returns one JSON object without
// insignificant whitespace, in valid UTF-8: what [lakerelay.Record].JSON
// promises, so a pipeline may set it on mapped records
// (batch.MapOptions.CompactJSON).
//
// The package is pure: it does no I/O beyond reading the io.Reader handed to
// [LoadSchema] and uses no AWS client.
//
// # Versions and definitions
//
// [Version] (1.1.0, Amazon Security Lake's default) is the version of the
// built-in definitions ([Builtin]), which cover Process Activity (1007),
// Detection Finding (2004), Email Activity (4009),
// Account Change (3001), Authentication (3002), Network Activity (4001) and
// API Activity (6003): the attributes of the Go types in this package, a
// curated subset of each class. Built-ins are keyed by version
// ([BuiltinVersions]) so that later versions (1.3.0) can be added beside
// 1.1.0: a version's built-ins are derived from a list of Go class types and
// object registrations, so adding 1.3.0 means registering its types (where
// they differ, such as duration becoming long_t) under "1.3.0". Any class of any version — 1.3.0 included — is available by loading
// the official schema export with [LoadSchema]; the resulting [Schema] offers
// the same operations as the built-ins.
//
// # Arrow schemas
//
// [ArrowSchema] (built-in) and [Schema.ArrowSchema] (any loaded version)
// follow one set of conventions, shared with the Parquet writers of this
// module, which convert OCSF JSON rows generically by walking the schema:
//
//   - every column and struct field is nullable; names are the OCSF attribute
//     names; fields are sorted by name at every level (deterministic);
//   - integer_t and port_t → int32; long_t → int64; float_t → float64;
//     boolean_t → bool; timestamp_t (time, start_time, …) → int64 epoch
//     milliseconds; datetime_t (the *_dt attributes) → timestamp(ms, "UTC");
//     every other scalar type → utf8;
//   - json_t attributes and free-form objects (the generic "object" type:
//     unmapped, xattributes) → utf8 holding compact JSON text;
//   - objects → struct; arrays → list of the element type;
//   - recursive objects are cut: nesting deeper than [MaxObjectDepth] (5)
//     objects, or one object type occurring more than [MaxObjectRepeat] (2)
//     times on a path, is omitted (process.parent_process is kept,
//     process.parent_process.parent_process is not); deprecated attributes
//     are omitted;
//   - every class schema has a top-level [UnmappedColumn] utf8 column. A
//     writer puts there, as a JSON object, every attribute of an event that
//     has no column (not in the schema, cut, or deprecated), so nothing is
//     dropped silently.
//
// # Validation
//
// [Validate] and [Schema.Validate] check a raw JSON event against its class:
// required attributes (recursively, honouring profiles declared in
// metadata.profiles), data types and formats, enum values, uid consistency
// (class_uid, category_uid = class_uid/1000, type_uid = class_uid*100 +
// activity_id) and at_least_one / just_one constraints. The result is a list
// of [Finding] values with a field path such as "actor.user.uid" or
// "resources[0].type"; findings are not errors — the error return means the
// input could not be read as a JSON object.
//
// # Errors
//
// [MapCloudTrail] returns errors wrapping lakerelay.ErrInvalidRecord for
// records it can never map (invalid JSON, missing eventTime/eventName); so do
// [MapCrowdStrike], [MapTeleport] and [MapProofpoint], also for event types
// they have no mapping for, naming the field or the type. Class
// lookups fail with [ErrUnknownClass]. [ParseTagSchema] names the offending
// tag and field path.
//
// # Performance
//
// [MapCloudTrail] reads a record in one validating pass and writes the
// event directly into a []byte: about 5× the speed of a bare json.Unmarshal +
// json.Marshal round trip of the same record (about 139,000 records per
// CPU-second for CloudTrail records of ~1 KB on a shared 2 vCPU machine), with
// one allocation, the event it returns; [AppendCloudTrail] into a reused
// buffer makes none and doubles that. [Validate] runs at about 17,000
// events/s. Arrow schemas of the built-ins are built once and cached.
//
// # Concurrency
//
// Schemas, Arrow schemas and all functions of the package are safe for
// concurrent use.
package ocsf

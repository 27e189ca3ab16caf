// Command export writes raw NDJSON records to S3 or a local directory as
// compressed JSONL objects, under the key layout of an S3 output connector,
// of a vendor's "export findings to your bucket" integration, or of a
// template.
//
// Usage:
//
//	go run ./examples/export (--bucket B | --out-dir DIR) [--layout connector|vendor|template]
//	  [--prefix P] [--connector-type T] [--connector-id ID] [--run-id R] [--stream S | --stream-field NAME]
//	  [--vendor V] [--event-type T | --event-type-field NAME] [--account A] [--key-template TEMPLATE] [--field NAME=VALUE]...
//	  [--compression gzip|zstd|none] [--batch-records N] [--batch-bytes N] [--batch-age DURATION]
//	  [--acl ACL] [--sse aws:kms|AES256] [--sse-kms-key-id ID] [--test-connection]
//	  [--region R] [--role-arn ARN] [--external-id ID] [--path-style]
//	  [--time-field NAME] [--quarantine PATH|DIR/|s3://BUCKET/PREFIX] [--input FILE]...
//	  [--log-format text|json] [--log-level L] [--metrics-addr ADDR] [--metrics-linger D]
//	  [--drop-off D] [--shutdown-timeout D]
//
// Records are read from standard input, or from the --input files (plain,
// gzip or zstd, detected by content), one record per line. Lines that are
// not JSON are written as JSON strings, so nothing is dropped.
//
// Layouts (every object is named <UTC time>-<UUIDv7>.json.gz, .json.zst or
// .jsonl under the prefix):
//
//	connector  [{prefix}/]{connector_type}/{connector_id}/{flow_run_id}/{stream_name}/
//	           flags --prefix (optional; leading and trailing "/" are trimmed,
//	           "/connector-syncs/" becomes "connector-syncs", with a notice),
//	           --connector-type, --connector-id, --run-id (default: a new
//	           time-ordered id), --stream or --stream-field
//	vendor     {vendor}/{event_type}/{YYYY-MM-DD}/{account}/
//	           flags --vendor, --event-type or --event-type-field, --account;
//	           the date is each record's --time-field (epoch ms or RFC 3339),
//	           falling back to now
//	template   --key-template, for example "{+prefix}/{source}/dt={date:2006-01-02}/"
//	           with --field NAME=VALUE for its fields (see package partition);
//	           the value of a {+NAME} (prefix) field is trimmed like --prefix
//
// --stream-field NAME (instead of --stream) and --event-type-field NAME
// (instead of --event-type) take that part of the key from each record's
// top-level field NAME (a string, or a number as written), so one run writes
// many streams or event types, each under its own prefix. A record that is not
// a JSON object, lacks the field, or whose value is not a valid key segment
// (empty, ".", "..", "/", control characters) is not stored. With
// --quarantine (a file, fsynced; a directory; or s3://bucket/prefix) it goes
// there as one NDJSON entry with the reason (quarantine.Entry) and is
// counted in quarantined. Without it an error names the record (input#line
// index) and the field, the record is counted in failed_records, the rest is
// exported, and the exit status is 1.
//
// A batch becomes one object when it reaches --batch-records (default
// 50000), --batch-bytes (default 33554432) or --batch-age (default 1m).
//
// S3 settings come from the standard AWS chain (environment, shared config,
// SSO, IMDS) and honour AWS_ENDPOINT_URL_S3; --role-arn (with --external-id)
// assumes a role. Path-style addressing is used with a custom endpoint or
// --path-style. --acl (for example bucket-owner-full-control), --sse and
// --sse-kms-key-id set the object ACL and encryption.
//
// --test-connection only writes and removes a small test object where the
// data would go (with --acl and encryption as configured), then exits: 0
// when it works, 1 with an actionable message when it does not. It tests the
// destination alone: without the layout's flags (--connector-type,
// --connector-id, --stream; --vendor, ...; --key-template) the object goes
// under --prefix, or the bucket's root.
//
// Records go through batch.Run. Progress is logged every 5 seconds; the
// last line on stderr is one JSON summary:
// {"records":N,"objects":N,"bytes":N,"errors":N,"failed_records":N,"quarantined":N,"drop_offs":N,...}.
// The exit status is 0 on success, 1 on any failure, 2 on bad usage.
//
// Shared flags (internal/program): --log-format text|json and --log-level
// debug|info|warn|error set the logs on stderr (never credentials, never
// record contents); --metrics-addr ADDR serves Prometheus text at /metrics
// and /healthz (503 once the run failed for good; --metrics-linger D keeps
// serving that long after a failure); --drop-off D warns when no record
// arrived for D, and again when records resume (counted in the summary's
// drop_offs); --shutdown-timeout D (default 25s) bounds storing what was
// read once reading stopped (SIGINT, SIGTERM, end of input).
//
// --cpuprofile FILE and --memprofile FILE write a CPU profile and a heap
// profile of the run, to read with `go tool pprof`, and --trace FILE an
// execution trace (where goroutines wait), to read with `go tool trace`
// (see BENCHMARKS.md).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/internal/awsenv"
	"github.com/lakerelay/lakerelay/internal/profiling"
	"github.com/lakerelay/lakerelay/internal/program"
	"github.com/lakerelay/lakerelay/partition"
	"github.com/lakerelay/lakerelay/sink"
	"github.com/lakerelay/lakerelay/source"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stderr))
}

// summary is the last line on stderr.
type summary struct {
	Records     int64  `json:"records"`
	Objects     int64  `json:"objects"`
	Bytes       int64  `json:"bytes"`
	Errors      int64  `json:"errors"`
	Failed      int64  `json:"failed_records"`
	RawBytes    int64  `json:"raw_bytes"`
	Destination string `json:"destination,omitempty"`
	Prefix      string `json:"prefix,omitempty"`
	RunID       string `json:"run_id,omitempty"`
	Connection  string `json:"connection,omitempty"`
	Quarantined int64  `json:"quarantined"`
	DropOffs    int64  `json:"drop_offs"`
	Error       string `json:"error,omitempty"`
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type config struct {
	bucket, outDir, layout                  string
	prefix, connType, connID, runID, stream string
	vendor, eventType, account, keyTemplate string
	streamField, eventTypeField             string
	recordFields                            map[string]string // layout field -> record field
	notices                                 []string          // prefixes trimmed, said on stderr
	fields, inputs                          multiFlag
	compression                             string
	batchRecords                            int
	batchBytes                              int64
	batchAge                                time.Duration
	acl, sse, kmsKey                        string
	testConnection                          bool
	region, roleARN, externalID, timeField  string
	pathStyle                               bool
	quarantine                              string
	s3c                                     *s3.Client // for --bucket and an s3:// --quarantine
	flags                                   program.Flags
}

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func run(args []string, stdin io.Reader, stderr io.Writer) (code int) {
	stderr = &program.LockedWriter{W: stderr}
	var sum summary
	defer func() {
		line, _ := json.Marshal(sum)
		fmt.Fprintf(stderr, "%s\n", line)
	}()
	fail := func(c int, err error) int {
		sum.Errors++
		sum.Error = err.Error()
		fmt.Fprintf(stderr, "export: %v\n", err)
		return c
	}

	var c config
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.bucket, "bucket", "", "S3 bucket to write to")
	fs.StringVar(&c.outDir, "out-dir", "", "local directory to write to (instead of --bucket)")
	fs.StringVar(&c.layout, "layout", "connector", "key layout: connector, vendor or template")
	fs.StringVar(&c.prefix, "prefix", "", "connector layout: key prefix (may contain /)")
	fs.StringVar(&c.connType, "connector-type", "", "connector layout: connector type")
	fs.StringVar(&c.connID, "connector-id", "", "connector layout: connector id")
	fs.StringVar(&c.runID, "run-id", "", "connector layout: flow run id (default: a new time-ordered id)")
	fs.StringVar(&c.stream, "stream", "", "connector layout: stream name")
	fs.StringVar(&c.streamField, "stream-field", "", "connector layout: take the stream name from this top-level record field")
	fs.StringVar(&c.vendor, "vendor", "", "vendor layout: vendor name")
	fs.StringVar(&c.eventType, "event-type", "", "vendor layout: event type")
	fs.StringVar(&c.eventTypeField, "event-type-field", "", "vendor layout: take the event type from this top-level record field")
	fs.StringVar(&c.account, "account", "", "vendor layout: account")
	fs.StringVar(&c.keyTemplate, "key-template", "", "template layout: key template, e.g. {+prefix}/{source}/{date:2006-01-02}/")
	fs.Var(&c.fields, "field", "template layout: NAME=VALUE for a template field (repeatable)")
	fs.StringVar(&c.compression, "compression", "gzip", "object compression: gzip, zstd or none")
	fs.IntVar(&c.batchRecords, "batch-records", batch.DefaultMaxRecords, "records per object at most")
	fs.Int64Var(&c.batchBytes, "batch-bytes", batch.DefaultMaxBytes, "uncompressed record bytes per object at most")
	fs.DurationVar(&c.batchAge, "batch-age", time.Minute, "longest a record waits before its object is written")
	fs.StringVar(&c.acl, "acl", "", "canned ACL for objects, e.g. bucket-owner-full-control")
	fs.StringVar(&c.sse, "sse", "", "server-side encryption: aws:kms or AES256")
	fs.StringVar(&c.kmsKey, "sse-kms-key-id", "", "KMS key for --sse aws:kms")
	fs.BoolVar(&c.testConnection, "test-connection", false, "only test writing to the destination, then exit")
	fs.StringVar(&c.region, "region", "", "AWS region (default from the environment)")
	fs.StringVar(&c.roleARN, "role-arn", "", "IAM role to assume for writing")
	fs.StringVar(&c.externalID, "external-id", "", "external id for --role-arn")
	fs.BoolVar(&c.pathStyle, "path-style", false, "force path-style S3 addressing")
	fs.StringVar(&c.timeField, "time-field", sink.DefaultTimeField, "record field with the event time (epoch ms or RFC 3339)")
	fs.StringVar(&c.quarantine, "quarantine", "", "where records the layout rejects go: a file, a directory or s3://bucket/prefix")
	c.flags.Register(fs)
	fs.Var(&c.inputs, "input", "NDJSON input file (repeatable; more files may follow; default stdin)")
	var prof profiling.Flags
	prof.Register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		sum.Errors++
		sum.Error = err.Error()
		return 2
	}
	if fs.NArg() > 0 {
		if len(c.inputs) == 0 {
			return fail(2, usagef("unexpected arguments %q (input files follow --input)", fs.Args()))
		}
		c.inputs = append(c.inputs, fs.Args()...)
	}

	stopProfile, err := prof.Start()
	if err != nil {
		return fail(1, err)
	}
	// Registered after the summary's defer, so it runs first: the summary
	// stays the last line.
	defer func() {
		if err := stopProfile(); err != nil {
			code = fail(1, err)
		}
	}()

	ctx, stop := program.Signals()
	defer stop()

	env, err := program.Start("export", c.flags, stderr)
	if err != nil {
		return fail(2, &usageError{err.Error()})
	}
	defer func() {
		if err := env.Close(); err != nil {
			code = fail(1, err)
		}
		sum.DropOffs = env.DropOffs()
	}()

	store, layout, err := setup(ctx, &c, env, &sum)
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			return fail(2, err)
		}
		return fail(1, err)
	}

	for _, n := range c.notices {
		fmt.Fprintf(stderr, "export: %s\n", n)
	}
	if c.testConnection {
		prefix := "" // no layout: the bucket's root
		if layout != nil {
			sample := map[string]string{}
			for name := range c.recordFields {
				sample[name] = "connection-test"
			}
			if prefix, err = layout.Execute(sample, time.Now()); err != nil {
				return fail(2, err)
			}
		}
		res, err := sink.CheckConnection(ctx, store, prefix)
		if err != nil {
			var ce *sink.ConnectionError
			if errors.As(err, &ce) {
				sum.Connection = ce.Problem.String()
			}
			return fail(1, err)
		}
		sum.Connection = "ok"
		if res.Deleted {
			fmt.Fprintf(stderr, "export: connection ok: wrote and removed %s\n", res.Location)
		} else {
			fmt.Fprintf(stderr, "export: connection ok: wrote %s, but could not remove it: %v\n", res.Location, res.DeleteErr)
		}
		return 0
	}
	return export(ctx, &c, env, store, layout, stdin, &sum, fail)
}

// setup validates the flags and builds the store and the bound layout.
func setup(ctx context.Context, c *config, env *program.Env, sum *summary) (sink.Store, *partition.Template, error) {
	if (c.bucket == "") == (c.outDir == "") {
		return nil, nil, usagef("exactly one of --bucket and --out-dir is required")
	}
	if c.outDir != "" {
		for name, v := range map[string]string{"--acl": c.acl, "--sse": c.sse, "--sse-kms-key-id": c.kmsKey, "--role-arn": c.roleARN, "--external-id": c.externalID, "--region": c.region} {
			if v != "" {
				return nil, nil, usagef("%s applies only with --bucket", name)
			}
		}
	}
	switch sink.Compression(c.compression) {
	case sink.Gzip, sink.Zstd, sink.None:
	default:
		return nil, nil, usagef("--compression %q: want gzip, zstd or none", c.compression)
	}
	if c.batchRecords <= 0 || c.batchBytes <= 0 || c.batchAge <= 0 {
		return nil, nil, usagef("--batch-records, --batch-bytes and --batch-age must be positive")
	}
	if c.timeField == "" {
		return nil, nil, usagef("--time-field must not be empty")
	}
	layout, err := buildLayout(c)
	if err != nil {
		return nil, nil, err
	}
	sum.RunID = c.runID
	sum.Prefix = c.prefix

	if c.outDir != "" {
		d, err := sink.NewDir(c.outDir, env.DirStore)
		if err != nil {
			return nil, nil, err
		}
		sum.Destination = d.Root()
		if strings.HasPrefix(c.quarantine, "s3://") {
			cfg, err := awsenv.Load(ctx, awsenv.Options{})
			if err != nil {
				return nil, nil, err
			}
			c.s3c = s3.NewFromConfig(cfg, awsenv.S3Options(cfg, c.pathStyle))
		}
		return d, layout, nil
	}
	so := sink.S3Options{
		ACL:         types.ObjectCannedACL(c.acl),
		SSE:         types.ServerSideEncryption(c.sse),
		SSEKMSKeyID: c.kmsKey,
	}
	if c.testConnection {
		// A connection test answers quickly: fewer, shorter retries.
		so.MaxAttempts, so.MaxBackoff = 3, 2*time.Second
	}
	if err := so.Validate(); err != nil {
		return nil, nil, &usageError{err.Error()}
	}
	o := awsenv.Options{Region: c.region, RoleARN: c.roleARN, ExternalID: c.externalID}
	if err := o.Validate(); err != nil {
		return nil, nil, &usageError{err.Error()}
	}
	cfg, err := awsenv.Load(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	client := s3.NewFromConfig(cfg, awsenv.S3Options(cfg, c.pathStyle))
	c.s3c = client
	st, err := sink.NewS3(client, c.bucket, func(o *sink.S3Options) { *o = so }, env.S3Store)
	if err != nil {
		return nil, nil, &usageError{err.Error()}
	}
	sum.Destination = "s3://" + c.bucket + "/"
	return st, layout, nil
}

// destinationLayout is where --test-connection writes when the layout's
// flags are not all given: under --prefix alone, or at the bucket's root
// (buildLayout then returns no layout). A user testing access before a
// connector exists has no connector id or stream yet.
const destinationLayout = "{+prefix}/"

// layoutComplete reports whether the layout's required flags are given.
func layoutComplete(c *config) bool {
	switch c.layout {
	case "connector":
		return c.connType != "" && c.connID != "" && (c.stream != "" || c.streamField != "")
	case "vendor":
		return c.vendor != "" && (c.eventType != "" || c.eventTypeField != "") && c.account != ""
	case "template":
		return c.keyTemplate != ""
	}
	return true // an unknown layout is reported by buildLayout
}

func buildLayout(c *config) (*partition.Template, error) {
	if c.testConnection && !layoutComplete(c) {
		if strings.Trim(c.prefix, "/") == "" {
			return nil, nil // the bucket's root
		}
		t, err := partition.Compile(destinationLayout)
		if err != nil {
			return nil, err
		}
		bound, err := t.Bind(map[string]string{"prefix": strings.Trim(c.prefix, "/")})
		if err != nil {
			return nil, &usageError{"--prefix: " + err.Error()}
		}
		return bound, nil
	}
	connFlags := map[string]string{"--prefix": c.prefix, "--connector-type": c.connType, "--connector-id": c.connID, "--run-id": c.runID, "--stream": c.stream, "--stream-field": c.streamField}
	vendorFlags := map[string]string{"--vendor": c.vendor, "--event-type": c.eventType, "--event-type-field": c.eventTypeField, "--account": c.account}
	notWith := func(flags map[string]string) error {
		for name, v := range flags {
			if v != "" {
				return usagef("%s does not apply to --layout %s", name, c.layout)
			}
		}
		return nil
	}
	required := func(flags map[string]string, names ...string) error {
		var missing []string
		for _, n := range names {
			if flags[n] == "" {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			return usagef("--layout %s needs %s", c.layout, strings.Join(missing, ", "))
		}
		return nil
	}
	if c.layout != "template" && (c.keyTemplate != "" || len(c.fields) > 0) {
		return nil, usagef("--key-template and --field need --layout template")
	}
	var t *partition.Template
	var fields map[string]string
	switch c.layout {
	case "connector":
		if err := notWith(vendorFlags); err != nil {
			return nil, err
		}
		if err := required(connFlags, "--connector-type", "--connector-id"); err != nil {
			return nil, err
		}
		if c.runID == "" {
			c.runID = partition.ObjectName("")
		}
		if p := partition.TrimPrefix(c.prefix); p != c.prefix {
			c.notices = append(c.notices, fmt.Sprintf("--prefix %q used as %q (keys do not start or end with \"/\")", c.prefix, p))
			c.prefix = p
		}
		t = partition.ConnectorTemplate()
		fields = map[string]string{"prefix": c.prefix, "connector_type": c.connType, "connector_id": c.connID, "flow_run_id": c.runID}
		if err := fieldOrFlag(c, fields, "stream_name", "--stream", c.stream, "--stream-field", c.streamField); err != nil {
			return nil, err
		}
	case "vendor":
		if err := notWith(connFlags); err != nil {
			return nil, err
		}
		if err := required(vendorFlags, "--vendor", "--account"); err != nil {
			return nil, err
		}
		t = partition.VendorTemplate()
		fields = map[string]string{"vendor": c.vendor, "account": c.account}
		if err := fieldOrFlag(c, fields, "event_type", "--event-type", c.eventType, "--event-type-field", c.eventTypeField); err != nil {
			return nil, err
		}
	case "template":
		if err := notWith(connFlags); err != nil {
			return nil, err
		}
		if err := notWith(vendorFlags); err != nil {
			return nil, err
		}
		if c.keyTemplate == "" {
			return nil, usagef("--layout template needs --key-template")
		}
		var err error
		if t, err = partition.Compile(c.keyTemplate); err != nil {
			return nil, &usageError{err.Error()}
		}
		if !strings.HasSuffix(c.keyTemplate, "/") {
			return nil, usagef("--key-template %q must end in \"/\" (object names are appended)", c.keyTemplate)
		}
		fields = map[string]string{}
		for _, f := range c.fields {
			name, value, ok := strings.Cut(f, "=")
			if !ok || name == "" {
				return nil, usagef("--field %q: want NAME=VALUE", f)
			}
			if _, dup := fields[name]; dup {
				return nil, usagef("--field %s given twice", name)
			}
			if strings.Contains(t.String(), "{+"+name+"}") {
				// A {+path} field is a prefix: trimmed like --prefix.
				if p := partition.TrimPrefix(value); p != value {
					c.notices = append(c.notices, fmt.Sprintf("--field %s=%q used as %q (keys do not start or end with \"/\")", name, value, p))
					value = p
				}
			}
			fields[name] = value
		}
	default:
		return nil, usagef("--layout %q: want connector, vendor or template", c.layout)
	}
	bound, err := t.Bind(fields)
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	if rest := bound.Fields(); len(rest) > len(c.recordFields) {
		return nil, usagef("--key-template fields without a --field value: %s", strings.Join(rest, ", "))
	}
	return bound, nil
}

// fieldOrFlag sets a layout field from its value flag, or has it taken from
// each record's field named by its field flag; exactly one must be given.
func fieldOrFlag(c *config, fields map[string]string, name, valueFlag, value, fieldFlag, recordField string) error {
	switch {
	case value != "" && recordField != "":
		return usagef("%s and %s exclude each other", valueFlag, fieldFlag)
	case value != "":
		fields[name] = value
	case recordField != "":
		c.recordFields = map[string]string{name: recordField}
	default:
		return usagef("--layout %s needs %s or %s", c.layout, valueFlag, fieldFlag)
	}
	return nil
}

func export(ctx context.Context, c *config, env *program.Env, store sink.Store, layout *partition.Template, stdin io.Reader, sum *summary, fail func(int, error) int) int {
	log := env.Logger
	s, err := sink.NewJSONL(store, env.JSONL, func(o *sink.JSONLOptions) {
		o.Compression = sink.Compression(c.compression)
		o.Layout = layout
		o.RecordFields = c.recordFields
		o.TimeField = c.timeField
	})
	if err != nil {
		return fail(2, err)
	}
	q, err := program.NewQuarantine(c.quarantine, c.s3c, env.Quarantine)
	if err != nil {
		return fail(2, err)
	}
	var failedBatches atomic.Int64
	b, err := batch.New(s, env.Batch, func(o *batch.Options) {
		o.MaxRecords = c.batchRecords
		o.MaxBytes = c.batchBytes
		o.MaxAge = c.batchAge
		// Hold about two full batches: memory stays bounded whatever the
		// input size (batches of small records are flushed early instead).
		o.MaxPendingBytes = 2*c.batchBytes + 32<<20
		o.FlushConcurrency = 2
		o.OnFlush = func(r batch.FlushResult) {
			if r.Err != nil {
				failedBatches.Add(1) // logged by the batcher
			}
		}
	})
	if err != nil {
		return fail(2, err)
	}

	// A record the layout rejects (its key field is missing or unusable)
	// is not stored: without --quarantine it is negatively acknowledged,
	// named here (by input and line, never by contents) and counted.
	var rejected atomic.Int64
	onNack := func(err error) {
		var fe *batch.FlushError
		if errors.As(err, &fe) {
			return // named by OnFlush
		}
		if rejected.Add(1) <= maxRejectMessages {
			log.Error("record not stored", "err", err)
		}
	}
	// With one stream under the connector layout every record goes to one
	// partition, whose batches the batcher writes and settles in about the
	// order read, each record copied into its object before it is settled:
	// the source may then reuse a record's memory once it is settled. With
	// several partitions, records read together may wait in different
	// partitions for different times, each holding its block of memory.
	reuse := func(o *source.ReaderOptions) {
		o.Decode.ReuseData = c.layout == "connector" && c.streamField == ""
	}
	src := env.Watch(newInputSource(c.inputs, stdin, onNack, env.Reader, reuse))
	stopProgress := env.Progress(ctx, 5*time.Second, func() []any {
		st := s.Stats()
		return []any{"records", src.Records(), "objects", st.Objects, "bytes", st.Bytes}
	})
	// Run stores what was read even after an interrupt (within
	// --shutdown-timeout): input from a pipe cannot be read again.
	tot, runErr := batch.Run(ctx, src, b, s, env.RunOptions(q.Quarantiner()))
	stopProgress()
	src.Close()
	if q != nil {
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		runErr = errors.Join(runErr, q.Close(cctx))
		cancel()
		sum.Quarantined = q.Entries()
	}

	st := s.Stats()
	sum.Records, sum.Objects, sum.Bytes, sum.RawBytes = tot.In, st.Objects, st.Bytes, st.RawBytes
	sum.Errors += failedBatches.Load()
	sum.Failed = tot.Nacked
	code := 0
	if ctx.Err() != nil {
		runErr = errors.Join(fmt.Errorf("interrupted: %w", context.Cause(ctx)), runErr)
	}
	if runErr != nil && (failedBatches.Load() == 0 || ctx.Err() != nil) {
		env.Fatal(runErr)
		code = fail(1, runErr)
	}
	if n := rejected.Load(); n > 0 {
		if n > maxRejectMessages {
			log.Error("more records not stored", "count", n-maxRejectMessages)
		}
		code = 1
		sum.Errors++
		if sum.Error == "" {
			sum.Error = fmt.Sprintf("%d records were not stored: their key fields are missing or invalid", n)
		}
	}
	if failedBatches.Load() > 0 {
		code = 1
		if sum.Error == "" {
			sum.Error = fmt.Sprintf("%d records in %d objects were not stored", tot.Nacked-rejected.Load(), failedBatches.Load())
		}
	}
	return code
}

// maxRejectMessages bounds the messages logged for rejected records.
const maxRejectMessages = 10

// inputSource reads the inputs in its own goroutine: a read from a pipe or
// terminal cannot be interrupted, but an interrupt must still end the run.
// Records are handed over unbuffered, so none is read and then left
// behind. Every record gets onNack as its acknowledgment for failures,
// before the source's own acknowledgment if it has one.
type inputSource struct {
	recs   chan lakerelay.Record
	done   chan error
	stop   context.CancelFunc
	err    error
	closed bool
}

func newInputSource(inputs []string, stdin io.Reader, onNack func(error), opts ...func(*source.ReaderOptions)) *inputSource {
	ctx, stop := context.WithCancel(context.Background())
	s := &inputSource{recs: make(chan lakerelay.Record), done: make(chan error, 1), stop: stop}
	ack := func(err error) {
		if err != nil {
			onNack(err)
		}
	}
	go func() {
		s.done <- readInputs(ctx, inputs, stdin, opts, func(r lakerelay.Record) error {
			if give := r.Ack; give != nil {
				// The source's own acknowledgment (DecodeOptions.ReuseData):
				// the record's memory goes back once it is settled.
				r.Ack = func(err error) {
					ack(err)
					give(err)
				}
			} else {
				r.Ack = ack
			}
			select {
			case s.recs <- r:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	return s
}

// Read returns the next record, io.EOF at the end of the inputs, or the
// error that ended reading.
func (s *inputSource) Read(ctx context.Context) (lakerelay.Record, error) {
	if s.closed {
		return lakerelay.Record{}, lakerelay.ErrClosed
	}
	if s.err != nil {
		return lakerelay.Record{}, s.err
	}
	select {
	case r := <-s.recs:
		return r, nil
	case err := <-s.done:
		if err == nil {
			err = io.EOF
		}
		s.err = err
		return lakerelay.Record{}, err
	case <-ctx.Done():
		return lakerelay.Record{}, ctx.Err()
	}
}

// Close stops reading; it does not wait for a read from a pipe.
func (s *inputSource) Close() error {
	s.closed = true
	s.stop()
	return nil
}

// readInputs reads every record of the inputs (stdin when none) in order,
// calling add for each. It stops at the first error.
func readInputs(ctx context.Context, inputs []string, stdin io.Reader, opts []func(*source.ReaderOptions), add func(lakerelay.Record) error) error {
	one := func(name string, r io.Reader) error {
		rd, err := source.NewReader(name, bufio.NewReaderSize(r, 256<<10), append(opts[:len(opts):len(opts)], func(o *source.ReaderOptions) {
			o.Decode.StreamType = source.Lines
		})...)
		if err != nil {
			return err
		}
		defer rd.Close()
		for {
			rec, err := rd.Read(ctx)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := add(rec); err != nil {
				return err
			}
		}
	}
	if len(inputs) == 0 {
		return one("stdin", stdin)
	}
	for _, name := range inputs {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		err = one(name, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

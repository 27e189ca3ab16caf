// Command securitylake delivers OCSF events to Amazon Security Lake custom
// sources: zstd Parquet, one OCSF class per source, in the layout
// {location}/region=<region>/accountId=<account>/eventDay=<yyyyMMdd>/.
//
// Usage:
//
//	go run ./examples/securitylake [--input PATH]... | [--queue-url URL]
//	  [--mapper cloudtrail|crowdstrike|teleport|proofpoint|none] [--class NAME|UID] [--schema FILE] [--ocsf-version 1.1.0]
//	  [--source-location s3://BUCKET/PREFIX/ | --out-dir DIR] [--region R] [--account-id ID]
//	  [--batch-records N] [--batch-bytes N] [--batch-age DURATION] [--quarantine PATH|DIR/|s3://BUCKET/PREFIX]
//	  [--exit-when-idle DURATION] [--archive DIR|s3://BUCKET/PREFIX] [--max-receive-count N] [--confirm-subscriptions]
//	  [--lint LOCATION] [--role-arn ARN] [--external-id ID] [--path-style]
//	  [--drop-unknown-fields] [--log-format text|json] [--log-level L] [--metrics-addr ADDR]
//	  [--metrics-linger D] [--drop-off D] [--shutdown-timeout D]
//
// With no flags it maps the bundled sample CloudTrail logs (three accounts,
// three regions, three UTC days, embedded in the program) to OCSF and writes
// them under ./securitylake-out/, one directory per OCSF class (each the
// local equivalent of one custom source: api_activity, authentication,
// account_change), then prints a table of partitions, files and records and
// a DuckDB query to read the result. Running it again replaces its previous
// output: the Parquet files a previous run without flags wrote in those class
// directories are removed first (said on stderr). Nothing is ever removed
// under a location given with --out-dir or --source-location.
//
// Input:
//
//	--input PATH       files or directories (read recursively), plain, gzip or
//	                   zstd (detected by content); repeatable
//	--queue-url URL    an SQS queue of S3 event notifications; each announced
//	                   object is read, and its message deleted once all of its
//	                   records are written or quarantined
//	--exit-when-idle D with --queue-url: stop after D without a record
//	--archive L        with --queue-url: keep a raw copy of every object read,
//	                   unchanged, at L/{bucket}/{key}; L is a directory or
//	                   s3://bucket/prefix (server-side copy). The copy is made
//	                   before the message is deleted; a failed copy leaves the
//	                   message in the queue
//	--max-receive-count N
//	                   with --queue-url, for a queue without a redrive policy:
//	                   a message received more than N times is not read again;
//	                   each object it names is set aside in the quarantine
//	                   (--quarantine, or its default; reason "message received
//	                   more than MaxReceiveCount times", data: the message
//	                   body) and the message is deleted (0, the default: the
//	                   queue's redrive policy decides)
//	--confirm-subscriptions
//	                   with --queue-url: confirm an SNS subscription when its
//	                   SubscriptionConfirmation message arrives (visiting its
//	                   https SubscribeURL on an sns.<region>.amazonaws.com
//	                   host); without it the message is logged with the URL to
//	                   visit and stays in the queue
//	--mapper M         cloudtrail (default): the input is CloudTrail logs,
//	                   mapped with ocsf.MapCloudTrail; crowdstrike: CrowdStrike
//	                   Falcon Data Replicator events (NDJSON; with --queue-url
//	                   FDR's own notices are read too), mapped with
//	                   ocsf.MapCrowdStrike to Process Activity and Network
//	                   Activity; teleport: Teleport audit events (JSON lines),
//	                   mapped with ocsf.MapTeleport to Authentication;
//	                   proofpoint: Proofpoint TAP SIEM API responses, whose
//	                   message events ocsf.MapProofpoint maps to Email
//	                   Activity; events of other types (FDR DNS events,
//	                   TAP clicks, ...) are quarantined with the reason; none:
//	                   the input already is OCSF JSON (one event per line)
//
// Output:
//
//	--source-location L  the custom source's S3 location exactly as Security
//	                     Lake reports it (s3://aws-security-data-lake-…/ext/<source>/
//	                     or …/ext/<source>/1.0/). Repeatable as CLASS=s3://… (class
//	                     name or uid) to route each class to its own source; a
//	                     record whose class has no location is quarantined. With
//	                     one plain location and no --class, the class is that of
//	                     the first record. A location may carry its own role:
//	                     'CLASS=s3://…/;role=ARN;external-id=ID' (quote it: ";"
//	                     is special to the shell). Its objects are then written
//	                     with that role's credentials (assumed from the standard
//	                     chain, not through --role-arn), which are obtained before
//	                     any data is read: a refused role fails the run with an
//	                     error naming the location and the role. Locations
//	                     without a role use --role-arn, or the standard chain.
//	--out-dir DIR        the local equivalent of one source location: partitions
//	                     directly under DIR/region=…
//	--class C            the one class to accept (name such as api_activity, or uid)
//	--schema FILE        the Parquet schema: an official OCSF schema export
//	                     (schema-1.1.0.json) or a tag-format schema
//	                     ({"Tag":"name=…","Fields":[…]}); default the built-in
//	                     OCSF definitions
//	--ocsf-version V     1.1.0 (built in); other versions need --schema
//	--region, --account-id  partition values for events without cloud.region
//	                     or cloud.account.uid (and --region the AWS region)
//	--batch-records N, --batch-bytes N, --batch-age D
//	                     a file per partition when the first is reached
//	                     (defaults 1000000 records, 268435456 bytes, 5m: Security
//	                     Lake's guidance of a file per partition every 5 minutes)
//	--drop-unknown-fields
//	                     with a --schema that has no top-level "unmapped" column
//	                     (a tag-format schema, typically): store events without
//	                     the fields the schema lacks, instead of quarantining them;
//	                     each field path is logged once at Warn (never its value)
//	                     and every dropped field is counted in the summary's
//	                     dropped_fields. Without it such events are quarantined.
//	--quarantine L       where records that cannot be delivered go: a file
//	                     (fsynced), a directory or s3://bucket/prefix; one NDJSON
//	                     entry each, {"time","reason","origin":{…},"data"}
//	                     (quarantine.Entry), durable before its record is
//	                     acknowledged (default ./securitylake-quarantine.ndjson,
//	                     created when needed). Records the mapper rejects are
//	                     kept as read; records without a location for their
//	                     class, as mapped. It, and --archive, must lie outside
//	                     every output location (Security Lake reads every
//	                     object there as the source's Parquet): bad usage
//	                     otherwise
//
// --lint LOCATION checks an existing location (s3://… or a directory) and
// prints its findings instead of writing anything.
//
// AWS settings come from the standard chain (environment, shared config,
// SSO, IMDS) and honour AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3,
// AWS_ENDPOINT_URL_SQS and AWS_ENDPOINT_URL_STS; --role-arn (with
// --external-id) assumes a role for the queue and for locations without
// their own;
// path-style addressing is used with a custom S3 endpoint or --path-style.
//
// Records are read on a goroutine of their own (batch.ReadAhead) or mapped
// (batch.Map, on GOMAXPROCS goroutines: one per core unless the GOMAXPROCS
// environment variable says otherwise), routed to the sink of their class
// (batch.Router) and delivered by one batch.Run. Progress is logged every 5
// seconds; the last line on stderr is one JSON summary
// {"records":N,"objects":N,"quarantined":N,"partitions":N,"errors":N,"drop_offs":N}.
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
// The exit status is 0 on success, 1 on failure, 2 on bad usage.
//
// The garbage collector's target is 50 % (GOGC=50) unless the GOGC
// environment variable sets another: the records held until their batch is
// written are most of the heap, and at Go's default of 100 the heap peaks at
// twice them. GOMEMLIMIT caps it further.
//
// --cpuprofile FILE and --memprofile FILE write a CPU profile and a heap
// profile of the run, to read with `go tool pprof`, and --trace FILE an
// execution trace (where goroutines wait), to read with `go tool trace`
// (see BENCHMARKS.md).
package main

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/internal/awsenv"
	"github.com/lakerelay/lakerelay/internal/profiling"
	"github.com/lakerelay/lakerelay/internal/program"
	"github.com/lakerelay/lakerelay/internal/program/lakeenv"
	"github.com/lakerelay/lakerelay/ocsf"
	"github.com/lakerelay/lakerelay/sink"
	"github.com/lakerelay/lakerelay/sink/securitylake"
	"github.com/lakerelay/lakerelay/source"
)

// sampleFS holds the bundled CloudTrail logs used when no input is given.
//
//go:embed sample
var sampleFS embed.FS

// defaultOutDir is where the run without flags writes.
const defaultOutDir = "securitylake-out"

// defaultQuarantine is the quarantine file when --quarantine is not given.
const defaultQuarantine = "securitylake-quarantine.ndjson"

func main() {
	program.GCPercent(50) // see the package doc
	ctx, stop := program.Signals()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// summary is the last line on stderr.
type summary struct {
	Records     int64  `json:"records"`
	Objects     int64  `json:"objects"`
	Quarantined int64  `json:"quarantined"`
	Partitions  int    `json:"partitions"`
	Errors      int64  `json:"errors"`
	Findings    *int   `json:"findings,omitempty"`
	Dropped     int64  `json:"dropped_fields,omitempty"`
	DropOffs    int64  `json:"drop_offs"`
	Error       string `json:"error,omitempty"`
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type config struct {
	profile      profiling.Flags
	inputs       multiFlag
	queueURL     string
	mapper       string
	class        string
	schemaFile   string
	ocsfVersion  string
	locations    multiFlag
	outDir       string
	region       string
	accountID    string
	batchRecords int
	batchBytes   int64
	batchAge     time.Duration
	quarantine   string
	archive      string
	flags        program.Flags
	sqs          program.SQSFlags
	exitIdle     time.Duration
	lint         string
	roleARN      string
	externalID   string
	pathStyle    bool
	dropUnknown  bool
}

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	stderr = &program.LockedWriter{W: stderr}
	var sum summary
	code := func() int {
		cfg, err := parse(args, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if err != nil {
			fmt.Fprintln(stderr, "securitylake:", err)
			sum.Error = err.Error()
			return 2
		}
		stopProfile, err := cfg.profile.Start()
		if err != nil {
			fmt.Fprintln(stderr, "securitylake:", err)
			sum.Error = err.Error()
			return 1
		}
		defer func() {
			if err := stopProfile(); err != nil {
				fmt.Fprintln(stderr, "securitylake:", err)
			}
		}()
		env, err := program.Start("securitylake", cfg.flags, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "securitylake:", err)
			sum.Error = err.Error()
			return 2
		}
		defer func() {
			env.Close()
			sum.DropOffs = env.DropOffs()
		}()
		var r *runner
		if r, err = newRunner(ctx, cfg, env, stdout, stderr, &sum); err == nil {
			if cfg.lint != "" {
				err = r.lint(ctx, cfg.lint)
			} else {
				err = r.deliver(ctx)
			}
		}
		var ue *usageError
		switch {
		case errors.As(err, &ue):
			fmt.Fprintln(stderr, "securitylake:", err)
			sum.Error = err.Error()
			return 2
		case err != nil:
			env.Fatal(err)
			fmt.Fprintln(stderr, "securitylake:", err)
			sum.Error = err.Error()
		}
		return program.Status(err, sum.Errors)
	}()
	line, _ := json.Marshal(sum)
	fmt.Fprintln(stderr, string(line))
	return code
}

func parse(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fl := flag.NewFlagSet("securitylake", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Var(&c.inputs, "input", "file or directory to read (repeatable; gzip/zstd detected)")
	fl.StringVar(&c.queueURL, "queue-url", "", "SQS queue of S3 event notifications to read")
	fl.StringVar(&c.mapper, "mapper", "cloudtrail", "cloudtrail|crowdstrike|teleport|proofpoint: map that source's logs to OCSF; none: input is OCSF JSON")
	fl.StringVar(&c.class, "class", "", "the OCSF class to accept (name or uid)")
	fl.StringVar(&c.schemaFile, "schema", "", "Parquet schema: official OCSF schema export or tag-format schema")
	fl.StringVar(&c.ocsfVersion, "ocsf-version", ocsf.Version, "OCSF version")
	fl.Var(&c.locations, "source-location", "Security Lake source location s3://BUCKET/PREFIX/, or CLASS=s3://… (repeatable)")
	fl.StringVar(&c.outDir, "out-dir", "", "local directory standing for one source location")
	fl.StringVar(&c.region, "region", "", "region for events without cloud.region, and the AWS region")
	fl.StringVar(&c.accountID, "account-id", "", "account for events without cloud.account.uid")
	fl.IntVar(&c.batchRecords, "batch-records", securitylake.DefaultMaxRecords, "records per file (at most)")
	fl.Int64Var(&c.batchBytes, "batch-bytes", securitylake.DefaultMaxBytes, "input bytes per file (at most)")
	fl.DurationVar(&c.batchAge, "batch-age", securitylake.DefaultMaxAge, "longest a record waits for its file")
	fl.StringVar(&c.quarantine, "quarantine", "", "where records that cannot be delivered go: a file, a directory or s3://bucket/prefix (default ./"+defaultQuarantine+")")
	fl.StringVar(&c.archive, "archive", "", "with --queue-url: keep a raw copy of every object read, in a directory or s3://bucket/prefix")
	fl.DurationVar(&c.exitIdle, "exit-when-idle", 0, "with --queue-url: stop after this long without a record")
	fl.StringVar(&c.lint, "lint", "", "check an existing location (s3://… or a directory) instead of writing")
	fl.StringVar(&c.roleARN, "role-arn", "", "IAM role to assume")
	fl.StringVar(&c.externalID, "external-id", "", "external id for --role-arn")
	fl.BoolVar(&c.pathStyle, "path-style", false, "force path-style S3 addressing")
	fl.BoolVar(&c.dropUnknown, "drop-unknown-fields", false, "with a schema without an unmapped column: drop fields it lacks (counted, with a warning) instead of quarantining the event")
	c.sqs.Register(fl)
	c.profile.Register(fl)
	c.flags.Register(fl)
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, &usageError{err.Error()}
	}
	if fl.NArg() > 0 {
		return nil, usagef("unexpected argument %q", fl.Arg(0))
	}
	var errs []string
	if c.archive != "" && c.queueURL == "" {
		errs = append(errs, "--archive needs --queue-url")
	}
	if len(c.inputs) > 0 && c.queueURL != "" {
		errs = append(errs, "--input and --queue-url are exclusive")
	}
	if _, ok := mappers[c.mapper]; !ok && c.mapper != "none" {
		errs = append(errs, fmt.Sprintf("--mapper %q: want cloudtrail, crowdstrike, teleport, proofpoint or none", c.mapper))
	}
	if c.mapper != "cloudtrail" && len(c.inputs) == 0 && c.queueURL == "" {
		errs = append(errs, fmt.Sprintf("--mapper %s needs --input or --queue-url (the bundled sample is CloudTrail)", c.mapper))
	}
	if len(c.locations) > 0 && c.outDir != "" {
		errs = append(errs, "--source-location and --out-dir are exclusive")
	}
	if c.batchRecords <= 0 || c.batchBytes <= 0 || c.batchAge <= 0 {
		errs = append(errs, "--batch-records, --batch-bytes and --batch-age must be positive")
	}
	if c.exitIdle < 0 || (c.exitIdle > 0 && c.queueURL == "") {
		errs = append(errs, "--exit-when-idle applies to --queue-url and must be positive")
	}
	if c.externalID != "" && c.roleARN == "" {
		errs = append(errs, "--external-id needs --role-arn")
	}
	if c.lint != "" && (len(c.inputs) > 0 || c.queueURL != "" || len(c.locations) > 0 || c.outDir != "") {
		errs = append(errs, "--lint checks a location; it does not combine with input or output flags")
	}
	if c.ocsfVersion != ocsf.Version {
		if c.schemaFile == "" {
			errs = append(errs, fmt.Sprintf("--ocsf-version %s: only %s is built in; give --schema with the official %s export", c.ocsfVersion, ocsf.Version, c.ocsfVersion))
		}
		if c.mapper != "none" {
			errs = append(errs, fmt.Sprintf("--ocsf-version %s: the %s mapper emits OCSF %s; use --mapper none", c.ocsfVersion, c.mapper, ocsf.Version))
		}
	}
	// The quarantine is always there: --quarantine or its default.
	if err := c.sqs.Validate(c.queueURL != "", true); err != nil {
		errs = append(errs, err.Error())
	}
	// Nothing but the source's Parquet may be written under a location.
	outputs := []string{c.outDir}
	if len(c.locations) == 0 && c.outDir == "" {
		outputs = append(outputs, defaultOutDir)
	}
	for _, l := range c.locations {
		if sl, err := parseSourceLocation(l); err == nil {
			outputs = append(outputs, sl.location)
		} // else: reported with the location
	}
	if c.quarantine == "" {
		c.quarantine = defaultQuarantine // the program always has one
	}
	for _, f := range [][2]string{{"--quarantine", c.quarantine}, {"--archive", c.archive}} {
		if err := program.Outside(outputs, f[0], f[1]); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if err := c.flags.Validate(); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return nil, &usageError{strings.Join(errs, "; ")}
	}
	return c, nil
}

// route is where the events of one class go.
type route struct {
	class    int
	location string
	sink     *securitylake.Sink
}

// runner holds one run's state.
type runner struct {
	cfg    *config
	stdout io.Writer
	stderr io.Writer
	sum    *summary

	awsCfg    *aws.Config
	s3c       *s3.Client
	stores    map[string]sink.Store // by bucket (and role)
	schemas   *ocsf.Schema          // loaded export, or nil
	tagSchema *arrow.Schema         // tag-format schema, or nil
	class     int                   // --class, 0 when not given

	roles map[string]locationRole // by location, for locations with their own role

	mu       sync.Mutex
	routes   map[int]*route
	plain    string // one location for all (the first record's class when class == 0)
	perClass bool   // the run without flags: one directory per class
	byLoc    map[string]*partStat
	written  atomic.Int64
	records  int64 // read, once the run ended
	quar     *program.Quarantine
	errorsN  atomic.Int64
	env      *program.Env
}

type partStat struct {
	location, partition string
	files, records      int
}

func newRunner(ctx context.Context, cfg *config, env *program.Env, stdout, stderr io.Writer, sum *summary) (*runner, error) {
	r := &runner{cfg: cfg, env: env, stdout: stdout, stderr: stderr, sum: sum, stores: map[string]sink.Store{}, routes: map[int]*route{}, byLoc: map[string]*partStat{}}
	if cfg.schemaFile != "" {
		data, err := os.ReadFile(cfg.schemaFile)
		if err != nil {
			return nil, usagef("--schema: %v", err)
		}
		if isTagSchema(data) {
			if r.tagSchema, err = ocsf.ParseTagSchema(data); err != nil {
				return nil, usagef("--schema %s: %v", cfg.schemaFile, err)
			}
		} else {
			if r.schemas, err = ocsf.LoadSchema(strings.NewReader(string(data))); err != nil {
				return nil, usagef("--schema %s: %v", cfg.schemaFile, err)
			}
			if v := r.schemas.Version(); v != cfg.ocsfVersion {
				return nil, usagef("--schema %s is OCSF %s, --ocsf-version is %s", cfg.schemaFile, v, cfg.ocsfVersion)
			}
		}
	}
	if cfg.class != "" {
		uid, err := r.classUID(cfg.class)
		if err != nil {
			return nil, usagef("--class %q: %v", cfg.class, err)
		}
		r.class = uid
	}
	q := cfg.quarantine // its default set by parse
	var qs3 *s3.Client
	if strings.HasPrefix(q, "s3://") {
		if _, err := r.loadAWS(ctx); err != nil {
			return nil, err
		}
		qs3 = r.s3c
	}
	var err error
	if r.quar, err = program.NewQuarantine(q, qs3, env.Quarantine); err != nil {
		return nil, usagef("%v", err)
	}
	if cfg.lint != "" {
		return r, nil
	}

	switch {
	case cfg.outDir != "":
		r.plain = cfg.outDir
	case len(cfg.locations) == 0:
		r.plain, r.perClass = defaultOutDir, true
		if r.class != 0 || r.tagSchema != nil {
			r.perClass = false
		}
		if r.perClass && len(cfg.inputs) == 0 && cfg.queueURL == "" {
			// The sample run replaces its own previous output, so that
			// re-running it does not count the sample twice.
			n, err := removeSampleOutput(defaultOutDir)
			if err != nil {
				return nil, fmt.Errorf("replacing the previous sample output in ./%s/: %w", defaultOutDir, err)
			}
			if n > 0 {
				fmt.Fprintf(stderr, "securitylake: replacing the previous sample output in ./%s/ (%d files)\n", defaultOutDir, n)
			}
		}
	default:
		for _, l := range cfg.locations {
			sl, err := parseSourceLocation(l)
			if err != nil {
				return nil, usagef("--source-location %q: %v", l, err)
			}
			if sl.role != "" {
				if r.roles == nil {
					r.roles = map[string]locationRole{}
				}
				r.roles[sl.location] = locationRole{sl.role, sl.externalID}
			}
			cls, loc := sl.class, sl.location
			if cls == "" {
				if r.plain != "" {
					return nil, usagef("--source-location: more than one plain location; give CLASS=s3://… per class")
				}
				r.plain = loc
				continue
			}
			uid, err := r.classUID(cls)
			if err != nil {
				return nil, usagef("--source-location %q: class %q: %v", l, cls, err)
			}
			if _, dup := r.routes[uid]; dup {
				return nil, usagef("--source-location: class %q given twice", cls)
			}
			if !strings.HasPrefix(loc, "s3://") {
				return nil, usagef("--source-location %q: want CLASS=s3://BUCKET/PREFIX/", l)
			}
			r.routes[uid] = &route{class: uid, location: loc}
		}
		if r.plain != "" && len(r.routes) > 0 {
			return nil, usagef("--source-location: give either one plain location or CLASS=s3://… locations")
		}
		if r.plain != "" && !strings.HasPrefix(r.plain, "s3://") {
			return nil, usagef("--source-location %q: want s3://BUCKET/PREFIX/ (use --out-dir for a directory)", r.plain)
		}
		for loc := range r.roles {
			// Assume each location's role now: a role that cannot be
			// assumed fails the run before any data is read.
			if _, err := r.store(ctx, loc); err != nil {
				return nil, fmt.Errorf("--source-location %s: %w", loc, err)
			}
		}
		if r.tagSchema != nil && len(r.routes) > 1 {
			return nil, usagef("--schema: a tag-format schema describes one class; it cannot serve %d routed classes", len(r.routes))
		}
	}
	if r.class != 0 && len(r.routes) > 0 {
		if _, ok := r.routes[r.class]; !ok || len(r.routes) > 1 {
			return nil, usagef("--class with CLASS=… locations: route only that class")
		}
	}
	// Open the explicitly routed sinks now, so that configuration errors
	// surface before any data is read.
	for uid, rt := range r.routes {
		if err := r.open(ctx, rt); err != nil {
			return nil, fmt.Errorf("class %d: %w", uid, err)
		}
	}
	if r.plain != "" && r.class != 0 && !r.perClass {
		rt := &route{class: r.class, location: r.plain}
		if err := r.open(ctx, rt); err != nil {
			return nil, err
		}
		r.routes[r.class] = rt
	}
	return r, nil
}

// mappers are the --mapper values that map input to OCSF, each with the
// source preset that reads its input (the stream type and record tags).
var mappers = map[string]struct {
	mapper func([]byte) ([]byte, error)
	preset *source.Preset
}{
	"cloudtrail":  {ocsf.MapCloudTrail, nil},
	"crowdstrike": {ocsf.MapCrowdStrike, &source.PresetCrowdStrikeFDR},
	"teleport":    {ocsf.MapTeleport, &source.PresetTeleport},
	"proofpoint":  {ocsf.MapProofpoint, &source.PresetProofpointTAP},
}

// sampleClasses are the classes the CloudTrail mapper emits: the class
// directories the run without flags writes under defaultOutDir.
var sampleClasses = []int{ocsf.ClassAPIActivity, ocsf.ClassAuthentication, ocsf.ClassAccountChange}

// removeSampleOutput removes what a previous run without flags wrote under
// dir: the Parquet objects in the partition layout of its class
// directories, then the directories left empty. Anything else stays. It
// returns the number of files removed.
func removeSampleOutput(dir string) (int, error) {
	n := 0
	for _, uid := range sampleClasses {
		name, err := ocsf.ClassName(uid)
		if err != nil {
			return n, err
		}
		root := filepath.Join(dir, name)
		var dirs []string
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				return fs.SkipDir
			}
			if err != nil {
				return err
			}
			if d.IsDir() {
				dirs = append(dirs, p)
				return nil
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() || !isSampleObject(filepath.ToSlash(rel)) {
				return nil
			}
			if err := os.Remove(p); err != nil {
				return err
			}
			n++
			return nil
		})
		if err != nil {
			return n, err
		}
		// Deepest first; a directory that still holds something stays.
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := os.Remove(dirs[i]); err != nil && !errors.Is(err, fs.ErrExist) && !isNotEmpty(dirs[i]) {
				return n, err
			}
		}
	}
	return n, nil
}

// isSampleObject reports whether rel is region=…/accountId=…/eventDay=…/….parquet.
func isSampleObject(rel string) bool {
	parts := strings.Split(rel, "/")
	return len(parts) == 4 && strings.HasPrefix(parts[0], "region=") && strings.HasPrefix(parts[1], "accountId=") &&
		strings.HasPrefix(parts[2], "eventDay=") && strings.HasSuffix(parts[3], ".parquet")
}

func isNotEmpty(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) > 0
}

func isTagSchema(data []byte) bool {
	var probe struct {
		Tag *string `json:"Tag"`
	}
	return json.Unmarshal(data, &probe) == nil && probe.Tag != nil
}

func (r *runner) classUID(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return n, nil
	}
	if r.schemas != nil {
		return r.schemas.ClassUID(s)
	}
	return ocsf.ClassUID(s)
}

func (r *runner) loadAWS(ctx context.Context) (aws.Config, error) {
	if r.awsCfg != nil {
		return *r.awsCfg, nil
	}
	cfg, err := awsenv.Load(ctx, awsenv.Options{Region: r.cfg.region, RoleARN: r.cfg.roleARN, ExternalID: r.cfg.externalID})
	if err != nil {
		return aws.Config{}, err
	}
	r.awsCfg = &cfg
	r.s3c = s3.NewFromConfig(cfg, awsenv.S3Options(cfg, r.cfg.pathStyle))
	return cfg, nil
}

// locationRole is the role a source location is written with.
type locationRole struct{ arn, externalID string }

// store returns the store holding location, writing with the location's
// own role when it has one (assumed here, so that a refusal names the
// location), else with the run's credentials.
func (r *runner) store(ctx context.Context, location string) (sink.Store, error) {
	rest, ok := strings.CutPrefix(location, "s3://")
	if !ok {
		return sink.NewDir(location, r.env.DirStore)
	}
	bucket, _, _ := strings.Cut(rest, "/")
	role, hasRole := r.roles[location]
	id := bucket
	if hasRole {
		id = bucket + "\x00" + role.arn + "\x00" + role.externalID
	}
	if st, ok := r.stores[id]; ok {
		return st, nil
	}
	var client *s3.Client
	if hasRole {
		cfg, err := awsenv.Load(ctx, awsenv.Options{Region: r.cfg.region, RoleARN: role.arn, ExternalID: role.externalID})
		if err != nil {
			return nil, err
		}
		if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
			return nil, fmt.Errorf("assume role %s: %w", role.arn, err)
		}
		client = s3.NewFromConfig(cfg, awsenv.S3Options(cfg, r.cfg.pathStyle))
	} else {
		if _, err := r.loadAWS(ctx); err != nil {
			return nil, err
		}
		client = r.s3c
	}
	st, err := sink.NewS3(client, bucket, r.env.S3Store)
	if err != nil {
		return nil, err
	}
	r.stores[id] = st
	return st, nil
}

// open creates the sink and batcher of a route.
func (r *runner) open(ctx context.Context, rt *route) error {
	st, err := r.store(ctx, rt.location)
	if err != nil {
		return err
	}
	var schema *arrow.Schema
	switch {
	case r.tagSchema != nil:
		schema = r.tagSchema
	case r.schemas != nil:
		name, err := r.schemas.ClassName(rt.class)
		if err != nil {
			return err
		}
		if schema, err = r.schemas.ArrowSchema(name); err != nil {
			return err
		}
	}
	s, err := securitylake.New(st, rt.location, rt.class, lakeenv.Options(r.env), func(o *securitylake.Options) {
		o.Schema = schema
		o.Region, o.AccountID = r.cfg.region, r.cfg.accountID
		o.Quarantine = r.quarantine
		o.OnWrite = func(w securitylake.Written) { r.onWrite(rt.location, w) }
		o.DropUnknownFields = r.cfg.dropUnknown // each path logged once by the sink, at Warn
	})
	if err != nil {
		return err
	}
	rt.sink = s
	return nil
}

func (r *runner) onWrite(location string, w securitylake.Written) {
	r.mu.Lock()
	defer r.mu.Unlock()
	loc := strings.TrimSuffix(location, "/") + "/" + w.Partition
	ps := r.byLoc[loc]
	if ps == nil {
		ps = &partStat{location: location, partition: w.Partition}
		r.byLoc[loc] = ps
	}
	ps.files++
	ps.records += w.Records
	r.written.Add(1)
}

// routeFor returns the route of a class, creating it when the run decides
// locations by class.
func (r *runner) routeFor(ctx context.Context, class int) (*route, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.class != 0 && !r.perClass {
		// One class: its sink rejects the others with the reason.
		class = r.class
	}
	if rt, ok := r.routes[class]; ok {
		if rt.sink == nil {
			return nil, fmt.Errorf("no sink for class %d", class)
		}
		return rt, nil
	}
	switch {
	case r.perClass:
		name, err := ocsf.ClassName(class)
		if err != nil {
			name = strconv.Itoa(class)
		}
		rt := &route{class: class, location: filepath.Join(r.plain, name)}
		if err := r.open(ctx, rt); err != nil {
			r.routes[class] = &route{class: class}
			return nil, err
		}
		r.routes[class] = rt
		return rt, nil
	case r.plain != "" && len(r.routes) == 0:
		// One plain location without --class: the first record decides.
		rt := &route{class: class, location: r.plain}
		if err := r.open(ctx, rt); err != nil {
			return nil, err
		}
		r.routes[class] = rt
		return rt, nil
	}
	return nil, fmt.Errorf("%w: class_uid %d has no source location (the location takes %s)", lakerelay.ErrInvalidRecord, class, r.routedClasses())
}

func (r *runner) routedClasses() string {
	var out []string
	for uid := range r.routes {
		out = append(out, strconv.Itoa(uid))
	}
	sort.Strings(out)
	return "class " + strings.Join(out, ", ")
}

// quarantine sets a record aside in the quarantine file.
func (r *runner) quarantine(rec lakerelay.Record, reason error) error {
	return r.quar.Put(rec, reason)
}

// source opens the input: the --input paths, the queue or the sample.
func (r *runner) source(ctx context.Context) (lakerelay.Source, error) {
	decode := source.DecodeOptions{}
	if r.cfg.mapper == "none" {
		decode.StreamType = source.NDJSON
	}
	preset := mappers[r.cfg.mapper].preset // nil: decode as above
	switch {
	case r.cfg.queueURL != "":
		cfg, err := r.loadAWS(ctx)
		if err != nil {
			return nil, err
		}
		sqsc := sqs.NewFromConfig(cfg)
		archive, err := program.OpenArchive(r.cfg.archive, r.s3c, r.env.DirStore)
		if err != nil {
			return nil, usagef("%v", err)
		}
		return source.NewSQS(r.s3c, sqsc, r.cfg.queueURL, r.env.SQS, r.cfg.sqs.Apply, func(o *source.SQSOptions) {
			o.Decode = decode
			if preset != nil {
				preset.SQS(o)
			}
			o.Quarantine = r.quarantine
			o.Archive = archive
			o.OnError = func(error) { r.errorsN.Add(1) } // logged by the source
		})
	case len(r.cfg.inputs) > 0:
		var srcs []lakerelay.Source
		for _, p := range r.cfg.inputs {
			d, err := source.NewDir(p, r.env.Dir, func(o *source.DirOptions) {
				o.Decode = decode
				if preset != nil {
					preset.Dir(o)
				}
				o.Quarantine = r.quarantine
			})
			if err != nil {
				return nil, usagef("--input %s: %v", p, err)
			}
			srcs = append(srcs, d)
		}
		return source.Concat(srcs...), nil
	}
	var srcs []lakerelay.Source
	err := fs.WalkDir(sampleFS, "sample", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := sampleFS.Open(p)
		if err != nil {
			return err
		}
		rd, err := source.NewReader(p, f, r.env.Reader, func(o *source.ReaderOptions) {
			o.Decode = decode
			o.Quarantine = r.quarantine
			o.CloseStream = true
		})
		if err != nil {
			f.Close()
			return err
		}
		srcs = append(srcs, rd)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return source.Concat(srcs...), nil
}

// deliver reads every record, maps it, and hands it to its class's sink:
// one batch.Run, whose Router sends each record to the sink of its class.
func (r *runner) deliver(ctx context.Context) (err error) {
	src, err := r.source(ctx)
	if err != nil {
		return err
	}
	log := r.env.Logger
	router := &batch.Router{Route: r.route}
	b, err := batch.New(router, securitylake.BatchOptions, r.env.Batch, func(o *batch.Options) {
		o.MaxRecords = r.cfg.batchRecords
		o.MaxBytes = r.cfg.batchBytes
		o.MaxAge = r.cfg.batchAge
		o.MaxPendingBytes = max(o.MaxPendingBytes, 2*r.cfg.batchBytes)
		o.OnFlush = func(res batch.FlushResult) {
			if res.Err != nil {
				r.errorsN.Add(1) // logged by the batcher ("batch nacked")
			}
		}
	})
	if err != nil {
		return err
	}
	sqsSrc, _ := src.(*source.SQS)
	watched := r.env.Watch(src)
	var mapped *batch.Mapped
	if m, ok := mappers[r.cfg.mapper]; ok {
		// Records the mapper rejects are quarantined as they were read.
		// The mappers are safe for concurrent use: one maps on each core
		// while this goroutine partitions and batches. Their events are
		// compact JSON (package ocsf says so), which the quarantine then
		// writes as they are instead of parsing them again.
		mapped = batch.Map(watched, m.mapper, r.quar, func(o *batch.MapOptions) {
			o.Workers, o.CompactJSON = runtime.GOMAXPROCS(0), true
		})
	} else {
		// Records are read (split, validated) on a goroutine of their
		// own while this one partitions and batches them.
		mapped = batch.ReadAhead(watched)
	}
	rctx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	busy := func() bool { return sqsSrc != nil && sqsSrc.Unread() > 0 || mapped.Pending() > 0 }
	go watched.StopWhenIdle(rctx, r.cfg.exitIdle, busy, stopRun)
	stopProgress := r.env.Progress(rctx, 5*time.Second, func() []any {
		return []any{"records", watched.Records(), "objects", r.written.Load(), "quarantined", r.quar.Entries()}
	})
	tot, runErr := batch.Run(rctx, mapped, b, router, r.env.RunOptions(r.quar), func(o *batch.RunOptions) {
		o.OnReadError = func(err error) error {
			var oe *source.ObjectError
			if errors.As(err, &oe) {
				r.errorsN.Add(1) // logged by the source; the object stays redeliverable
				return nil
			}
			return err
		}
	})
	stopProgress()
	r.records = watched.Records()
	if tot.Nacked > 0 {
		log.Warn("records not delivered stay redeliverable", "count", tot.Nacked)
	}
	if cerr := mapped.Close(); cerr != nil { // closes src too
		log.Error("close input", "err", cerr)
	}
	qctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if qerr := r.quar.Close(qctx); qerr != nil {
		r.errorsN.Add(1)
		log.Error("quarantine", "err", qerr)
	}
	r.mu.Lock()
	routes := make([]*route, 0, len(r.routes))
	for _, rt := range r.routes {
		if rt.sink != nil {
			routes = append(routes, rt)
		}
	}
	r.mu.Unlock()
	r.fillSummary()
	r.printTable(routes)
	if runErr != nil {
		return runErr
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", context.Cause(ctx))
	}
	return nil
}

// route is the batch.Router's Route: the record's class decides its
// location (and sink); records without one are rejected with the reason.
// With one --class and one location, every record goes to that class's
// sink, whose Partition checks the class (and the rest) in the same scan:
// the record is not read twice.
func (r *runner) route(rec lakerelay.Record) (string, batch.PartitionSink, error) {
	class := r.class
	if class == 0 || r.perClass {
		var err error
		if class, err = securitylake.ClassUID(rec.Data); err != nil {
			return "", nil, err
		}
	}
	rt, err := r.routeFor(context.Background(), class)
	if err != nil {
		return "", nil, err
	}
	return rt.location, rt.sink, nil
}

func (r *runner) fillSummary() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sum.Records = r.records
	r.sum.Objects = r.written.Load()
	r.sum.Quarantined = r.quar.Entries()
	r.sum.Partitions = len(r.byLoc)
	r.sum.Errors = r.errorsN.Load()
	r.sum.Dropped = 0
	for _, rt := range r.routes {
		if rt.sink != nil {
			r.sum.Dropped += rt.sink.Stats().DroppedFields
		}
	}
}

// printTable writes the partitions, how to query them, and for local
// locations a lint of what was written.
func (r *runner) printTable(routes []*route) {
	r.mu.Lock()
	locs := make([]string, 0, len(r.byLoc))
	for l := range r.byLoc {
		locs = append(locs, l)
	}
	sort.Strings(locs)
	tw := tabwriter.NewWriter(r.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOCATION\tPARTITION\tFILES\tRECORDS")
	files, records := 0, 0
	for _, l := range locs {
		ps := r.byLoc[l]
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", ps.location, ps.partition, ps.files, ps.records)
		files += ps.files
		records += ps.records
	}
	fmt.Fprintf(tw, "total\t%d partitions\t%d\t%d\n", len(locs), files, records)
	r.mu.Unlock()
	tw.Flush()
	if q := r.quar.Entries(); q > 0 {
		fmt.Fprintf(r.stdout, "\n%d records quarantined in %s (one JSON line each, with the reason)\n", q, r.quar.Location())
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].location < routes[j].location })
	for i, rt := range routes {
		if i == 0 {
			fmt.Fprintln(r.stdout, "\nQuery it with DuckDB:")
		}
		glob := strings.TrimSuffix(rt.location, "/") + "/**/*.parquet"
		if strings.HasPrefix(rt.location, "s3://") {
			fmt.Fprintf(r.stdout, "  duckdb -c \"INSTALL httpfs; LOAD httpfs; CREATE SECRET (TYPE s3, PROVIDER credential_chain); SELECT region, accountId, eventDay, count(*) FROM read_parquet('%s', hive_partitioning=true, hive_types_autocast=false) GROUP BY ALL ORDER BY ALL\"\n", glob)
			continue
		}
		fmt.Fprintf(r.stdout, "  duckdb -c \"SELECT region, accountId, eventDay, class_name, count(*) FROM read_parquet('%s', hive_partitioning=true, hive_types_autocast=false) GROUP BY ALL ORDER BY ALL\"\n", glob)
	}
	for _, rt := range routes {
		if strings.HasPrefix(rt.location, "s3://") {
			continue
		}
		st, err := sink.NewDir(rt.location)
		if err != nil {
			continue
		}
		rep, err := securitylake.Lint(context.Background(), st, rt.location)
		if err != nil {
			fmt.Fprintf(r.stderr, "securitylake: lint %s: %v\n", rt.location, err)
			continue
		}
		fmt.Fprintf(r.stdout, "lint %s: %d files, %d rows, %d findings\n", rt.location, rep.Files, rep.Rows, len(rep.Findings))
		for _, f := range rep.Findings {
			fmt.Fprintln(r.stdout, "  "+f.String())
		}
	}
}

// lint checks a location and prints its findings.
func (r *runner) lint(ctx context.Context, location string) error {
	st, err := r.store(ctx, location)
	if err != nil {
		return err
	}
	rep, err := securitylake.Lint(ctx, st, location)
	if err != nil {
		return err
	}
	n := 0
	for _, f := range rep.Findings {
		fmt.Fprintln(r.stdout, f.String())
		if f.Severity == lakerelay.SeverityError {
			n++
		}
	}
	fmt.Fprintf(r.stdout, "%s: %d files, %d rows, %d partitions, class %d, %d findings\n", location, rep.Files, rep.Rows, rep.Partitions, rep.Class, len(rep.Findings))
	findings := len(rep.Findings)
	r.sum.Records, r.sum.Objects, r.sum.Partitions, r.sum.Findings = int64(rep.Rows), int64(rep.Files), rep.Partitions, &findings
	r.sum.Errors = int64(n)
	return nil
}

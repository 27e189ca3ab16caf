// Command collect reads security logs from S3 (announced by S3 event
// notifications through SQS, or listed under a bucket prefix) or from local
// files, and writes one record per line to standard output.
//
// Usage:
//
//	go run ./examples/collect --queue-url URL | --bucket B [--prefix P] | --dir PATH
//	  [--preset cloudtrail|crowdstrike|proofpoint|teleport|generic-json]
//	  [--stream-type auto|lines|ndjson|json|json-array|cloudwatch-logs] [--expand-field NAME]
//	  [--include-prefix P]... [--exclude-prefix P]... [--log-type PREFIX=NAME]...
//	  [--workers N] [--with-origin] [--quarantine PATH|DIR/|s3://BUCKET/PREFIX] [--exit-when-idle DURATION]
//	  [--archive DIR|s3://BUCKET/PREFIX] [--max-receive-count N] [--confirm-subscriptions]
//	  [--region R] [--role-arn ARN] [--external-id ID] [--path-style]
//	  [--log-format text|json] [--log-level L] [--metrics-addr ADDR] [--metrics-linger D]
//	  [--drop-off D] [--shutdown-timeout D]
//
// Exactly one of --queue-url (an SQS queue receiving S3 event notifications,
// directly, through SNS, or from EventBridge; CloudTrail's SNS notices too),
// --bucket (every object under --prefix, in key order) or --dir (a file, or
// every file under a directory) selects the input. Objects are gzip, zstd or
// plain, detected by content. --stream-type (default auto) says how an object
// is split into records; --expand-field NAME makes every element of the
// array in field NAME one record (auto does that for CloudTrail's
// "Records"). --preset NAME reads one vendor's logs (see source.Presets):
// it sets the stream type and fields to expand (an explicit --stream-type or
// --expand-field wins) and tags every record with the preset's log type,
// vendor and category: cloudtrail (JSON documents, "Records" expanded),
// crowdstrike (Falcon Data Replicator: gzip NDJSON, announced by FDR's own
// SQS notice, which --queue-url reads like any other), proofpoint (TAP SIEM
// API responses, their four event arrays expanded), teleport (audit events,
// JSON lines), generic-json (auto). --include-prefix and --exclude-prefix select keys (for --dir:
// paths relative to it); --log-type PREFIX=NAME tags records from keys with
// that prefix. --workers (default 4) is the number of SQS messages processed
// at once.
//
// Each output line is one record: a JSON record compacted (pretty-printed
// input comes out on one line), or a JSON string for a line that is not JSON;
// a CloudWatch Logs message that is itself JSON comes out as that JSON value,
// otherwise as a string. With --with-origin each line is
//
//	{"bucket":..,"key":..,"index":N,"log_type":..,"vendor":..,"category":..,"data":<record>}
//
// where index is the record's 0-based position in its object and log_type,
// vendor and category are omitted when none applies; CloudWatch Logs records add
// "cloudwatch":{"owner":..,"log_group":..,"log_stream":..,"id":..,"timestamp":..}.
//
// Records are acknowledged once written to standard output (in batches of
// up to 4096 records or 200 ms, through batch.Run): an SQS message is
// deleted only after every record of its objects was written. Invalid
// records (a line that is not JSON in NDJSON input) go to --quarantine: a
// file (fsynced), a directory or s3://bucket/prefix, one NDJSON entry
// {"time","reason","origin":{"bucket","key","index","offset","log_type"},"data"}
// per record (quarantine.Entry), each durable before its record is
// acknowledged; without --quarantine they fail their object, which stays in
// the queue.
//
// --archive keeps a raw copy of every object read with --queue-url or
// --bucket, unchanged, at {archive}/{bucket}/{key}: s3://bucket/prefix copies
// server-side (CopyObject), a directory receives a streamed copy. The copy
// is made before the object is read, so before its message is deleted; a
// failed copy fails the object, which stays in the queue.
//
// --max-receive-count N (with --queue-url and --quarantine), for a queue
// without a redrive policy: a message received more than N times is not
// read again; each object it names is set aside in the quarantine (reason
// "message received more than MaxReceiveCount times", data: the message
// body) and the message is deleted (0, the default: the queue's redrive
// policy decides). --confirm-subscriptions confirms an SNS subscription when its
// SubscriptionConfirmation message arrives (visiting its https
// SubscribeURL on an sns.<region>.amazonaws.com host); without it the
// message is logged with the URL to visit and stays in the queue.
//
// With --queue-url the program runs until interrupted (SIGINT, SIGTERM) or,
// with --exit-when-idle DURATION, once no record arrived for that long and
// every message received is read (as securitylake and quickstart do). With --bucket and --dir it stops at the end.
//
// Failures of single objects are logged (bucket, key, cause) and counted;
// those objects stay redeliverable. Progress is logged every 10 seconds;
// the last line on stderr is one JSON summary:
//
//	{"messages":N,"objects":N,"records":N,"skipped":N,"quarantined":N,"nacked":N,"errors":N,"drop_offs":N}
//
// where nacked counts records read but not written (at shutdown, or after
// an output error): they stay redeliverable.
//
// The exit status is 0 after a normal stop (end of input, idle, signal)
// without failures; 1 when something failed (the summary's errors: an
// object that could not be read, an invalid record without a quarantine, a
// quarantine or archive write; also when what failed stays redeliverable),
// or on a fatal error (configuration, listing, output, or a queue error that
// waiting cannot heal: the queue does not exist, access denied, invalid
// credentials; the message names the queue URL and what to check); 2 on bad
// usage. Throttling, server and network errors of the queue are named on
// stderr and retried. securitylake and quickstart exit by the same rule.
//
// AWS settings come from the standard chain (environment, shared config, SSO,
// IMDS) and honour AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SQS and
// AWS_ENDPOINT_URL_STS; --role-arn (with --external-id) assumes a role;
// path-style addressing is used with a custom S3 endpoint or --path-style.
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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/internal/awsenv"
	"github.com/lakerelay/lakerelay/internal/profiling"
	"github.com/lakerelay/lakerelay/internal/program"
	"github.com/lakerelay/lakerelay/source"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

type config struct {
	queueURL, bucket, prefix, dir string
	decode                        source.DecodeOptions
	include, exclude              multi
	logTypes                      map[string]string
	tags                          source.Tags
	workers                       int
	withOrigin                    bool
	quarantine, archive           string
	sqs                           program.SQSFlags
	flags                         program.Flags
	exitWhenIdle                  time.Duration
	aws                           awsenv.Options
	pathStyle                     bool
	profile                       profiling.Flags
}

type usageError struct{ error }

func parse(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("collect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var streamType, preset string
	var logTypes multi
	fs.StringVar(&preset, "preset", "", "read one vendor's logs: cloudtrail|crowdstrike|proofpoint|teleport|generic-json")
	fs.StringVar(&c.queueURL, "queue-url", "", "SQS queue `URL` receiving S3 event notifications")
	fs.StringVar(&c.bucket, "bucket", "", "read every object of `bucket` (backfill)")
	fs.StringVar(&c.prefix, "prefix", "", "with --bucket: only keys beginning with `P`")
	fs.StringVar(&c.dir, "dir", "", "read a local file or every file under a directory")
	fs.StringVar(&streamType, "stream-type", "auto", "auto|lines|ndjson|json|json-array|cloudwatch-logs")
	fs.StringVar(&c.decode.ExpandField, "expand-field", "", "each element of the array in field `NAME` is one record")
	fs.Var(&c.include, "include-prefix", "only read keys with this prefix (repeatable)")
	fs.Var(&c.exclude, "exclude-prefix", "skip keys with this prefix (repeatable)")
	fs.Var(&logTypes, "log-type", "`PREFIX=NAME`: tag records from keys with PREFIX (repeatable)")
	fs.IntVar(&c.workers, "workers", source.DefaultWorkers, "SQS messages processed at once")
	fs.BoolVar(&c.withOrigin, "with-origin", false, "wrap each record with its bucket, key, index and log type")
	fs.StringVar(&c.quarantine, "quarantine", "", "where invalid records go: a file, a directory or s3://bucket/prefix")
	fs.StringVar(&c.archive, "archive", "", "keep a raw copy of every object read: a directory or s3://bucket/prefix")
	c.sqs.Register(fs)
	fs.DurationVar(&c.exitWhenIdle, "exit-when-idle", 0, "with --queue-url: exit after this long without a record, once every message received is read")
	fs.StringVar(&c.aws.Region, "region", "", "AWS region")
	fs.StringVar(&c.aws.RoleARN, "role-arn", "", "assume this IAM role")
	fs.StringVar(&c.aws.ExternalID, "external-id", "", "external ID for --role-arn")
	fs.BoolVar(&c.pathStyle, "path-style", false, "force path-style S3 addressing")
	c.profile.Register(fs)
	c.flags.Register(fs)
	if err := fs.Parse(args); err != nil {
		return c, usageError{err}
	}
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	n := 0
	for _, s := range []string{c.queueURL, c.bucket, c.dir} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		errs = append(errs, errors.New("give exactly one of --queue-url, --bucket, --dir"))
	}
	if err := c.sqs.Validate(c.queueURL != "", c.quarantine != ""); err != nil {
		errs = append(errs, err)
	}
	if c.archive != "" && c.dir != "" {
		errs = append(errs, errors.New("--archive needs --queue-url or --bucket"))
	}
	if c.prefix != "" && c.bucket == "" {
		errs = append(errs, errors.New("--prefix needs --bucket"))
	}
	if c.exitWhenIdle < 0 || c.exitWhenIdle > 0 && c.queueURL == "" {
		errs = append(errs, errors.New("--exit-when-idle needs --queue-url and a positive duration"))
	}
	if c.workers < 1 {
		errs = append(errs, fmt.Errorf("--workers %d: must be at least 1", c.workers))
	}
	c.decode.StreamType = source.StreamType(streamType)
	if preset != "" {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if p, err := source.PresetNamed(preset); err != nil {
			errs = append(errs, fmt.Errorf("--preset: %v", err))
		} else {
			var o source.DirOptions
			p.Dir(&o)
			if !set["stream-type"] {
				c.decode.StreamType = o.Decode.StreamType
			}
			if !set["expand-field"] {
				c.decode.ExpandFields = o.Decode.ExpandFields
			}
			c.tags = o.Tags
		}
	}
	if err := c.decode.Validate(); err != nil {
		errs = append(errs, err)
	}
	c.logTypes = map[string]string{}
	for _, lt := range logTypes {
		p, name, ok := strings.Cut(lt, "=")
		if !ok || name == "" {
			errs = append(errs, fmt.Errorf("--log-type %q: want PREFIX=NAME", lt))
			continue
		}
		c.logTypes[p] = name
	}
	if err := c.aws.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.flags.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return c, usageError{err}
	}
	return c, nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type summary struct {
	Messages    int64 `json:"messages"`
	Objects     int64 `json:"objects"`
	Records     int64 `json:"records"`
	Skipped     int64 `json:"skipped"`
	Quarantined int64 `json:"quarantined"`
	Nacked      int64 `json:"nacked"`
	Errors      int64 `json:"errors"`
	DropOffs    int64 `json:"drop_offs"`
}

type statser interface {
	lakerelay.Source
	Stats() source.Stats
}

func run(args []string, stdout, stderr io.Writer) int {
	stderr = &program.LockedWriter{W: stderr}
	c, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		program.PrintSummary(stderr, summary{})
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "collect: %v\n", err)
		program.PrintSummary(stderr, summary{})
		return 2
	}
	env, err := program.Start("collect", c.flags, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "collect: %v\n", err)
		program.PrintSummary(stderr, summary{})
		return 2
	}
	sum, err := collect(c, env, stdout)
	if err != nil {
		env.Fatal(err)
	}
	env.Close()
	sum.DropOffs = env.DropOffs()
	program.PrintSummary(stderr, sum)
	return program.Status(err, sum.Errors)
}

// collect copies records to stdout until the input ends, the program is
// idle or interrupted (nil), or a fatal error.
func collect(c config, env *program.Env, stdout io.Writer) (sum summary, err error) {
	ctx, stop := program.Signals()
	defer stop()
	stopProfile, err := c.profile.Start()
	if err != nil {
		return sum, err
	}
	defer func() { err = errors.Join(err, stopProfile()) }()

	var s3c *s3.Client
	var cfg aws.Config
	if c.dir == "" || strings.HasPrefix(c.quarantine, "s3://") {
		if cfg, err = awsenv.Load(ctx, c.aws); err != nil {
			return sum, err
		}
		s3c = s3.NewFromConfig(cfg, awsenv.S3Options(cfg, c.pathStyle))
	}
	q, err := program.NewQuarantine(c.quarantine, s3c, env.Quarantine)
	if err != nil {
		return sum, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err = errors.Join(err, q.Close(cctx))
	}()
	qfn := q.Func()

	archive, err := program.OpenArchive(c.archive, s3c, env.DirStore)
	if err != nil {
		return sum, err
	}

	// The output copies each record into its buffer before the record is
	// settled, and batch.Run settles records in about the order read: the
	// sources may reuse each record's memory once it is settled.
	c.decode.ReuseData = true
	var src statser
	var sqsSrc *source.SQS
	switch {
	case c.dir != "":
		src, err = source.NewDir(c.dir, env.Dir, func(o *source.DirOptions) {
			o.Decode, o.LogTypes, o.Quarantine, o.Tags = c.decode, c.logTypes, qfn, c.tags
			o.IncludePrefixes, o.ExcludePrefixes = c.include, c.exclude
		})
	case c.bucket != "":
		src, err = source.NewList(s3c, c.bucket, c.prefix, env.List, func(o *source.ListOptions) {
			o.Decode, o.LogTypes, o.Quarantine, o.Tags = c.decode, c.logTypes, qfn, c.tags
			o.Archive = archive
			o.IncludePrefixes, o.ExcludePrefixes = c.include, c.exclude
		})
	default:
		// The source logs each failure itself (bucket, key, message id,
		// problem class) through env.Logger.
		sqsSrc, err = source.NewSQS(s3c, sqs.NewFromConfig(cfg), c.queueURL, env.SQS, c.sqs.Apply, func(o *source.SQSOptions) {
			o.Workers = c.workers
			o.Decode, o.LogTypes, o.Quarantine, o.Tags = c.decode, c.logTypes, qfn, c.tags
			o.IncludePrefixes, o.ExcludePrefixes = c.include, c.exclude
			o.Archive = archive
		})
		src = sqsSrc
	}
	if err != nil {
		return sum, err
	}

	out := newOutput(stdout, c)
	b, err := batch.New(out, env.Batch, func(o *batch.Options) {
		// Small, frequent batches: a record is written (and acknowledged)
		// within 200 ms, in the order read.
		o.MaxRecords, o.MaxBytes, o.MaxAge = 4096, 256<<20, 200*time.Millisecond
		o.MaxPendingBytes = 512 << 20
		o.FlushConcurrency = 1
	})
	if err != nil {
		return sum, err
	}
	watched := env.Watch(src)
	rctx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	if sqsSrc != nil {
		go watched.StopWhenIdle(rctx, c.exitWhenIdle, func() bool { return sqsSrc.Unread() > 0 || sqsSrc.Err() != nil }, stopRun)
	}
	stopProgress := env.Progress(rctx, 10*time.Second, func() []any {
		st := src.Stats()
		return []any{"messages", st.Messages, "objects", st.Objects, "records", st.Records, "errors", st.Errors}
	})
	tot, runErr := batch.Run(rctx, watched, b, nil, env.RunOptions(q.Quarantiner()), func(o *batch.RunOptions) {
		o.OnReadError = func(err error) error {
			if isObjectError(err) {
				return nil // logged and counted by the source; the object stays redeliverable
			}
			return err
		}
	})
	stopProgress()
	src.Close()
	st := src.Stats()
	sum = summary{Messages: st.Messages, Objects: st.Objects, Records: st.Records, Skipped: st.Skipped, Quarantined: st.Quarantined, Nacked: tot.Nacked, Errors: st.Errors}
	if q != nil {
		sum.Quarantined = q.Entries()
	}
	if runErr != nil && !isObjectError(runErr) {
		sum.Errors++
	}
	return sum, runErr
}

// output writes each batch to stdout, one line per record, and returns
// once the lines were handed to the operating system: then the batcher
// acknowledges them. A failed write is permanent (a closed pipe does not
// heal), which ends the run.
type output struct {
	w          *bufio.Writer
	line       []byte
	withOrigin bool
}

func newOutput(stdout io.Writer, c config) *output {
	return &output{w: bufio.NewWriterSize(stdout, 256<<10), withOrigin: c.withOrigin}
}

// WriteBatch is called by one flush at a time (FlushConcurrency 1).
func (o *output) WriteBatch(_ context.Context, _ string, records []lakerelay.Record) error {
	for _, r := range records {
		// Records of the JSON stream types (also when detected) are
		// valid compact JSON: the decoder validated and compacted them.
		var err error
		if r.JSON && !o.withOrigin {
			// The line is the record as it is: no copy on the way.
			if _, err = o.w.Write(r.Data); err == nil {
				err = o.w.WriteByte('\n')
			}
		} else {
			o.line = render(o.line[:0], r, o.withOrigin, r.JSON)
			o.line = append(o.line, '\n')
			_, err = o.w.Write(o.line)
		}
		if err != nil {
			return lakerelay.Permanent(fmt.Errorf("write output: %w", err))
		}
	}
	if err := o.w.Flush(); err != nil {
		return lakerelay.Permanent(fmt.Errorf("write output: %w", err))
	}
	return nil
}

func isObjectError(err error) bool {
	var oe *source.ObjectError
	return errors.As(err, &oe)
}

// render appends the output line of r (without newline). compact says
// that r.Data already is one compact JSON value (what the JSON stream types
// deliver), so it is copied as it is.
func render(dst []byte, r lakerelay.Record, withOrigin, compact bool) []byte {
	appendData := source.AppendJSON
	if compact {
		appendData = func(dst, data []byte) []byte { return append(dst, data...) }
	}
	if !withOrigin {
		return appendData(dst, r.Data)
	}
	o := r.Origin
	dst = append(dst, `{"bucket":`...)
	dst = appendString(dst, o.Bucket)
	dst = append(dst, `,"key":`...)
	dst = appendString(dst, o.Key)
	dst = fmt.Appendf(dst, `,"index":%d`, o.Index)
	for _, f := range []struct{ name, v string }{{"log_type", o.LogType}, {"vendor", o.Vendor}, {"category", o.Category}} {
		if f.v != "" {
			dst = append(dst, `,"`+f.name+`":`...)
			dst = appendString(dst, f.v)
		}
	}
	if o.CloudWatch != nil {
		cw, _ := json.Marshal(o.CloudWatch)
		dst = append(dst, `,"cloudwatch":`...)
		dst = append(dst, cw...)
	}
	dst = append(dst, `,"data":`...)
	dst = appendData(dst, r.Data)
	return append(dst, '}')
}

func appendString(dst []byte, s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return append(dst, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...)
}

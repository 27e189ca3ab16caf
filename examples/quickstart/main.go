// Command quickstart is the smallest complete pipeline: S3 objects announced
// on an SQS queue are read, batched and delivered to an Amazon Security Lake
// custom source as zstd Parquet; each SQS message is deleted only after
// every record from its objects is stored or quarantined.
//
// Usage:
//
//	go run ./examples/quickstart --queue-url URL --source-location s3://BUCKET/ext/SOURCE/
//	  [--class 6003] [--quarantine PATH|DIR/|s3://BUCKET/PREFIX] [--exit-when-idle 1m]
//	  [--archive DIR|s3://BUCKET/PREFIX] [--max-receive-count N] [--confirm-subscriptions]
//	  [--log-format text|json] [--log-level debug|info|warn|error] [--metrics-addr ADDR]
//	  [--metrics-linger D] [--drop-off D] [--shutdown-timeout D]
//
// The input objects must hold OCSF events of one class (NDJSON, a JSON
// array, ...). A record that is not such an event (another class, no time)
// goes to --quarantine with the reason: a file (fsynced), a directory or
// s3://bucket/prefix (see quarantine.Open), one NDJSON entry per record,
// acknowledged only once its entry is durable. Without --quarantine such a
// record is negatively acknowledged: its message stays in the queue (and its
// redrive policy moves it to the DLQ). The quarantine and the archive must
// lie outside the source location, which Security Lake reads as Parquet.
//
// --archive keeps a raw copy of every object read, unchanged, at
// {archive}/{bucket}/{key} (server-side CopyObject to S3, or streamed to a
// directory), made before its message is deleted; a failed copy leaves the
// message in the queue.
//
// --max-receive-count N (with --quarantine), for a queue without a redrive
// policy: a message received more than N times is not read again; each
// object it names is set aside in the quarantine (reason "message received
// more than MaxReceiveCount times", data: the message body) and the
// message is deleted (0, the default: the queue's redrive policy decides).
// --confirm-subscriptions confirms an SNS subscription when its
// SubscriptionConfirmation message arrives (visiting its https
// SubscribeURL on an sns.<region>.amazonaws.com host); without it the
// message is logged with the URL to visit and stays in the queue.
//
// The shared flags (see internal/program): --log-format and --log-level set
// the logs on stderr; --metrics-addr serves Prometheus text at /metrics and
// /healthz (503 once the run failed; --metrics-linger keeps serving that
// long after a failure); --drop-off D warns when no record arrived for D
// and counts it in the summary; --shutdown-timeout (default 25s) bounds
// storing what was read after SIGINT/SIGTERM.
//
// The last line on stderr is one JSON summary
// {"records":N,"objects":N,"quarantined":N,"nacked":N,"errors":N,"drop_offs":N}
// (nacked: records left in the queue, for example not admitted at shutdown);
// the exit code is 1 on failure, 2 on bad usage.
//
// The garbage collector's target is 50 % (GOGC=50) unless the GOGC
// environment variable sets another, as in the securitylake program: the
// records held until their batch is written are most of the heap.
//
// --cpuprofile FILE and --memprofile FILE write a CPU profile and a heap
// profile of the run, to read with `go tool pprof`, and --trace FILE an
// execution trace (where goroutines wait), to read with `go tool trace`
// (see BENCHMARKS.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/internal/awsenv"
	"github.com/lakerelay/lakerelay/internal/profiling"
	"github.com/lakerelay/lakerelay/internal/program"
	"github.com/lakerelay/lakerelay/internal/program/lakeenv"
	"github.com/lakerelay/lakerelay/sink"
	"github.com/lakerelay/lakerelay/sink/securitylake"
	"github.com/lakerelay/lakerelay/source"
)

func main() {
	program.GCPercent(50) // see the package doc
	os.Exit(run(os.Args[1:], os.Stderr))
}

type config struct {
	queueURL, location, bucket, quarantine, archive string
	class                                           int
	idle                                            time.Duration
	flags                                           program.Flags
	sqs                                             program.SQSFlags
}

func run(args []string, stderr io.Writer) int {
	stderr = &program.LockedWriter{W: stderr} // logs come from several goroutines
	var c config
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.queueURL, "queue-url", "", "SQS queue of S3 event notifications (required)")
	fs.StringVar(&c.location, "source-location", "", "Security Lake custom source location, s3://bucket/ext/source/ (required)")
	fs.IntVar(&c.class, "class", 6003, "OCSF class_uid of the events")
	fs.StringVar(&c.quarantine, "quarantine", "", "where rejected records go: a file, a directory or s3://bucket/prefix")
	fs.StringVar(&c.archive, "archive", "", "keep a raw copy of every object read: a directory or s3://bucket/prefix")
	fs.DurationVar(&c.idle, "exit-when-idle", 0, "stop after this long without a record (0: run until interrupted)")
	c.sqs.Register(fs)
	c.flags.Register(fs)
	var prof profiling.Flags
	prof.Register(fs)
	if err := fs.Parse(args); err != nil {
		program.PrintSummary(stderr, summary{})
		return 2
	}
	var ok bool
	c.bucket, _, ok = strings.Cut(strings.TrimPrefix(c.location, "s3://"), "/")
	if c.queueURL == "" || !strings.HasPrefix(c.location, "s3://") || !ok || c.bucket == "" {
		fmt.Fprintln(stderr, "quickstart: --queue-url and --source-location s3://bucket/prefix/ are required")
		program.PrintSummary(stderr, summary{})
		return 2
	}
	err := c.sqs.Validate(true, c.quarantine != "")
	for _, l := range [][2]string{{"--quarantine", c.quarantine}, {"--archive", c.archive}} {
		err = errors.Join(err, program.Outside([]string{c.location}, l[0], l[1]))
	}
	if err != nil {
		fmt.Fprintln(stderr, "quickstart:", err)
		program.PrintSummary(stderr, summary{})
		return 2
	}
	env, err := program.Start("quickstart", c.flags, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "quickstart:", err)
		program.PrintSummary(stderr, summary{})
		return 2
	}
	stopProfile, err := prof.Start()
	if err != nil {
		env.Fatal(err)
		env.Close()
		program.PrintSummary(stderr, summary{Errors: 1})
		return 1
	}
	ctx, stop := program.Signals()
	defer stop()
	sum, err := pipeline(ctx, c, env)
	err = errors.Join(err, stopProfile())
	if err != nil {
		env.Fatal(err)
	}
	env.Close()
	sum.DropOffs = env.DropOffs()
	program.PrintSummary(stderr, sum)
	return program.Status(err, sum.Errors)
}

type summary struct {
	Records     int64 `json:"records"`
	Objects     int64 `json:"objects"`
	Quarantined int64 `json:"quarantined"`
	Nacked      int64 `json:"nacked"`
	Errors      int64 `json:"errors"`
	DropOffs    int64 `json:"drop_offs"`
}

func pipeline(ctx context.Context, c config, env *program.Env) (summary, error) {
	var sum summary
	log := env.Logger
	cfg, err := awsenv.Load(ctx, awsenv.Options{})
	if err != nil {
		return sum, err
	}
	s3c := s3.NewFromConfig(cfg, awsenv.S3Options(cfg, false))
	store, err := sink.NewS3(s3c, c.bucket, env.S3Store)
	if err != nil {
		return sum, err
	}
	q, err := program.NewQuarantine(c.quarantine, s3c, env.Quarantine)
	if err != nil {
		return sum, err
	}
	qfn := q.Func()
	var objects, failed atomic.Int64
	lake, err := securitylake.New(store, c.location, c.class, lakeenv.Options(env), func(o *securitylake.Options) {
		o.Quarantine = qfn
		o.OnWrite = func(w securitylake.Written) {
			objects.Add(1)
			log.Info("wrote", "location", w.Location, "records", w.Records)
		}
	})
	if err != nil {
		return sum, err
	}
	b, err := batch.New(lake, securitylake.BatchOptions, env.Batch, func(o *batch.Options) {
		if c.idle > 0 && c.idle < o.MaxAge {
			o.MaxAge = c.idle / 2 // flush before the idle stop
		}
		o.OnFlush = func(res batch.FlushResult) {
			if res.Err != nil {
				failed.Add(1) // logged by the batcher
			}
		}
	})
	if err != nil {
		return sum, err
	}
	archive, err := program.OpenArchive(c.archive, s3c, env.DirStore)
	if err != nil {
		return sum, err
	}
	sqsSrc, err := source.NewSQS(s3c, sqs.NewFromConfig(cfg), c.queueURL, env.SQS, c.sqs.Apply, func(o *source.SQSOptions) {
		o.Quarantine = qfn
		o.Archive = archive
		o.OnError = func(error) { failed.Add(1) } // logged by the source
	})
	if err != nil {
		return sum, err
	}
	src := env.Watch(sqsSrc)
	rctx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go src.StopWhenIdle(rctx, c.idle, func() bool { return sqsSrc.Unread() > 0 }, stopRun)
	tot, runErr := batch.Run(rctx, src, b, lake, env.RunOptions(q.Quarantiner()))
	runErr = errors.Join(runErr, src.Close())
	if q != nil {
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		runErr = errors.Join(runErr, q.Close(cctx))
		cancel()
		sum.Quarantined = q.Entries()
	}
	// Nacked records (not admitted at shutdown, or in a batch that failed)
	// stay in the queue; a failed batch is counted in errors.
	sum.Records, sum.Objects, sum.Nacked, sum.Errors = tot.In, objects.Load(), tot.Nacked, failed.Load()
	return sum, runErr
}

// Command quickstart is the smallest complete pipeline: S3 objects announced
// on an SQS queue are read, batched and delivered to an Amazon Security Lake
// custom source as zstd Parquet; each SQS message is deleted only after
// every record from its objects is stored.
//
// Usage:
//
//	go run ./examples/quickstart --queue-url URL --source-location s3://BUCKET/ext/SOURCE/ [--class 6003] [--exit-when-idle 1m]
//
// The input objects must hold OCSF events of one class (NDJSON, a JSON
// array, ...). Progress and a one-line JSON summary are printed on stderr;
// the exit code is 1 on failure, 2 on bad usage.
//
// --cpuprofile FILE and --memprofile FILE write a CPU profile and a heap
// profile of the run, to read with `go tool pprof` (see BENCHMARKS.md).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/internal/awsenv"
	"github.com/lakerelay/lakerelay/internal/profiling"
	"github.com/lakerelay/lakerelay/sink"
	"github.com/lakerelay/lakerelay/sink/securitylake"
	"github.com/lakerelay/lakerelay/source"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	stderr = &lockedWriter{w: stderr} // progress comes from several goroutines
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	queueURL := fs.String("queue-url", "", "SQS queue of S3 event notifications (required)")
	location := fs.String("source-location", "", "Security Lake custom source location, s3://bucket/ext/source/ (required)")
	class := fs.Int("class", 6003, "OCSF class_uid of the events")
	idle := fs.Duration("exit-when-idle", 0, "stop after this long without a record (0: run until interrupted)")
	var prof profiling.Flags
	prof.Register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	bucket, _, ok := strings.Cut(strings.TrimPrefix(*location, "s3://"), "/")
	if *queueURL == "" || !strings.HasPrefix(*location, "s3://") || !ok || bucket == "" {
		fmt.Fprintln(stderr, "quickstart: --queue-url and --source-location s3://bucket/prefix/ are required")
		return 2
	}
	stopProfile, err := prof.Start()
	if err != nil {
		fmt.Fprintln(stderr, "quickstart:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := pipeline(ctx, *queueURL, bucket, *location, *class, *idle, stderr)
	err = errors.Join(err, stopProfile())
	line, _ := json.Marshal(sum)
	if err != nil {
		fmt.Fprintln(stderr, "quickstart:", err)
	}
	fmt.Fprintln(stderr, string(line))
	if err != nil || sum.Errors > 0 {
		return 1
	}
	return 0
}

type summary struct {
	Records     int64 `json:"records"`
	Objects     int64 `json:"objects"`
	Quarantined int64 `json:"quarantined"`
	Errors      int64 `json:"errors"`
}

func pipeline(ctx context.Context, queueURL, bucket, location string, class int, idle time.Duration, stderr io.Writer) (summary, error) {
	var sum summary
	cfg, err := awsenv.Load(ctx, awsenv.Options{})
	if err != nil {
		return sum, err
	}
	s3c := s3.NewFromConfig(cfg, awsenv.S3Options(cfg, false))
	store, err := sink.NewS3(s3c, bucket)
	if err != nil {
		return sum, err
	}
	var quarantined, failed atomic.Int64
	quarantine := func(r lakerelay.Record, reason error) error {
		quarantined.Add(1)
		fmt.Fprintf(stderr, "quarantined %s: %v\n", r.Origin, reason) // origin and reason only, never contents
		return nil
	}
	lake, err := securitylake.New(store, location, class, func(o *securitylake.Options) {
		o.Quarantine = quarantine
		o.OnWrite = func(w securitylake.Written) {
			sum.Objects++
			fmt.Fprintf(stderr, "wrote %s (%d records)\n", w.Location, w.Records)
		}
	})
	if err != nil {
		return sum, err
	}
	b, err := batch.New(lake, securitylake.BatchOptions, func(o *batch.Options) {
		o.FlushConcurrency = 1 // OnWrite above counts without a lock
		if idle > 0 && idle < o.MaxAge {
			o.MaxAge = idle / 2 // flush before the idle stop
		}
	})
	if err != nil {
		return sum, err
	}
	src, err := source.NewSQS(s3c, sqs.NewFromConfig(cfg), queueURL, func(o *source.SQSOptions) {
		o.Quarantine = quarantine
		o.OnError = func(err error) { failed.Add(1); fmt.Fprintln(stderr, err) }
	})
	if err != nil {
		return sum, err
	}
	runErr := loop(ctx, src, b, lake, quarantine, idle, &sum.Records)
	closeCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	runErr = errors.Join(runErr, b.Close(closeCtx), src.Close())
	sum.Quarantined, sum.Errors = quarantined.Load(), failed.Load()
	return sum, runErr
}

// loop moves records from the source to the batcher until ctx ends or the
// source is idle for idle.
func loop(ctx context.Context, src lakerelay.Source, b *batch.Batcher, lake *securitylake.Sink, q lakerelay.Quarantine, idle time.Duration, n *int64) error {
	for {
		rctx, cancel := ctx, context.CancelFunc(func() {})
		if idle > 0 {
			rctx, cancel = context.WithTimeout(ctx, idle)
		}
		r, err := src.Read(rctx)
		cancel()
		switch {
		case err == nil:
		case ctx.Err() != nil, errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.EOF):
			return nil // interrupted or idle: a normal stop
		default:
			return err
		}
		*n++
		p, err := lake.Partition(r)
		if err != nil { // not Security Lake material: set aside with the reason
			r.Settle(q(r, err))
			continue
		}
		if err := b.Add(ctx, p, r); err != nil {
			r.Settle(err) // not taken: stays redeliverable
		}
	}
}

// lockedWriter serialises writes from the source's workers, the batcher's
// flushes and the main loop.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

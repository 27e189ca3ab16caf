// Package program is the plumbing the example programs share: the
// operational flags (--log-format, --log-level, --metrics-addr,
// --metrics-partitions, --metrics-linger, --drop-off, --shutdown-timeout),
// the logger, the metrics registry and its HTTP server, the drop-off alarm,
// signal handling, progress lines and the JSON summary that is the last
// line on stderr.
//
// A program that reads an SQS queue also registers [SQSFlags]
// (--max-receive-count, --confirm-subscriptions), validates them against
// its --queue-url and quarantine, and passes [SQSFlags.Apply] to
// source.NewSQS, so that every such program takes them alike.
//
// A program registers [Flags] on its flag set, calls [Start] once the flags
// are parsed, builds its components with the Env's option functions
// ([Env.SQS], [Env.List], [Env.Dir], [Env.Reader], [Env.Batch],
// [Env.S3Store], [Env.DirStore], [Env.JSONL], [Env.Lake],
// [Env.Quarantine]: the program's Logger and Observer; the sources report
// records and bytes in, which also feed the drop-off alarm), opens
// --quarantine with [NewQuarantine] and --archive with [OpenArchive], wraps
// its source with [Env.Watch] when it needs the idle time or a record count
// for progress lines, hands [Env.RunOptions] to batch.Run, calls
// [Env.Fatal] when the run ends with a fatal error, and [Env.Close] before
// it prints its summary with [PrintSummary].
package program

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/metrics"
)

// Flags are the operational flags every program takes.
type Flags struct {
	// LogFormat is --log-format: text (default) or json.
	LogFormat string
	// LogLevel is --log-level: debug, info (default), warn or error.
	LogLevel string
	// MetricsAddr is --metrics-addr: where /metrics and /healthz are
	// served ("" = not served), e.g. 127.0.0.1:9464.
	MetricsAddr string
	// MetricsPartitions is --metrics-partitions: the records and bytes out
	// of the batcher and the sinks carry a partition label (one series per
	// partition: Security Lake has one per day, region and account).
	MetricsPartitions bool
	// MetricsLinger is --metrics-linger: after a run that ended with a
	// fatal error, how long /metrics and /healthz (503) stay served before
	// the program exits, so that a scraper sees the final state.
	MetricsLinger time.Duration
	// DropOff is --drop-off: the alarm fires when no record arrived for
	// this long (0 = off).
	DropOff time.Duration
	// ShutdownTimeout is --shutdown-timeout: how long the program may take
	// to store what it read once reading stopped (batch.Run's
	// ShutdownTimeout).
	ShutdownTimeout time.Duration
}

// Register adds the flags to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.LogFormat, "log-format", "text", "log format on stderr: text|json")
	fs.StringVar(&f.LogLevel, "log-level", "info", "least level logged: debug|info|warn|error")
	fs.StringVar(&f.MetricsAddr, "metrics-addr", "", "serve Prometheus /metrics and /healthz on `ADDR` (e.g. 127.0.0.1:9464)")
	fs.BoolVar(&f.MetricsPartitions, "metrics-partitions", false, "label the records and bytes out with their partition (a series per partition)")
	fs.DurationVar(&f.MetricsLinger, "metrics-linger", 0, "after a fatal error, keep serving /metrics and /healthz for this long")
	fs.DurationVar(&f.DropOff, "drop-off", 0, "warn when no record arrived for this long (0: off)")
	fs.DurationVar(&f.ShutdownTimeout, "shutdown-timeout", batch.DefaultShutdownTimeout, "time to store what was read once reading stopped")
}

// Validate reports every problem of the flags.
func (f *Flags) Validate() error {
	var errs []error
	if f.LogFormat != "text" && f.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q: want text or json", f.LogFormat))
	}
	if _, err := parseLevel(f.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if f.DropOff < 0 {
		errs = append(errs, fmt.Errorf("--drop-off %s: must not be negative", f.DropOff))
	}
	if f.MetricsLinger < 0 {
		errs = append(errs, fmt.Errorf("--metrics-linger %s: must not be negative", f.MetricsLinger))
	}
	if f.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--shutdown-timeout %s: must be positive", f.ShutdownTimeout))
	}
	return errors.Join(errs...)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	switch strings.ToLower(s) {
	case "debug":
		l = slog.LevelDebug
	case "info":
		l = slog.LevelInfo
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		return l, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// Env is what a running program shares with its components.
type Env struct {
	// Name is the program's name, the Source label of its metrics.
	Name string
	// Logger writes to stderr in the --log-format at --log-level.
	Logger *slog.Logger
	// Observer receives every measurement: the registry, and the drop-off
	// alarm's view of records in.
	Observer lakerelay.Observer
	// Registry holds the metrics served at --metrics-addr.
	Registry *metrics.Registry

	flags    Flags
	dropOff  *metrics.DropOff
	dropOffs atomic.Int64
	fatal    atomic.Bool
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	serveErr chan error
}

// Start builds the logger (writing to stderr, which must be safe for
// concurrent use or is made so here), the registry, the drop-off alarm,
// and starts serving metrics when --metrics-addr is set. A listen error is
// returned at once. Close stops what Start started.
func Start(name string, f Flags, stderr io.Writer) (*Env, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	level, _ := parseLevel(f.LogLevel)
	hopts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(stderr, hopts)
	if f.LogFormat == "json" {
		h = slog.NewJSONHandler(stderr, hopts)
	}
	e := &Env{Name: name, Logger: slog.New(h).With("program", name), Registry: metrics.NewRegistry(func(o *metrics.RegistryOptions) { o.Partitions = f.MetricsPartitions }), flags: f}
	e.Observer = e.Registry
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	if f.DropOff > 0 {
		// The whole source, and each log type from its first record on.
		d, err := metrics.NewDropOff(metrics.DropOffOptions{Default: f.DropOff, Observer: e.Registry, OnChange: e.onDropOff})
		if err != nil {
			cancel()
			return nil, err
		}
		d.Watch(name, "", f.DropOff, time.Now())
		e.dropOff = d
		e.Observer = d.Observer(e.Registry, nil)
		interval := min(max(f.DropOff/4, 10*time.Millisecond), time.Minute)
		e.wg.Go(func() { d.Run(ctx, interval) })
	}
	e.Registry.Gauge(lakerelay.MetricSourceUp, 1, lakerelay.Labels{Source: name})
	if f.MetricsAddr != "" {
		ln, err := listen(f.MetricsAddr)
		if err != nil {
			cancel()
			e.wg.Wait()
			return nil, err
		}
		e.Logger.Info("serving metrics", "addr", ln.Addr().String(), "paths", "/metrics /healthz")
		e.serveErr = make(chan error, 1)
		e.wg.Go(func() { e.serveErr <- e.Registry.ServeListener(ctx, ln) })
	}
	return e, nil
}

func (e *Env) onDropOff(ev metrics.DropOffEvent) {
	attrs := []any{"source", ev.Source}
	if ev.LogType != "" {
		attrs = append(attrs, "log_type", ev.LogType)
	}
	if ev.Resumed {
		e.Logger.Warn("records resumed", append(attrs, "after", ev.At.Sub(ev.Last).Round(time.Millisecond).String())...)
		return
	}
	e.dropOffs.Add(1)
	e.Logger.Warn("drop-off: no record", append(attrs, "for", ev.At.Sub(ev.Last).Round(time.Millisecond).String(), "limit", ev.Limit.String())...)
}

// DropOffs is the number of times the drop-off alarm fired.
func (e *Env) DropOffs() int64 { return e.dropOffs.Load() }

// Fatal marks the program unhealthy (/healthz answers 503 with the reason,
// lakerelay_source_up is 0) and logs err at Error. Call it when the source
// or batch.Run ended with a fatal error.
func (e *Env) Fatal(err error) {
	e.fatal.Store(true)
	e.Registry.Gauge(lakerelay.MetricSourceUp, 0, lakerelay.Labels{Source: e.Name})
	e.Registry.SetUnhealthy(err.Error())
	e.Logger.Error("fatal", "err", err)
}

// RunOptions sets batch.Run's shutdown deadline (--shutdown-timeout) and
// quarantine (nil: none).
func (e *Env) RunOptions(q batch.Quarantiner) func(*batch.RunOptions) {
	return func(o *batch.RunOptions) {
		o.ShutdownTimeout = e.flags.ShutdownTimeout
		if q != nil {
			o.Quarantine = q
		}
	}
}

// Close stops the drop-off alarm and the metrics server; after a fatal
// error it first keeps serving for --metrics-linger.
func (e *Env) Close() error {
	if e.fatal.Load() && e.serveErr != nil && e.flags.MetricsLinger > 0 {
		time.Sleep(e.flags.MetricsLinger)
	}
	e.cancel()
	e.wg.Wait()
	if e.serveErr != nil {
		return <-e.serveErr
	}
	return nil
}

// Progress calls line every interval until ctx ends or the returned stop
// is called, and logs what it returns at Info as "progress".
func (e *Env) Progress(ctx context.Context, interval time.Duration, line func() []any) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				e.Logger.Info("progress", line()...)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// Signals returns a context that ends at SIGINT or SIGTERM; batch.Run then
// stops reading and stores what it read within its shutdown deadline.
func Signals() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// Status is the exit status of a run that ended with err (nil when it
// stopped normally: end of input, idle, signal) after errors failures
// were counted (objects that could not be read, batches not stored,
// quarantine entries not written, records not delivered): 1 when there is
// either, else 0. Every program that reads and delivers exits by it, so a
// failure is never reported with status 0, even when what failed stays
// redeliverable. (Bad usage, 2, is decided before a run.)
func Status(err error, errors int64) int {
	if err != nil || errors > 0 {
		return 1
	}
	return 0
}

// PrintSummary writes v as one JSON line: a program's last stderr line.
func PrintSummary(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"error":%q}`, err.Error()))
	}
	fmt.Fprintf(w, "%s\n", b)
}

// LockedWriter serialises writes to W, for a stderr shared by goroutines.
type LockedWriter struct {
	mu sync.Mutex
	W  io.Writer
}

// Write writes p to W under the lock.
func (l *LockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.W.Write(p)
}

// GCPercent sets the garbage collector's target (debug.SetGCPercent) to
// percent unless the GOGC environment variable is set, which then decides as
// usual. A program whose heap is mostly records held until their batch is
// written calls it first thing in main: with 50 instead of Go's 100,
// securitylake over 200 MB of CloudTrail peaks at 620–650 MiB instead of
// 820–850, and over 100 MB of OCSF at 350–365 MiB instead of 395–435, in the
// same time (each page the heap grows into costs a page fault, which the
// smaller heap saves about as much as the more frequent collections cost;
// BENCHMARKS.md).
func GCPercent(percent int) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(percent)
	}
}

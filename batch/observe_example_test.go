package batch_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/batch"
)

// printObserver prints the counters it is given (a real program passes a
// metrics.Registry).
type printObserver struct{}

func (printObserver) Count(name string, n int64, l lakerelay.Labels) {
	fmt.Printf("count %s %+v %d\n", name, l, n)
}
func (printObserver) Gauge(string, float64, lakerelay.Labels)          {}
func (printObserver) Duration(string, time.Duration, lakerelay.Labels) {}

// A batcher logs to Options.Logger and reports to Options.Observer: here a
// flush fails once and is retried. Log lines carry partitions and counts,
// never record contents.
func ExampleOptions_logger() {
	calls := 0
	sink := lakerelay.SinkFunc(func(context.Context, string, []lakerelay.Record) error {
		if calls++; calls == 1 {
			return fmt.Errorf("store busy")
		}
		return nil
	})
	// Leave out the attributes that change from run to run.
	drop := map[string]bool{slog.TimeKey: true, "duration": true, "backoff": true}
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if drop[a.Key] {
				return slog.Attr{}
			}
			return a
		},
	}))
	b, err := batch.New(sink, func(o *batch.Options) {
		o.MaxRecords = 2
		o.FlushConcurrency = 1
		o.RetryBackoff, o.MaxRetryBackoff = time.Millisecond, time.Millisecond
		o.Logger = log
		o.Observer = printObserver{}
		o.Name = "relay"
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 2 {
		_ = b.Add(context.Background(), "eventDay=20260101", lakerelay.Record{Data: []byte(`{"secret":"x"}`)})
	}
	_ = b.Close(context.Background())
	// Output:
	// level=INFO msg="batcher started" component=relay max_records=2 max_bytes=33554432 max_age=5m0s max_pending_bytes=268435456 max_retries=5 flush_concurrency=1
	// count lakerelay_errors_total {Source:relay LogType: Partition: Class:other} 1
	// level=WARN msg="flush failed, will retry" component=relay partition="eventDay=20260101" records=2 attempt=1 max_attempts=6 error="store busy"
	// count lakerelay_flush_retries_total {Source:relay LogType: Partition: Class:} 1
	// level=DEBUG msg="batch stored" component=relay partition="eventDay=20260101" records=2 bytes=28 attempts=2 reason=records
	// level=INFO msg="batcher closed" component=relay batches=1 failed_batches=0 acked=2 nacked=0 retries=1
}

package lakerelay_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/lakerelay/lakerelay"
)

// countingObserver records what it is given.
type countingObserver struct{ counts map[string]int64 }

func (o *countingObserver) Count(name string, n int64, l lakerelay.Labels) {
	o.counts[name+"/"+l.Source+"/"+l.LogType] += n
}
func (o *countingObserver) Gauge(string, float64, lakerelay.Labels)          {}
func (o *countingObserver) Duration(string, time.Duration, lakerelay.Labels) {}

func TestObserverOrNop(t *testing.T) {
	nop := lakerelay.ObserverOrNop(nil)
	if nop == nil {
		t.Fatal("ObserverOrNop(nil) returned nil")
	}
	// The no-op observer accepts every call.
	nop.Count(lakerelay.MetricRecordsIn, 1, lakerelay.Labels{Source: "sqs"})
	nop.Gauge(lakerelay.MetricSQSLag, 1, lakerelay.Labels{})
	nop.Duration(lakerelay.MetricFlushDuration, time.Second, lakerelay.Labels{})

	o := &countingObserver{counts: map[string]int64{}}
	if got := lakerelay.ObserverOrNop(o); got != lakerelay.Observer(o) {
		t.Fatalf("ObserverOrNop(o) = %v, want o itself", got)
	}
}

func TestObserverNopAllocatesNothing(t *testing.T) {
	o := lakerelay.ObserverOrNop(nil)
	l := lakerelay.Labels{Source: "sqs", LogType: "cloudtrail"}
	if n := testing.AllocsPerRun(100, func() { o.Count(lakerelay.MetricRecordsIn, 1, l) }); n != 0 {
		t.Fatalf("Count through the no-op observer allocates %v times", n)
	}
}

// A component keeps the result of ObserverOrNop and calls it without nil
// checks; a program passes the observer of its choice (metrics.Registry,
// metrics.NewOTel) or nothing.
func ExampleObserverOrNop() {
	report := func(o lakerelay.Observer, records, bytes int) {
		o = lakerelay.ObserverOrNop(o)
		l := lakerelay.Labels{Source: "sqs", LogType: "cloudtrail"}
		o.Count(lakerelay.MetricRecordsIn, int64(records), l)
		o.Count(lakerelay.MetricBytesIn, int64(bytes), l)
	}
	report(nil, 3, 300) // observes nothing

	o := &countingObserver{counts: map[string]int64{}}
	report(o, 3, 300)
	report(o, 2, 100)
	fmt.Println(o.counts[lakerelay.MetricRecordsIn+"/sqs/cloudtrail"], o.counts[lakerelay.MetricBytesIn+"/sqs/cloudtrail"])
	// Output: 5 400
}

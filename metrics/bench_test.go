package metrics_test

import (
	"sync/atomic"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/metrics"
)

var twoLabels = lakerelay.Labels{Source: "sqs", LogType: "cloudtrail"}

// TestRegistryNoAllocForKnownSeries holds the performance contract of the
// Observer: a series seen before is recorded without allocating.
func TestRegistryNoAllocForKnownSeries(t *testing.T) {
	r := metrics.NewRegistry()
	var o lakerelay.Observer = r
	o.Count(lakerelay.MetricRecordsIn, 1, twoLabels)
	o.Gauge(lakerelay.MetricSQSLag, 1, twoLabels)
	o.Duration(lakerelay.MetricFlushDuration, time.Second, twoLabels)
	for name, f := range map[string]func(){
		"Count":    func() { o.Count(lakerelay.MetricRecordsIn, 1, twoLabels) },
		"Gauge":    func() { o.Gauge(lakerelay.MetricSQSLag, 2, twoLabels) },
		"Duration": func() { o.Duration(lakerelay.MetricFlushDuration, time.Millisecond, twoLabels) },
	} {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s allocates %v times per call", name, n)
		}
	}
}

// BenchmarkAtomicAdd is the bare primitive a counter stands on.
func BenchmarkAtomicAdd(b *testing.B) {
	b.ReportAllocs()
	var n atomic.Int64
	for b.Loop() {
		n.Add(1)
	}
}

func BenchmarkRegistryCount2Labels(b *testing.B) {
	var o lakerelay.Observer = metrics.NewRegistry()
	b.ReportAllocs()
	for b.Loop() {
		o.Count(lakerelay.MetricRecordsIn, 1, twoLabels)
	}
}

func BenchmarkRegistryCount2LabelsParallel(b *testing.B) {
	var o lakerelay.Observer = metrics.NewRegistry()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			o.Count(lakerelay.MetricRecordsIn, 1, twoLabels)
		}
	})
}

func BenchmarkRegistryDuration(b *testing.B) {
	var o lakerelay.Observer = metrics.NewRegistry()
	b.ReportAllocs()
	for b.Loop() {
		o.Duration(lakerelay.MetricFlushDuration, 30*time.Millisecond, twoLabels)
	}
}

func BenchmarkOTelCount2Labels(b *testing.B) {
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	o, err := metrics.NewOTel(provider.Meter("bench"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		o.Count(lakerelay.MetricRecordsIn, 1, twoLabels)
	}
}

func BenchmarkDropOffSeen(b *testing.B) {
	d, err := metrics.NewDropOff(metrics.DropOffOptions{Default: 15 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		d.Seen("sqs", "cloudtrail", now)
	}
}

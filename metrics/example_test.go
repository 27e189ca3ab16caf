package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/metrics"
)

func ExampleRegistry() {
	r := metrics.NewRegistry()
	var o lakerelay.Observer = r // hand it to sources, the batcher and sinks
	l := lakerelay.Labels{Source: "sqs", LogType: "cloudtrail"}
	o.Count(lakerelay.MetricRecordsIn, 120, l)
	o.Count(lakerelay.MetricBytesIn, 48000, l)
	o.Gauge(lakerelay.MetricSQSLag, 4.5, lakerelay.Labels{Source: "sqs"})
	_ = r.WritePrometheus(os.Stdout)
	// Output:
	// # HELP lakerelay_bytes_in_total Bytes of records produced by a source (decoded).
	// # TYPE lakerelay_bytes_in_total counter
	// lakerelay_bytes_in_total{log_type="cloudtrail",source="sqs"} 48000
	// # HELP lakerelay_metrics_invalid_total Measurements refused by the registry (bad name, kind conflict, negative count).
	// # TYPE lakerelay_metrics_invalid_total counter
	// lakerelay_metrics_invalid_total 0
	// # HELP lakerelay_records_in_total Records produced by a source.
	// # TYPE lakerelay_records_in_total counter
	// lakerelay_records_in_total{log_type="cloudtrail",source="sqs"} 120
	// # HELP lakerelay_sqs_lag_seconds Now minus SentTimestamp of the oldest SQS message in flight, in seconds.
	// # TYPE lakerelay_sqs_lag_seconds gauge
	// lakerelay_sqs_lag_seconds{source="sqs"} 4.5
}

func ExampleRegistry_Duration() {
	r := metrics.NewRegistry(func(o *metrics.RegistryOptions) { o.Buckets = []float64{0.1, 1} })
	r.Duration(lakerelay.MetricFlushDuration, 40*time.Millisecond, lakerelay.Labels{Source: "sink"})
	r.Duration(lakerelay.MetricFlushDuration, 1500*time.Millisecond, lakerelay.Labels{Source: "sink"})
	var b strings.Builder
	_ = r.WritePrometheus(&b)
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "lakerelay_flush") {
			fmt.Println(line)
		}
	}
	// Output:
	// lakerelay_flush_duration_seconds_bucket{source="sink",le="0.1"} 1
	// lakerelay_flush_duration_seconds_bucket{source="sink",le="1"} 1
	// lakerelay_flush_duration_seconds_bucket{source="sink",le="+Inf"} 2
	// lakerelay_flush_duration_seconds_sum{source="sink"} 1.54
	// lakerelay_flush_duration_seconds_count{source="sink"} 2
}

func ExampleRegistry_HealthHandler() {
	r := metrics.NewRegistry()
	h := r.HealthHandler()
	check := func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
		fmt.Print(w.Code, " ", w.Body.String())
	}
	check()
	// A source that ends with a fatal error reports itself down.
	r.Gauge(lakerelay.MetricSourceUp, 0, lakerelay.Labels{Source: "sqs"})
	check()
	// Output:
	// 200 ok
	// 503 unhealthy: source "sqs" ended with a fatal error
}

// A program serves /metrics and /healthz next to its work and stops the
// server with the same context (Serve(ctx, "127.0.0.1:9464") listens by
// address; ServeListener is used here to pick a free port).
func ExampleRegistry_ServeListener() {
	r := metrics.NewRegistry()
	r.Count(lakerelay.MetricSQSReceived, 10, lakerelay.Labels{Source: "sqs"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.ServeListener(ctx, ln) }()

	var body []byte
	resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
	if err == nil {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err != nil {
		fmt.Println(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "lakerelay_sqs") {
			fmt.Println(line)
		}
	}
	cancel()
	fmt.Println("stopped:", <-done)
	// Output:
	// lakerelay_sqs_messages_received_total{source="sqs"} 10
	// stopped: <nil>
}

func ExampleNewOTel() {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	o, err := metrics.NewOTel(provider.Meter("github.com/lakerelay/lakerelay"))
	if err != nil {
		fmt.Println(err)
		return
	}
	o.Count(lakerelay.MetricRecordsIn, 5, lakerelay.Labels{Source: "sqs", LogType: "cloudtrail"})

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name == lakerelay.MetricRecordsIn {
			dp := m.Data.(metricdata.Sum[int64]).DataPoints[0]
			fmt.Println(m.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
		}
	}
	// Output: lakerelay_records_in_total log_type=cloudtrail,source=sqs 5
}

func ExampleDropOff() {
	start := time.Date(2026, 12, 4, 6, 0, 0, 0, time.UTC)
	d, _ := metrics.NewDropOff(metrics.DropOffOptions{
		OnChange: func(e metrics.DropOffEvent) { fmt.Println(e) },
	})
	d.Watch("sqs", "cloudtrail", 15*time.Minute, start)
	d.Seen("sqs", "cloudtrail", start.Add(time.Minute))

	// A program calls Run(ctx, time.Minute); here the clock is given.
	d.Check(start.Add(15 * time.Minute)) // 14 minutes of silence: nothing
	d.Check(start.Add(16 * time.Minute)) // 15 minutes: the alarm
	d.Check(start.Add(30 * time.Minute)) // still silent: no second alarm
	d.Seen("sqs", "cloudtrail", start.Add(40*time.Minute))
	// Output:
	// source sqs log type cloudtrail sent no record for 15m0s (limit 15m0s)
	// source sqs log type cloudtrail resumed after 39m0s without records
}

// DropOff.Observer watches every (source, log type) that reports records
// in, so that sources need no knowledge of the alarm.
func ExampleDropOff_Observer() {
	now := time.Date(2026, 12, 4, 6, 0, 0, 0, time.UTC)
	d, _ := metrics.NewDropOff(metrics.DropOffOptions{
		Default:  15 * time.Minute, // --drop-off 15m
		OnChange: func(e metrics.DropOffEvent) { fmt.Println(e) },
	})
	r := metrics.NewRegistry()
	o := d.Observer(r, func() time.Time { return now })
	o.Count(lakerelay.MetricRecordsIn, 10, lakerelay.Labels{Source: "sqs", LogType: "vpcflow"})
	d.Check(now.Add(20 * time.Minute))
	fmt.Println(d.Silent())
	// Output:
	// source sqs log type vpcflow sent no record for 20m0s (limit 15m0s)
	// [sqs/vpcflow]
}

package metrics_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/metrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve starts r on a free loopback port and returns its base URL; the
// server stops, and Serve's result is checked, when the test ends.
func serve(t *testing.T, r *metrics.Registry) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.ServeListener(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return "http://" + ln.Addr().String()
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body), resp.Header
}

func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	code, body, h := get(t, base+"/metrics")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "text/plain; version=0.0.4; charset=utf-8", h.Get("Content-Type"))
	samples, err := parseExposition(body)
	require.NoError(t, err, "exposition:\n%s", body)
	return samples
}

func TestRegistryScrapeOverHTTP(t *testing.T) {
	r := metrics.NewRegistry()
	base := serve(t, r)
	ct := lakerelay.Labels{Source: "sqs", LogType: "cloudtrail", Partition: "region=us-east-1/eventDay=20261204"}
	odd := lakerelay.Labels{Source: `we"ird\name` + "\nx", LogType: "vpc flow"}
	r.Count(lakerelay.MetricRecordsIn, 3, ct)
	r.Count(lakerelay.MetricRecordsIn, 4, ct)
	r.Count(lakerelay.MetricRecordsIn, 1, odd)
	r.Count(lakerelay.MetricBytesIn, 1024, ct)
	r.Count(lakerelay.MetricErrors, 2, lakerelay.Labels{Source: "sqs", Class: lakerelay.ClassThrottled})
	r.Gauge(lakerelay.MetricSQSLag, 12.5, lakerelay.Labels{Source: "sqs"})
	r.Duration(lakerelay.MetricFlushDuration, 3*time.Millisecond, lakerelay.Labels{Source: "sink"})
	r.Duration(lakerelay.MetricFlushDuration, 700*time.Millisecond, lakerelay.Labels{Source: "sink"})
	r.Duration(lakerelay.MetricFlushDuration, 5*time.Minute, lakerelay.Labels{Source: "sink"})

	s := scrape(t, base)
	// The partition label is dropped by default: both counts land in one series.
	assert.Equal(t, 7.0, s[`lakerelay_records_in_total{log_type="cloudtrail",source="sqs"}`])
	assert.Equal(t, 1.0, s[`lakerelay_records_in_total{log_type="vpc flow",source=`+`"we\"ird\\name\nx"`+`}`])
	assert.Equal(t, 1024.0, s[`lakerelay_bytes_in_total{log_type="cloudtrail",source="sqs"}`])
	assert.Equal(t, 2.0, s[`lakerelay_errors_total{class="throttled",source="sqs"}`])
	assert.Equal(t, 12.5, s[`lakerelay_sqs_lag_seconds{source="sqs"}`])
	assert.Equal(t, 1.0, s[`lakerelay_flush_duration_seconds_bucket{le="0.005",source="sink"}`])
	assert.Equal(t, 1.0, s[`lakerelay_flush_duration_seconds_bucket{le="0.5",source="sink"}`])
	assert.Equal(t, 2.0, s[`lakerelay_flush_duration_seconds_bucket{le="1",source="sink"}`])
	assert.Equal(t, 2.0, s[`lakerelay_flush_duration_seconds_bucket{le="120",source="sink"}`])
	assert.Equal(t, 3.0, s[`lakerelay_flush_duration_seconds_bucket{le="+Inf",source="sink"}`])
	assert.Equal(t, 3.0, s[`lakerelay_flush_duration_seconds_count{source="sink"}`])
	assert.InDelta(t, 300.703, s[`lakerelay_flush_duration_seconds_sum{source="sink"}`], 1e-9)
	assert.Equal(t, 0.0, s[`lakerelay_metrics_invalid_total`])

	// Later measurements move the values.
	r.Count(lakerelay.MetricRecordsIn, 10, ct)
	r.Gauge(lakerelay.MetricSQSLag, 2, lakerelay.Labels{Source: "sqs"})
	s = scrape(t, base)
	assert.Equal(t, 17.0, s[`lakerelay_records_in_total{log_type="cloudtrail",source="sqs"}`])
	assert.Equal(t, 2.0, s[`lakerelay_sqs_lag_seconds{source="sqs"}`])
}

func TestRegistryPartitionsOptIn(t *testing.T) {
	r := metrics.NewRegistry(func(o *metrics.RegistryOptions) { o.Partitions = true })
	r.Count(lakerelay.MetricRecordsOut, 5, lakerelay.Labels{Source: "sink", Partition: "eventDay=20261204"})
	r.Count(lakerelay.MetricRecordsOut, 6, lakerelay.Labels{Source: "sink", Partition: "eventDay=20261205"})
	var b strings.Builder
	require.NoError(t, r.WritePrometheus(&b))
	s, err := parseExposition(b.String())
	require.NoError(t, err, b.String())
	assert.Equal(t, 5.0, s[`lakerelay_records_out_total{partition="eventDay=20261204",source="sink"}`])
	assert.Equal(t, 6.0, s[`lakerelay_records_out_total{partition="eventDay=20261205",source="sink"}`])
}

func TestRegistryRefusesBadMeasurements(t *testing.T) {
	r := metrics.NewRegistry()
	l := lakerelay.Labels{Source: "sqs"}
	r.Count(lakerelay.MetricRecordsIn, 1, l)
	r.Gauge(lakerelay.MetricRecordsIn, 5, l)                               // kind conflict, same labels
	r.Duration(lakerelay.MetricRecordsIn, time.Second, lakerelay.Labels{}) // kind conflict, new labels
	r.Count(lakerelay.MetricRecordsIn, -1, l)                              // counters never go down
	r.Count("bad name-with spaces", 1, l)                                  // not a Prometheus name
	r.Count(metrics.MetricInvalid, 1, l)                                   // reserved
	r.Count(lakerelay.MetricSQSLag, 1, l)                                  // a known gauge, never a counter
	var b strings.Builder
	require.NoError(t, r.WritePrometheus(&b))
	s, err := parseExposition(b.String())
	require.NoError(t, err, b.String())
	assert.Equal(t, 1.0, s[`lakerelay_records_in_total{source="sqs"}`])
	assert.Equal(t, 6.0, s[`lakerelay_metrics_invalid_total`])
	assert.Len(t, s, 2, b.String())
}

func TestRegistryConcurrentExact(t *testing.T) {
	r := metrics.NewRegistry()
	base := serve(t, r)
	const workers, per = 8, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := lakerelay.Labels{Source: "sqs", LogType: []string{"a", "b"}[w%2]}
			for range per {
				r.Count(lakerelay.MetricRecordsIn, 1, l)
				r.Duration(lakerelay.MetricFlushDuration, 10*time.Millisecond, l)
			}
		}()
	}
	for range 5 { // scrapes while writers run must stay valid
		scrape(t, base)
	}
	wg.Wait()
	s := scrape(t, base)
	for _, lt := range []string{"a", "b"} {
		assert.Equal(t, float64(workers/2*per), s[`lakerelay_records_in_total{log_type="`+lt+`",source="sqs"}`])
		assert.Equal(t, float64(workers/2*per), s[`lakerelay_flush_duration_seconds_count{log_type="`+lt+`",source="sqs"}`])
		assert.InDelta(t, float64(workers/2*per)*0.01, s[`lakerelay_flush_duration_seconds_sum{log_type="`+lt+`",source="sqs"}`], 1e-6)
	}
}

func TestHealthz(t *testing.T) {
	r := metrics.NewRegistry()
	base := serve(t, r)
	code, body, _ := get(t, base+"/healthz")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok\n", body)

	r.Gauge(lakerelay.MetricSourceUp, 1, lakerelay.Labels{Source: "sqs"})
	code, _, _ = get(t, base+"/healthz")
	assert.Equal(t, http.StatusOK, code, "a source reporting up keeps the process healthy")

	r.Gauge(lakerelay.MetricSourceUp, 0, lakerelay.Labels{Source: "sqs"})
	r.SetUnhealthy("quarantine store unreachable")
	code, body, _ = get(t, base+"/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "unhealthy: source \"sqs\" ended with a fatal error; quarantine store unreachable\n", body)
	ok, reason := r.Healthy()
	assert.False(t, ok)
	assert.Contains(t, reason, `source "sqs"`)

	code, _, _ = get(t, base+"/nothing")
	assert.Equal(t, http.StatusNotFound, code)
}

func TestServe(t *testing.T) {
	// Find a free port, then let Serve listen on it by address.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	r := metrics.NewRegistry()
	r.Count(lakerelay.MetricSQSReceived, 1, lakerelay.Labels{Source: "sqs"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx, addr) }()
	var s map[string]float64
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 5*time.Second, 10*time.Millisecond)
	s = scrape(t, "http://"+addr)
	assert.Equal(t, 1.0, s[`lakerelay_sqs_messages_received_total{source="sqs"}`])

	// A second Serve on the same address fails with the address named.
	err = r.Serve(ctx, addr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "metrics: listen "+addr)

	cancel()
	require.NoError(t, <-done)
	_, err = http.Get("http://" + addr + "/metrics")
	require.Error(t, err, "the server stops with its context")
}

// TestParseExpositionIsStrict shows that the checker used above rejects
// what a Prometheus server would.
func TestParseExpositionIsStrict(t *testing.T) {
	ok := "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 2\n"
	_, err := parseExposition(ok)
	require.NoError(t, err)
	for name, text := range map[string]string{
		"no newline":          strings.TrimSuffix(ok, "\n"),
		"no type":             "# HELP a_total A.\na_total 1\n",
		"sample first":        "a_total 1\n# HELP a_total A.\n# TYPE a_total counter\n",
		"unsorted":            "# HELP b B.\n# TYPE b gauge\nb 1\n# HELP a A.\n# TYPE a gauge\na 1\n",
		"bad escape":          "# HELP a A.\n# TYPE a gauge\na{x=\"\\t\"} 1\n",
		"unterminated":        "# HELP a A.\n# TYPE a gauge\na{x=\"1} 1\n",
		"duplicate label":     "# HELP a A.\n# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n",
		"bad value":           "# HELP a A.\n# TYPE a gauge\na one\n",
		"negative counter":    "# HELP a A.\n# TYPE a counter\na -1\n",
		"foreign sample":      "# HELP a A.\n# TYPE a gauge\nb 1\n",
		"duplicate series":    "# HELP a A.\n# TYPE a gauge\na 1\na 2\n",
		"histogram no inf":    "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
		"histogram not cumul": "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
		"histogram inf≠count": "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n",
		"empty line":          ok + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseExposition(text)
			assert.Error(t, err)
		})
	}
}

package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/lakerelay/lakerelay"
)

// help holds the HELP text of the metrics the library reports.
var help = map[string]string{
	lakerelay.MetricRecordsIn:             "Records produced by a source.",
	lakerelay.MetricBytesIn:               "Bytes of records produced by a source (decoded).",
	lakerelay.MetricRecordsOut:            "Records stored durably by a sink.",
	lakerelay.MetricBytesOut:              "Bytes of objects stored by a sink (encoded, compressed).",
	lakerelay.MetricQuarantined:           "Records set aside in the quarantine, by problem class.",
	lakerelay.MetricErrors:                "Failed operations, by problem class.",
	lakerelay.MetricFlushDuration:         "Time to store one batch, retries included, in seconds.",
	lakerelay.MetricFlushRetries:          "Retried flush attempts.",
	lakerelay.MetricSQSReceived:           "SQS messages received.",
	lakerelay.MetricSQSDeleted:            "SQS messages deleted after their data was safe.",
	lakerelay.MetricSQSRedelivered:        "SQS messages received with ApproximateReceiveCount above 1.",
	lakerelay.MetricSQSVisibilityExtended: "SQS visibility timeout extensions.",
	lakerelay.MetricSQSLag:                "Now minus SentTimestamp of the oldest SQS message in flight, in seconds.",
	lakerelay.MetricSinceLastRecord:       "Seconds since the last record of a watched source and log type.",
	lakerelay.MetricDropOff:               "1 while a watched source and log type sent no record for longer than its drop-off limit.",
	lakerelay.MetricSourceUp:              "1 while a source runs, 0 once it ended with a fatal error.",
	MetricInvalid:                         "Measurements refused by the registry (bad name, kind conflict, negative count).",
}

// Help returns the HELP text the registry writes for a metric name.
func Help(name string) string {
	if h, ok := help[name]; ok {
		return h
	}
	return "lakerelay metric " + name + "."
}

// Handler returns an http.Handler that serves the registry in the Prometheus
// text exposition format.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = r.WritePrometheus(w) // a failed write means the scraper went away
	})
}

// HealthHandler returns an http.Handler that answers 200 "ok" while the
// registry is healthy and 503 with the reasons once a fatal problem was
// reported (see [Registry.SetUnhealthy]).
func (r *Registry) HealthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if ok, reason := r.Healthy(); !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "unhealthy: "+reason)
			return
		}
		fmt.Fprintln(w, "ok")
	})
}

// ShutdownTimeout bounds how long [Serve] waits for scrapes in progress
// once its context ends.
const ShutdownTimeout = 5 * time.Second

// Serve listens on addr (e.g. "127.0.0.1:9464") and serves the registry at
// /metrics and its health at /healthz until ctx ends. It returns nil after a
// clean stop, or the error that kept it from listening or serving.
func (r *Registry) Serve(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: listen %s: %w", addr, err)
	}
	return r.ServeListener(ctx, ln)
}

// ServeListener is [Registry.Serve] on a listener the caller opened; it
// closes ln before it returns.
func (r *Registry) ServeListener(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", r.Handler())
	mux.Handle("GET /healthz", r.HealthHandler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("metrics: serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("metrics: stop %s: %w", ln.Addr(), err)
	}
	return nil
}

package metrics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/metrics"
)

// collect returns the metrics the reader holds, by name.
func collect(t *testing.T, reader *sdkmetric.ManualReader) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

func distinct(kv ...attribute.KeyValue) attribute.Distinct {
	s := attribute.NewSet(kv...)
	return s.Equivalent()
}

func newOTel(t *testing.T, optFns ...func(*metrics.OTelOptions)) (lakerelay.Observer, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { require.NoError(t, provider.Shutdown(context.Background())) })
	o, err := metrics.NewOTel(provider.Meter("github.com/lakerelay/lakerelay"), optFns...)
	require.NoError(t, err)
	return o, reader
}

func TestOTelDataPoints(t *testing.T) {
	o, reader := newOTel(t)
	ct := lakerelay.Labels{Source: "sqs", LogType: "cloudtrail", Partition: "eventDay=20261204"}
	o.Count(lakerelay.MetricRecordsIn, 3, ct)
	o.Count(lakerelay.MetricRecordsIn, 4, ct)
	o.Count(lakerelay.MetricRecordsIn, 1, lakerelay.Labels{Source: "sqs", LogType: "vpcflow"})
	o.Count(lakerelay.MetricErrors, 1, lakerelay.Labels{Source: "sqs", Class: lakerelay.ClassAccess})
	o.Gauge(lakerelay.MetricSQSLag, 42.5, lakerelay.Labels{Source: "sqs"})
	o.Gauge(lakerelay.MetricSQSLag, 7, lakerelay.Labels{Source: "sqs"})
	o.Duration(lakerelay.MetricFlushDuration, 250*time.Millisecond, lakerelay.Labels{Source: "sink"})
	o.Duration(lakerelay.MetricFlushDuration, 2*time.Second, lakerelay.Labels{Source: "sink"})
	o.Count("app_specific_total", 9, lakerelay.Labels{}) // a name the library does not know

	got := collect(t, reader)

	in := got[lakerelay.MetricRecordsIn]
	sum, ok := in.Data.(metricdata.Sum[int64])
	require.True(t, ok, "records in is %T", in.Data)
	assert.True(t, sum.IsMonotonic)
	assert.Equal(t, "Records produced by a source.", in.Description)
	byAttrs := map[attribute.Distinct]int64{}
	for _, dp := range sum.DataPoints {
		byAttrs[dp.Attributes.Equivalent()] = dp.Value
	}
	// The partition attribute is dropped by default.
	assert.Equal(t, map[attribute.Distinct]int64{
		distinct(attribute.String("source", "sqs"), attribute.String("log_type", "cloudtrail")): 7,
		distinct(attribute.String("source", "sqs"), attribute.String("log_type", "vpcflow")):    1,
	}, byAttrs)

	errs := got[lakerelay.MetricErrors].Data.(metricdata.Sum[int64])
	require.Len(t, errs.DataPoints, 1)
	assert.Equal(t, attribute.NewSet(attribute.String("source", "sqs"), attribute.String("class", "access")), errs.DataPoints[0].Attributes)

	lag, ok := got[lakerelay.MetricSQSLag].Data.(metricdata.Gauge[float64])
	require.True(t, ok, "lag is %T", got[lakerelay.MetricSQSLag].Data)
	require.Len(t, lag.DataPoints, 1)
	assert.Equal(t, 7.0, lag.DataPoints[0].Value, "a gauge keeps the last value")

	fd := got[lakerelay.MetricFlushDuration]
	assert.Equal(t, "s", fd.Unit)
	h, ok := fd.Data.(metricdata.Histogram[float64])
	require.True(t, ok, "flush duration is %T", fd.Data)
	require.Len(t, h.DataPoints, 1)
	dp := h.DataPoints[0]
	assert.Equal(t, uint64(2), dp.Count)
	assert.InDelta(t, 2.25, dp.Sum, 1e-9)
	assert.Equal(t, metrics.DefaultBuckets, dp.Bounds)
	assert.Equal(t, attribute.NewSet(attribute.String("source", "sink")), dp.Attributes)

	extra := got["app_specific_total"].Data.(metricdata.Sum[int64])
	require.Len(t, extra.DataPoints, 1)
	assert.Equal(t, int64(9), extra.DataPoints[0].Value)
	assert.Equal(t, 0, extra.DataPoints[0].Attributes.Len())
}

func TestOTelPartitionsOptIn(t *testing.T) {
	o, reader := newOTel(t, func(o *metrics.OTelOptions) { o.Partitions = true })
	o.Count(lakerelay.MetricRecordsOut, 5, lakerelay.Labels{Source: "sink", Partition: "eventDay=20261204"})
	sum := collect(t, reader)[lakerelay.MetricRecordsOut].Data.(metricdata.Sum[int64])
	require.Len(t, sum.DataPoints, 1)
	v, ok := sum.DataPoints[0].Attributes.Value("partition")
	require.True(t, ok)
	assert.Equal(t, "eventDay=20261204", v.AsString())
}

// refusingMeter refuses counters, as a meter with a broken configuration
// would.
type refusingMeter struct{ noop.Meter }

var errRefused = errors.New("instrument refused")

func (refusingMeter) Int64Counter(string, ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	return nil, errRefused
}

func TestOTelErrors(t *testing.T) {
	_, err := metrics.NewOTel(nil)
	require.Error(t, err)

	_, err = metrics.NewOTel(refusingMeter{})
	require.ErrorIs(t, err, errRefused)
	assert.Contains(t, err.Error(), "metrics: otel instrument "+lakerelay.MetricRecordsIn)
}

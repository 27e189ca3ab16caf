package metrics

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/lakerelay/lakerelay"
)

// OTelOptions configure the adapter returned by [NewOTel]. The zero value
// means defaults.
type OTelOptions struct {
	// Partitions keeps the Partition label (attribute "partition"); off by
	// default, for the reason given at [RegistryOptions.Partitions].
	Partitions bool
}

// NewOTel returns a [lakerelay.Observer] that records through an
// OpenTelemetry meter: counts go to Int64Counter instruments, gauges to
// Float64Gauge, durations to Float64Histogram in seconds (unit "s"). Labels
// become the attributes source, log_type, partition and class (empty ones
// are left out). Instruments for the lakerelay.Metric* names are created at
// once, so that a meter that refuses them fails here; others on first use
// (an instrument the meter refuses then records nothing).
//
// A negative count is ignored (OpenTelemetry counters only grow).
//
// The returned Observer is safe for concurrent use; a name and label set
// seen before records without allocating in the adapter (the attribute set
// and its option are built once and kept).
func NewOTel(meter metric.Meter, optFns ...func(*OTelOptions)) (lakerelay.Observer, error) {
	if meter == nil {
		return nil, errors.New("metrics: NewOTel: meter is nil")
	}
	o := &otelObserver{
		meter:      meter,
		counters:   make(map[string]metric.Int64Counter),
		gauges:     make(map[string]metric.Float64Gauge),
		histograms: make(map[string]metric.Float64Histogram),
		attrs:      make(map[lakerelay.Labels]attrOptions),
	}
	for _, f := range optFns {
		f(&o.opts)
	}
	var errs []error
	for name, k := range knownKinds {
		if err := o.create(name, k); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return o, nil
}

// knownKinds is the kind of each metric the library reports.
var knownKinds = map[string]kind{
	lakerelay.MetricRecordsIn:             kindCounter,
	lakerelay.MetricBytesIn:               kindCounter,
	lakerelay.MetricRecordsOut:            kindCounter,
	lakerelay.MetricBytesOut:              kindCounter,
	lakerelay.MetricQuarantined:           kindCounter,
	lakerelay.MetricErrors:                kindCounter,
	lakerelay.MetricFlushDuration:         kindHistogram,
	lakerelay.MetricFlushRetries:          kindCounter,
	lakerelay.MetricSQSReceived:           kindCounter,
	lakerelay.MetricSQSDeleted:            kindCounter,
	lakerelay.MetricSQSRedelivered:        kindCounter,
	lakerelay.MetricSQSVisibilityExtended: kindCounter,
	lakerelay.MetricSQSLag:                kindGauge,
	lakerelay.MetricSinceLastRecord:       kindGauge,
	lakerelay.MetricDropOff:               kindGauge,
	lakerelay.MetricSourceUp:              kindGauge,
}

type otelObserver struct {
	meter metric.Meter
	opts  OTelOptions

	mu         sync.RWMutex
	counters   map[string]metric.Int64Counter
	gauges     map[string]metric.Float64Gauge
	histograms map[string]metric.Float64Histogram
	attrs      map[lakerelay.Labels]attrOptions
}

// attrOptions are the measurement options of one label set, kept as slices
// so that passing them on allocates nothing.
type attrOptions struct {
	add    []metric.AddOption
	record []metric.RecordOption
}

// create makes the instrument name of kind k; o.mu is held or o is not
// shared yet.
func (o *otelObserver) create(name string, k kind) error {
	var err error
	desc := metric.WithDescription(Help(name))
	switch k {
	case kindCounter:
		var c metric.Int64Counter
		c, err = o.meter.Int64Counter(name, desc)
		o.counters[name] = c
	case kindGauge:
		var g metric.Float64Gauge
		g, err = o.meter.Float64Gauge(name, desc)
		o.gauges[name] = g
	case kindHistogram:
		var h metric.Float64Histogram
		h, err = o.meter.Float64Histogram(name, desc, metric.WithUnit("s"),
			metric.WithExplicitBucketBoundaries(DefaultBuckets...))
		o.histograms[name] = h
	}
	if err != nil {
		return fmt.Errorf("metrics: otel instrument %s: %w", name, err)
	}
	return nil
}

// options returns the attribute options of l, built once.
func (o *otelObserver) options(l lakerelay.Labels) attrOptions {
	if !o.opts.Partitions {
		l.Partition = ""
	}
	o.mu.RLock()
	opt, ok := o.attrs[l]
	o.mu.RUnlock()
	if ok {
		return opt
	}
	kv := make([]attribute.KeyValue, 0, 4)
	for _, a := range [...]struct{ k, v string }{{"class", l.Class}, {"log_type", l.LogType}, {"partition", l.Partition}, {"source", l.Source}} {
		if a.v != "" {
			kv = append(kv, attribute.String(a.k, a.v))
		}
	}
	set := metric.WithAttributeSet(attribute.NewSet(kv...))
	opt = attrOptions{add: []metric.AddOption{set}, record: []metric.RecordOption{set}}
	o.mu.Lock()
	o.attrs[l] = opt
	o.mu.Unlock()
	return opt
}

// instrument returns the instrument of name from m, creating it on first use
// (a refused instrument is nil and records nothing).
func instrument[T any](o *otelObserver, m map[string]T, name string, k kind) T {
	o.mu.RLock()
	inst, ok := m[name]
	o.mu.RUnlock()
	if ok {
		return inst
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if inst, ok = m[name]; !ok {
		_ = o.create(name, k) // refused: the map holds the zero value
		inst = m[name]
	}
	return inst
}

// bgctx is the context of every measurement: an Observer call carries none,
// and the SDK uses it only for exemplars and baggage.
var bgctx = context.Background()

func (o *otelObserver) Count(name string, n int64, l lakerelay.Labels) {
	if c := instrument(o, o.counters, name, kindCounter); c != nil && n >= 0 {
		c.Add(bgctx, n, o.options(l).add...)
	}
}

func (o *otelObserver) Gauge(name string, v float64, l lakerelay.Labels) {
	if g := instrument(o, o.gauges, name, kindGauge); g != nil {
		g.Record(bgctx, v, o.options(l).record...)
	}
}

func (o *otelObserver) Duration(name string, d time.Duration, l lakerelay.Labels) {
	if h := instrument(o, o.histograms, name, kindHistogram); h != nil {
		h.Record(bgctx, d.Seconds(), o.options(l).record...)
	}
}

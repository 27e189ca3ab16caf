package metrics

import (
	"bufio"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lakerelay/lakerelay"
)

// DefaultBuckets are the upper bounds, in seconds, of the duration
// histograms: from 5 ms (a small PutObject on a local network) to 2 minutes
// (a large Parquet upload retried under throttling).
var DefaultBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}

// MetricInvalid counts measurements a [Registry] refused: a name that is not a
// valid Prometheus metric name, a name already used with another kind (the
// lakerelay.Metric* names have theirs from the start: a counter cannot be
// set as a gauge), or a negative counter increment. It carries no labels.
const MetricInvalid = "lakerelay_metrics_invalid_total"

// RegistryOptions configure a [Registry]. The zero value means defaults.
type RegistryOptions struct {
	// Partitions keeps the Partition label. Off by default: partitions grow
	// with time (a Security Lake partition per day and account), and every
	// new value is a new series kept for the life of the process.
	Partitions bool
	// Buckets overrides [DefaultBuckets] (strictly increasing, finite).
	Buckets []float64
}

// Registry is an in-memory [lakerelay.Observer] that serves what it holds in
// the Prometheus text exposition format, and holds the process health for
// /healthz.
//
// It is safe for concurrent use. Recording a measurement for a name and label
// set seen before takes a read lock and one atomic operation and allocates
// nothing; the first measurement of a new series takes the write lock.
// Series are never removed: keep label values bounded (see [lakerelay.Labels]).
type Registry struct {
	opts    RegistryOptions
	mu      sync.RWMutex
	series  map[seriesKey]*series
	kinds   map[string]kind
	invalid atomic.Int64

	healthMu  sync.Mutex
	unhealthy []string // reasons, in the order reported
}

type kind uint8

const (
	kindCounter kind = iota + 1
	kindGauge
	kindHistogram
)

func (k kind) String() string {
	switch k {
	case kindCounter:
		return "counter"
	case kindGauge:
		return "gauge"
	default:
		return "histogram"
	}
}

type seriesKey struct {
	name string
	l    lakerelay.Labels
}

// series holds one time series. Counters use n; gauges keep the float bits
// in bits; histograms use counts (one per bucket, then +Inf), sum (float
// bits) and n (the count).
type series struct {
	kind   kind
	n      atomic.Int64
	bits   atomic.Uint64
	counts []atomic.Int64
}

// NewRegistry returns an empty Registry.
func NewRegistry(optFns ...func(*RegistryOptions)) *Registry {
	var opts RegistryOptions
	for _, f := range optFns {
		f(&opts)
	}
	if !validBuckets(opts.Buckets) {
		opts.Buckets = DefaultBuckets
	}
	return &Registry{opts: opts, series: make(map[seriesKey]*series), kinds: make(map[string]kind)}
}

func validBuckets(b []float64) bool {
	if len(b) == 0 {
		return false
	}
	for i, v := range b {
		if math.IsNaN(v) || math.IsInf(v, 0) || (i > 0 && v <= b[i-1]) {
			return false
		}
	}
	return true
}

var _ lakerelay.Observer = (*Registry)(nil)

// Count adds n to a counter. A negative n is refused and counted in
// [MetricInvalid].
func (r *Registry) Count(name string, n int64, l lakerelay.Labels) {
	if n < 0 {
		r.invalid.Add(1)
		return
	}
	if s := r.get(name, l, kindCounter); s != nil {
		s.n.Add(n)
	}
}

// Gauge sets a gauge. Setting [lakerelay.MetricSourceUp] to 0 also marks the
// registry unhealthy with the reason "source <name> ended with a fatal error".
func (r *Registry) Gauge(name string, v float64, l lakerelay.Labels) {
	if s := r.get(name, l, kindGauge); s != nil {
		s.bits.Store(math.Float64bits(v))
	}
	if name == lakerelay.MetricSourceUp && v == 0 {
		r.SetUnhealthy("source " + strconv.Quote(l.Source) + " ended with a fatal error")
	}
}

// Duration records d in a histogram, in seconds.
func (r *Registry) Duration(name string, d time.Duration, l lakerelay.Labels) {
	s := r.get(name, l, kindHistogram)
	if s == nil {
		return
	}
	v := d.Seconds()
	i, _ := slices.BinarySearch(r.opts.Buckets, v) // first bucket with bound ≥ v, or +Inf
	s.counts[i].Add(1)
	for {
		old := s.bits.Load()
		if s.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			break
		}
	}
	s.n.Add(1)
}

// get returns the series for name and l, creating it, or nil when the
// measurement is refused.
func (r *Registry) get(name string, l lakerelay.Labels, k kind) *series {
	if !r.opts.Partitions {
		l.Partition = ""
	}
	key := seriesKey{name, l}
	r.mu.RLock()
	s := r.series[key]
	r.mu.RUnlock()
	if s != nil {
		if s.kind != k {
			r.invalid.Add(1)
			return nil
		}
		return s
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s = r.series[key]; s == nil {
		have, ok := r.kinds[name]
		if !ok {
			have, ok = knownKinds[name]
		}
		if (ok && have != k) || !validName(name) || name == MetricInvalid {
			r.invalid.Add(1)
			return nil
		}
		s = &series{kind: k}
		if k == kindHistogram {
			s.counts = make([]atomic.Int64, len(r.opts.Buckets)+1)
		}
		r.kinds[name] = k
		r.series[key] = s
	}
	if s.kind != k {
		r.invalid.Add(1)
		return nil
	}
	return s
}

var nameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)

func validName(name string) bool { return nameRE.MatchString(name) }

// SetUnhealthy marks the process unhealthy with a reason: /healthz answers
// 503 with every reason given. Use it when a source ends with a fatal error
// that it did not report through [lakerelay.MetricSourceUp].
func (r *Registry) SetUnhealthy(reason string) {
	r.healthMu.Lock()
	defer r.healthMu.Unlock()
	if !slices.Contains(r.unhealthy, reason) {
		r.unhealthy = append(r.unhealthy, reason)
	}
}

// Healthy reports whether no fatal problem was reported, and the reasons
// otherwise, joined by "; ".
func (r *Registry) Healthy() (ok bool, reason string) {
	r.healthMu.Lock()
	defer r.healthMu.Unlock()
	return len(r.unhealthy) == 0, strings.Join(r.unhealthy, "; ")
}

// WritePrometheus writes every series in the Prometheus text exposition
// format (version 0.0.4): families sorted by name, each with HELP and TYPE
// lines, series sorted by labels, label values escaped, durations as
// histograms in seconds. It returns the first write error.
func (r *Registry) WritePrometheus(w io.Writer) error {
	type row struct {
		key seriesKey
		s   *series
	}
	r.mu.RLock()
	rows := make([]row, 0, len(r.series))
	for k, s := range r.series {
		rows = append(rows, row{k, s})
	}
	r.mu.RUnlock()
	rows = append(rows, row{seriesKey{name: MetricInvalid}, nil})
	slices.SortFunc(rows, func(a, b row) int {
		return cmpKey(a.key, b.key)
	})

	bw := bufio.NewWriter(w)
	var lastName string
	for _, row := range rows {
		k := kindCounter
		if row.s != nil {
			k = row.s.kind
		}
		if row.key.name != lastName {
			lastName = row.key.name
			bw.WriteString("# HELP " + lastName + " " + escapeHelp(Help(lastName)) + "\n")
			bw.WriteString("# TYPE " + lastName + " " + k.String() + "\n")
		}
		labels := formatLabels(row.key.l)
		switch {
		case row.s == nil: // MetricInvalid
			writeSample(bw, lastName, labels, "", strconv.FormatInt(r.invalid.Load(), 10))
		case k == kindCounter:
			writeSample(bw, lastName, labels, "", strconv.FormatInt(row.s.n.Load(), 10))
		case k == kindGauge:
			writeSample(bw, lastName, labels, "", formatFloat(math.Float64frombits(row.s.bits.Load())))
		default:
			// Read the buckets first and derive the count from them, so
			// that the +Inf bucket always equals _count in one scrape.
			var cum int64
			for i, bound := range r.opts.Buckets {
				cum += row.s.counts[i].Load()
				writeSample(bw, lastName+"_bucket", labels, `le="`+formatFloat(bound)+`"`, strconv.FormatInt(cum, 10))
			}
			cum += row.s.counts[len(r.opts.Buckets)].Load()
			writeSample(bw, lastName+"_bucket", labels, `le="+Inf"`, strconv.FormatInt(cum, 10))
			writeSample(bw, lastName+"_sum", labels, "", formatFloat(math.Float64frombits(row.s.bits.Load())))
			writeSample(bw, lastName+"_count", labels, "", strconv.FormatInt(cum, 10))
		}
	}
	return bw.Flush()
}

func cmpKey(a, b seriesKey) int {
	return cmpAll(a.name, b.name, a.l.Source, b.l.Source, a.l.LogType, b.l.LogType,
		a.l.Partition, b.l.Partition, a.l.Class, b.l.Class)
}

func cmpAll(pairs ...string) int {
	for i := 0; i < len(pairs); i += 2 {
		if c := strings.Compare(pairs[i], pairs[i+1]); c != 0 {
			return c
		}
	}
	return 0
}

// formatLabels renders the non-empty labels as `k="v",...` in a fixed order
// (alphabetical by label name).
func formatLabels(l lakerelay.Labels) string {
	var b strings.Builder
	add := func(k, v string) {
		if v == "" {
			return
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + `="` + escapeLabel(v) + `"`)
	}
	add("class", l.Class)
	add("log_type", l.LogType)
	add("partition", l.Partition)
	add("source", l.Source)
	return b.String()
}

func writeSample(w *bufio.Writer, name, labels, extra, value string) {
	w.WriteString(name)
	if labels != "" || extra != "" {
		w.WriteByte('{')
		w.WriteString(labels)
		if labels != "" && extra != "" {
			w.WriteByte(',')
		}
		w.WriteString(extra)
		w.WriteByte('}')
	}
	w.WriteByte(' ')
	w.WriteString(value)
	w.WriteByte('\n')
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

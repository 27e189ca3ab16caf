// Package obstest holds what tests need to check the logs and measurements
// of a component: a recording [lakerelay.Observer] and a buffer of
// structured log lines.
package obstest

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lakerelay/lakerelay"
)

// Recorder is a [lakerelay.Observer] that keeps every measurement. It is
// safe for concurrent use.
type Recorder struct {
	mu        sync.Mutex
	counts    map[key]int64
	gauges    map[key]float64
	durations map[key][]time.Duration
}

type key struct {
	name string
	l    lakerelay.Labels
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{counts: map[key]int64{}, gauges: map[key]float64{}, durations: map[key][]time.Duration{}}
}

// Count implements [lakerelay.Observer].
func (r *Recorder) Count(name string, n int64, l lakerelay.Labels) {
	r.mu.Lock()
	r.counts[key{name, l}] += n
	r.mu.Unlock()
}

// Gauge implements [lakerelay.Observer].
func (r *Recorder) Gauge(name string, v float64, l lakerelay.Labels) {
	r.mu.Lock()
	r.gauges[key{name, l}] = v
	r.mu.Unlock()
}

// Duration implements [lakerelay.Observer].
func (r *Recorder) Duration(name string, d time.Duration, l lakerelay.Labels) {
	r.mu.Lock()
	r.durations[key{name, l}] = append(r.durations[key{name, l}], d)
	r.mu.Unlock()
}

// Sum returns the total of counter name over the label sets that match
// (every non-empty field of match equal).
func (r *Recorder) Sum(name string, match lakerelay.Labels) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n int64
	for k, v := range r.counts {
		if k.name == name && matches(k.l, match) {
			n += v
		}
	}
	return n
}

// Observations returns how many durations were recorded under name for the
// label sets that match.
func (r *Recorder) Observations(name string, match lakerelay.Labels) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for k, v := range r.durations {
		if k.name == name && matches(k.l, match) {
			n += len(v)
		}
	}
	return n
}

// Labels returns every label set counter or histogram name was reported
// with.
func (r *Recorder) Labels(name string) []lakerelay.Labels {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []lakerelay.Labels
	for k := range r.counts {
		if k.name == name {
			out = append(out, k.l)
		}
	}
	for k := range r.durations {
		if k.name == name {
			out = append(out, k.l)
		}
	}
	return out
}

func matches(l, m lakerelay.Labels) bool {
	return (m.Source == "" || l.Source == m.Source) && (m.LogType == "" || l.LogType == m.LogType) &&
		(m.Partition == "" || l.Partition == m.Partition) && (m.Class == "" || l.Class == m.Class)
}

// Log is a buffer of JSON log lines written through [Log.Logger].
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Logger returns a logger at Debug level that writes into l.
func (l *Log) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(lockedWriter{l}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type lockedWriter struct{ l *Log }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	return w.l.buf.Write(p)
}

// String returns everything logged so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Lines returns the log lines decoded, in order.
func (l *Log) Lines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// Find returns the lines whose "msg" is msg.
func (l *Log) Find(t testing.TB, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range l.Lines(t) {
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// NotContains fails t if the log holds any of the given byte strings
// (record contents that must never be logged).
func (l *Log) NotContains(t testing.TB, secrets ...string) {
	t.Helper()
	s := l.String()
	for _, x := range secrets {
		if x != "" && strings.Contains(s, x) {
			t.Errorf("log contains %q:\n%s", x, s)
		}
	}
}

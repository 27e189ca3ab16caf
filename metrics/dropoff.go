package metrics

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lakerelay/lakerelay"
)

// DropOffEvent reports a change of a watched stream: it went silent for
// longer than its limit, or it resumed.
type DropOffEvent struct {
	Source  string // the watched source
	LogType string // the watched log type; empty when the whole source is watched
	// Resumed is false when the stream went silent, true when a record
	// arrived again after an alarm.
	Resumed bool
	// Last is when the last record before the silence arrived (or when the
	// watch began, if none ever did).
	Last time.Time
	// At is the time of the change: the Check that saw the silence, or the
	// record that ended it.
	At time.Time
	// Limit is the configured drop-off duration.
	Limit time.Duration
}

func (e DropOffEvent) String() string {
	what := "source " + e.Source
	if e.LogType != "" {
		what += " log type " + e.LogType
	}
	if e.Resumed {
		return fmt.Sprintf("%s resumed after %s without records", what, e.At.Sub(e.Last).Round(time.Second))
	}
	return fmt.Sprintf("%s sent no record for %s (limit %s)", what, e.At.Sub(e.Last).Round(time.Second), e.Limit)
}

// DropOffOptions configure a [DropOff]. The zero value watches nothing until
// [DropOff.Watch] is called.
type DropOffOptions struct {
	// Default, when positive, watches every (source, log type) pair the
	// first time [DropOff.Seen] reports it, with this limit. Pairs with an
	// explicit Watch keep their own limit.
	Default time.Duration
	// OnChange is called once when a watched stream goes silent and once
	// when it resumes. Calls are serialised and in the order the changes
	// happened, made without any DropOff lock held (OnChange may call the
	// DropOff). They run on the goroutine of a Check or Seen call (not
	// always the one that caused the change), so OnChange must return
	// quickly.
	OnChange func(DropOffEvent)
	// Observer receives [lakerelay.MetricDropOff] (1 silent, 0 flowing) and
	// [lakerelay.MetricSinceLastRecord] for every watched stream at each
	// Check, and MetricDropOff at each change.
	Observer lakerelay.Observer
}

// Validate reports every problem of the options.
func (o DropOffOptions) Validate() error {
	if o.Default < 0 {
		return errors.New("metrics: DropOffOptions.Default must not be negative")
	}
	return nil
}

// DropOff raises an alarm when a source, or one log type of a source, sends
// no record for a configured duration (a "log drop-off" alarm), and clears
// it when records flow again.
//
// It is driven by time values it is given, never by its own timers: [Seen]
// reports records with their arrival time and [Check] looks at the clock the
// caller passes. [DropOff.Run] calls Check from a ticker; tests call Check
// with any time they like.
//
// A watched stream alarms at the first Check at least Limit after its last
// record (or after the watch began), exactly once, and resumes at the first
// Seen after that. A source watched as a whole (log type "") and its log
// types watched one by one are independent streams.
//
// DropOff is safe for concurrent use.
type DropOff struct {
	opts DropOffOptions
	obs  lakerelay.Observer

	mu       sync.Mutex
	streams  map[streamKey]*stream
	pending  []DropOffEvent // changes not yet delivered, in order
	draining bool           // a goroutine is delivering pending
}

type streamKey struct{ source, logType string }

type stream struct {
	limit  time.Duration
	last   time.Time
	silent bool
}

// NewDropOff returns a DropOff, or the problems of opts.
func NewDropOff(opts DropOffOptions) (*DropOff, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &DropOff{opts: opts, obs: lakerelay.ObserverOrNop(opts.Observer), streams: make(map[streamKey]*stream)}, nil
}

// Watch watches source (logType "" = any record of the source) or one log
// type of it, with limit; since is when the watch begins, so that a stream
// that never sends anything alarms too. Watching a stream again changes its
// limit and keeps its state. A limit ≤ 0 stops watching it.
func (d *DropOff) Watch(source, logType string, limit time.Duration, since time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := streamKey{source, logType}
	if limit <= 0 {
		delete(d.streams, k)
		return
	}
	if s := d.streams[k]; s != nil {
		s.limit = limit
		return
	}
	d.add(k, limit, since)
}

// add starts watching k; d.mu is held.
func (d *DropOff) add(k streamKey, limit time.Duration, since time.Time) *stream {
	s := &stream{limit: limit, last: since}
	d.streams[k] = s
	d.obs.Gauge(lakerelay.MetricDropOff, 0, lakerelay.Labels{Source: k.source, LogType: k.logType})
	return s
}

// Seen reports that records of source and logType arrived at at. It updates
// the stream of the log type and that of the whole source, and reports a
// resume of either. With [DropOffOptions.Default] set, a pair not seen
// before starts being watched.
func (d *DropOff) Seen(source, logType string, at time.Time) {
	d.mu.Lock()
	for _, k := range [2]streamKey{{source, logType}, {source, ""}} {
		s := d.streams[k]
		if s == nil {
			if k.logType != logType || d.opts.Default <= 0 {
				continue
			}
			s = d.add(k, d.opts.Default, at)
		}
		if s.silent {
			s.silent = false
			d.pending = append(d.pending, DropOffEvent{Source: k.source, LogType: k.logType, Resumed: true, Last: s.last, At: at, Limit: s.limit})
		}
		if at.After(s.last) {
			s.last = at
		}
		if logType == "" {
			break // the pair is the whole source: one stream
		}
	}
	d.mu.Unlock()
	d.deliver()
}

// Check raises the alarm of every watched stream silent for at least its
// limit at now, and reports the gauges of every stream.
func (d *DropOff) Check(now time.Time) {
	var events []DropOffEvent
	d.mu.Lock()
	for k, s := range d.streams {
		quiet := now.Sub(s.last)
		if !s.silent && quiet >= s.limit {
			s.silent = true
			events = append(events, DropOffEvent{Source: k.source, LogType: k.logType, Last: s.last, At: now, Limit: s.limit})
		}
		d.obs.Gauge(lakerelay.MetricSinceLastRecord, max(quiet, 0).Seconds(), lakerelay.Labels{Source: k.source, LogType: k.logType})
	}
	slices.SortFunc(events, func(a, b DropOffEvent) int {
		return cmpAll(a.Source, b.Source, a.LogType, b.LogType)
	})
	d.pending = append(d.pending, events...)
	d.mu.Unlock()
	d.deliver()
}

// Silent returns the streams in alarm now, as "source" or "source/logType",
// sorted.
func (d *DropOff) Silent() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for k, s := range d.streams {
		if s.silent {
			out = append(out, strings.TrimSuffix(k.source+"/"+k.logType, "/"))
		}
	}
	slices.Sort(out)
	return out
}

// deliver reports the pending changes in the order they happened. One
// goroutine delivers at a time; a change made meanwhile (by another
// goroutine, or by OnChange itself) is delivered by that same loop.
func (d *DropOff) deliver() {
	d.mu.Lock()
	if d.draining {
		d.mu.Unlock()
		return
	}
	d.draining = true
	for len(d.pending) > 0 {
		events := d.pending
		d.pending = nil
		d.mu.Unlock()
		for _, e := range events {
			d.obs.Gauge(lakerelay.MetricDropOff, boolGauge(!e.Resumed), lakerelay.Labels{Source: e.Source, LogType: e.LogType})
			if d.opts.OnChange != nil {
				d.opts.OnChange(e)
			}
		}
		d.mu.Lock()
	}
	d.draining = false
	d.mu.Unlock()
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Run calls Check(time.Now()) every interval until ctx ends, then returns
// ctx's error. Use an interval well below the shortest limit (a minute for
// limits of 15 minutes or more). It starts no other goroutine.
func (d *DropOff) Run(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		return errors.New("metrics: DropOff.Run interval must be positive")
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case now := <-t.C:
			d.Check(now)
		}
	}
}

// Observer returns an Observer that passes every measurement to next and
// reports each [lakerelay.MetricRecordsIn] count above zero to Seen, at
// now(). It lets a DropOff watch any source that reports records in,
// without the source knowing about it. now nil means time.Now.
func (d *DropOff) Observer(next lakerelay.Observer, now func() time.Time) lakerelay.Observer {
	if now == nil {
		now = time.Now
	}
	return &seenObserver{next: lakerelay.ObserverOrNop(next), d: d, now: now}
}

type seenObserver struct {
	next lakerelay.Observer
	d    *DropOff
	now  func() time.Time
}

func (o *seenObserver) Count(name string, n int64, l lakerelay.Labels) {
	o.next.Count(name, n, l)
	if name == lakerelay.MetricRecordsIn && n > 0 {
		o.d.Seen(l.Source, l.LogType, o.now())
	}
}

func (o *seenObserver) Gauge(name string, v float64, l lakerelay.Labels) {
	o.next.Gauge(name, v, l)
}

func (o *seenObserver) Duration(name string, d time.Duration, l lakerelay.Labels) {
	o.next.Duration(name, d, l)
}

package metrics_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/metrics"
)

var t0 = time.Date(2026, 12, 4, 6, 0, 0, 0, time.UTC)

// recorder collects DropOff events.
type recorder struct {
	mu     sync.Mutex
	events []metrics.DropOffEvent
}

func (r *recorder) on(e metrics.DropOffEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) take() []metrics.DropOffEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.events
	r.events = nil
	return e
}

func exposition(t *testing.T, r *metrics.Registry) map[string]float64 {
	t.Helper()
	var b strings.Builder
	require.NoError(t, r.WritePrometheus(&b))
	s, err := parseExposition(b.String())
	require.NoError(t, err, b.String())
	return s
}

func TestDropOffFiresOnceAfterLimitAndOnResume(t *testing.T) {
	reg := metrics.NewRegistry()
	var rec recorder
	d, err := metrics.NewDropOff(metrics.DropOffOptions{OnChange: rec.on, Observer: reg})
	require.NoError(t, err)
	d.Watch("sqs", "cloudtrail", 15*time.Minute, t0)
	const gauge = `lakerelay_drop_off{log_type="cloudtrail",source="sqs"}`
	const since = `lakerelay_seconds_since_last_record{log_type="cloudtrail",source="sqs"}`
	assert.Equal(t, 0.0, exposition(t, reg)[gauge], "a new watch shows flowing")

	d.Check(t0.Add(15*time.Minute - time.Second))
	assert.Empty(t, rec.take(), "not before the limit")
	assert.Equal(t, 899.0, exposition(t, reg)[since])

	d.Check(t0.Add(15 * time.Minute))
	assert.Equal(t, []metrics.DropOffEvent{{Source: "sqs", LogType: "cloudtrail", Last: t0, At: t0.Add(15 * time.Minute), Limit: 15 * time.Minute}}, rec.take())
	assert.Equal(t, 1.0, exposition(t, reg)[gauge])
	assert.Equal(t, []string{"sqs/cloudtrail"}, d.Silent())

	d.Check(t0.Add(20 * time.Minute))
	d.Check(t0.Add(3 * time.Hour))
	assert.Empty(t, rec.take(), "exactly once while the silence lasts")
	assert.Equal(t, 3*3600.0, exposition(t, reg)[since])

	d.Seen("sqs", "cloudtrail", t0.Add(3*time.Hour+time.Minute))
	ev := rec.take()
	require.Len(t, ev, 1)
	assert.True(t, ev[0].Resumed)
	assert.Equal(t, t0, ev[0].Last)
	assert.Equal(t, "source sqs log type cloudtrail resumed after 3h1m0s without records", ev[0].String())
	assert.Equal(t, 0.0, exposition(t, reg)[gauge])
	assert.Empty(t, d.Silent())

	d.Seen("sqs", "cloudtrail", t0.Add(3*time.Hour+2*time.Minute))
	assert.Empty(t, rec.take(), "records while flowing report nothing")

	// A second silence alarms again, measured from the last record.
	d.Check(t0.Add(3*time.Hour + 16*time.Minute))
	assert.Empty(t, rec.take())
	d.Check(t0.Add(3*time.Hour + 17*time.Minute))
	ev = rec.take()
	require.Len(t, ev, 1)
	assert.False(t, ev[0].Resumed)
	assert.Equal(t, "source sqs log type cloudtrail sent no record for 15m0s (limit 15m0s)", ev[0].String())
}

func TestDropOffStreamsAreIndependent(t *testing.T) {
	var rec recorder
	d, err := metrics.NewDropOff(metrics.DropOffOptions{OnChange: rec.on})
	require.NoError(t, err)
	d.Watch("sqs", "cloudtrail", 15*time.Minute, t0)
	d.Watch("sqs", "vpcflow", 5*time.Minute, t0)
	d.Watch("sqs", "", 10*time.Minute, t0) // the source as a whole
	d.Watch("list", "", 10*time.Minute, t0)
	d.Watch("dir", "", 0, t0) // a zero limit watches nothing

	d.Seen("sqs", "cloudtrail", t0.Add(4*time.Minute))
	d.Seen("dir", "x", t0.Add(4*time.Minute))
	names := func(ev []metrics.DropOffEvent) []string {
		var out []string
		for _, e := range ev {
			out = append(out, e.Source+"/"+e.LogType)
		}
		return out
	}
	d.Check(t0.Add(5 * time.Minute))
	assert.Equal(t, []string{"sqs/vpcflow"}, names(rec.take()))
	d.Check(t0.Add(10 * time.Minute))
	assert.Equal(t, []string{"list/"}, names(rec.take()), "cloudtrail records keep the sqs source flowing")
	d.Check(t0.Add(14 * time.Minute))
	assert.Equal(t, []string{"sqs/"}, names(rec.take()))
	d.Check(t0.Add(19 * time.Minute))
	assert.Equal(t, []string{"sqs/cloudtrail"}, names(rec.take()))
	assert.Equal(t, []string{"list", "sqs", "sqs/cloudtrail", "sqs/vpcflow"}, d.Silent())

	// A vpcflow record resumes vpcflow and the whole source, not cloudtrail.
	d.Seen("sqs", "vpcflow", t0.Add(20*time.Minute))
	ev := rec.take()
	assert.Equal(t, []string{"sqs/vpcflow", "sqs/"}, names(ev))
	assert.True(t, ev[0].Resumed && ev[1].Resumed)
	assert.Equal(t, []string{"list", "sqs/cloudtrail"}, d.Silent())

	// Changing a limit keeps the state; a limit of 0 stops the watch.
	d.Watch("list", "", time.Hour, t0)
	d.Watch("sqs", "cloudtrail", 0, t0)
	assert.Equal(t, []string{"list"}, d.Silent())
}

func TestDropOffDefaultWatchesWhatItSees(t *testing.T) {
	var rec recorder
	d, err := metrics.NewDropOff(metrics.DropOffOptions{Default: 15 * time.Minute, OnChange: rec.on})
	require.NoError(t, err)
	d.Check(t0.Add(time.Hour))
	assert.Empty(t, rec.take(), "nothing seen, nothing watched")
	d.Seen("sqs", "cloudtrail", t0)
	d.Watch("sqs", "vpcflow", 30*time.Minute, t0) // an explicit limit wins
	d.Seen("sqs", "vpcflow", t0)
	d.Check(t0.Add(15 * time.Minute))
	ev := rec.take()
	require.Len(t, ev, 1)
	assert.Equal(t, "cloudtrail", ev[0].LogType)
	d.Check(t0.Add(30 * time.Minute))
	ev = rec.take()
	require.Len(t, ev, 1)
	assert.Equal(t, "vpcflow", ev[0].LogType)

	_, err = metrics.NewDropOff(metrics.DropOffOptions{Default: -time.Second})
	require.Error(t, err)
}

func TestDropOffOnChangeMayCallBack(t *testing.T) {
	var d *metrics.DropOff
	var events []metrics.DropOffEvent
	d, err := metrics.NewDropOff(metrics.DropOffOptions{OnChange: func(e metrics.DropOffEvent) {
		events = append(events, e)
		if !e.Resumed {
			d.Seen(e.Source, e.LogType, e.At) // re-entrant: must not deadlock
			_ = d.Silent()
		}
	}})
	require.NoError(t, err)
	d.Watch("sqs", "", time.Minute, t0)
	d.Check(t0.Add(time.Minute))
	require.Len(t, events, 2, "the resume made inside OnChange is delivered after the alarm")
	assert.False(t, events[0].Resumed)
	assert.True(t, events[1].Resumed)
}

// Concurrent Seen and Check calls deliver, for every stream, alarms and
// resumes strictly alternating, starting with an alarm.
func TestDropOffConcurrentOrder(t *testing.T) {
	var rec recorder
	d, err := metrics.NewDropOff(metrics.DropOffOptions{Default: time.Second, OnChange: rec.on, Observer: metrics.NewRegistry()})
	require.NoError(t, err)
	var wg sync.WaitGroup
	var clock sync.Mutex
	now := t0
	tick := func(step time.Duration) time.Time {
		clock.Lock()
		defer clock.Unlock()
		now = now.Add(step)
		return now
	}
	for w := range 4 {
		wg.Add(2)
		lt := []string{"a", "b"}[w%2]
		go func() {
			defer wg.Done()
			for range 500 {
				d.Seen("sqs", lt, tick(100*time.Millisecond))
			}
		}()
		go func() {
			defer wg.Done()
			for range 500 {
				d.Check(tick(700 * time.Millisecond))
			}
		}()
	}
	wg.Wait()
	last := map[string]bool{} // stream → silent
	for _, e := range rec.take() {
		k := e.Source + "/" + e.LogType
		require.NotEqual(t, last[k], !e.Resumed, "%s: two %v events in a row", k, e.Resumed)
		last[k] = !e.Resumed
	}
}

func TestDropOffRun(t *testing.T) {
	var rec recorder
	d, err := metrics.NewDropOff(metrics.DropOffOptions{OnChange: rec.on})
	require.NoError(t, err)
	d.Watch("sqs", "", time.Nanosecond, time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, time.Millisecond) }()
	require.Eventually(t, func() bool { return len(d.Silent()) == 1 }, 5*time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	assert.Len(t, rec.take(), 1)

	err = d.Run(context.Background(), 0)
	require.Error(t, err)
	assert.False(t, errors.Is(err, context.Canceled))
}

func TestDropOffObserverFeedsSeen(t *testing.T) {
	reg := metrics.NewRegistry()
	var rec recorder
	d, err := metrics.NewDropOff(metrics.DropOffOptions{Default: 10 * time.Minute, OnChange: rec.on})
	require.NoError(t, err)
	now := t0
	o := d.Observer(reg, func() time.Time { return now })
	l := lakerelay.Labels{Source: "sqs", LogType: "cloudtrail"}
	o.Count(lakerelay.MetricRecordsIn, 2, l)
	o.Count(lakerelay.MetricBytesIn, 200, l)
	o.Gauge(lakerelay.MetricSQSLag, 3, lakerelay.Labels{Source: "sqs"})
	o.Duration(lakerelay.MetricFlushDuration, time.Second, lakerelay.Labels{Source: "sink"})
	s := exposition(t, reg)
	assert.Equal(t, 2.0, s[`lakerelay_records_in_total{log_type="cloudtrail",source="sqs"}`])
	assert.Equal(t, 200.0, s[`lakerelay_bytes_in_total{log_type="cloudtrail",source="sqs"}`])
	assert.Equal(t, 3.0, s[`lakerelay_sqs_lag_seconds{source="sqs"}`])
	assert.Equal(t, 1.0, s[`lakerelay_flush_duration_seconds_count{source="sink"}`])

	d.Check(t0.Add(10 * time.Minute))
	require.Len(t, rec.take(), 1)
	now = t0.Add(11 * time.Minute)
	o.Count(lakerelay.MetricRecordsIn, 0, l) // zero records are no sign of life
	assert.Empty(t, rec.take())
	o.Count(lakerelay.MetricRecordsIn, 1, l)
	ev := rec.take()
	require.Len(t, ev, 1)
	assert.True(t, ev[0].Resumed)
	assert.Equal(t, now, ev[0].At)
}

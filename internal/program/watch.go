package program

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/lakerelay/lakerelay"
)

func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	return ln, nil
}

// Watched is a source whose records are counted: lakerelay_records_in_total
// and lakerelay_bytes_in_total (labels: the program's name and the record's
// log type) go to Env.Observer, which feeds the drop-off alarm. It also
// tells how long no record arrived, for --exit-when-idle.
type Watched struct {
	lakerelay.Source
	env  *Env
	last atomic.Int64 // unix nanoseconds of the last record, or of the start
	n    atomic.Int64
}

// Watch wraps src so that every record it yields is counted. Until the
// sources report their own records through an Observer, this is what the
// metrics and the drop-off alarm see.
func (e *Env) Watch(src lakerelay.Source) *Watched {
	w := &Watched{Source: src, env: e}
	w.last.Store(time.Now().UnixNano())
	return w
}

// Read reads from the wrapped source and counts the record.
func (w *Watched) Read(ctx context.Context) (lakerelay.Record, error) {
	r, err := w.Source.Read(ctx)
	if err == nil {
		w.n.Add(1)
		w.last.Store(time.Now().UnixNano())
		l := lakerelay.Labels{Source: w.env.Name, LogType: r.Origin.LogType}
		w.env.Observer.Count(lakerelay.MetricRecordsIn, 1, l)
		w.env.Observer.Count(lakerelay.MetricBytesIn, int64(len(r.Data)), l)
	}
	return r, err
}

// Records is the number of records read so far.
func (w *Watched) Records() int64 { return w.n.Load() }

// Idle is how long no record was read (since the start when none was).
func (w *Watched) Idle() time.Duration { return time.Since(time.Unix(0, w.last.Load())) }

// StopWhenIdle cancels (through stop) once no record was read for idle and
// busy() is false (nothing in flight; busy nil means never busy), checking
// every tick. It returns when ctx ends. idle <= 0 returns at once.
func (w *Watched) StopWhenIdle(ctx context.Context, idle time.Duration, busy func() bool, stop func()) {
	if idle <= 0 {
		return
	}
	t := time.NewTicker(min(idle/4+time.Millisecond, 200*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if w.Idle() >= idle && (busy == nil || !busy()) {
				w.env.Logger.Info("idle, stopping", "idle", idle.String())
				stop()
				return
			}
		}
	}
}

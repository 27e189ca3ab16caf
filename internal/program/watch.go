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

// Watched is a source whose records are counted, to tell how long no
// record arrived (for --exit-when-idle) and how many were read (for
// progress lines). Metrics are not counted here: the sources report their
// records themselves when given the program's Observer (Env.SQS, Env.List,
// Env.Dir, Env.Reader).
type Watched struct {
	lakerelay.Source
	env  *Env
	last atomic.Int64 // unix nanoseconds of the last record, or of the start
	n    atomic.Int64
}

// Watch wraps src so that every record it yields is counted.
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
	}
	return r, err
}

// Records is the number of records read so far.
func (w *Watched) Records() int64 { return w.n.Load() }

// Idle is how long no record was read (since the start when none was).
func (w *Watched) Idle() time.Duration { return time.Since(time.Unix(0, w.last.Load())) }

// StopWhenIdle cancels (through stop) once no record was read for idle and
// busy() is false (nothing in flight; busy nil means never busy). It checks
// when idle has passed since the last record, so a drained run stops idle
// after its last record, and then, while busy, every quarter of idle (at
// most 200 ms). It returns when ctx ends. idle <= 0 returns at once.
func (w *Watched) StopWhenIdle(ctx context.Context, idle time.Duration, busy func() bool, stop func()) {
	if idle <= 0 {
		return
	}
	recheck := min(idle/4+time.Millisecond, 200*time.Millisecond)
	t := time.NewTimer(idle - w.Idle())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		left := idle - w.Idle()
		if left <= 0 {
			if busy == nil || !busy() {
				w.env.Logger.Info("idle, stopping", "idle", idle.String())
				stop()
				return
			}
			left = recheck
		}
		t.Reset(left)
	}
}

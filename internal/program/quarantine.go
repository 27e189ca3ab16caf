package program

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/quarantine"
	"github.com/lakerelay/lakerelay/sink"
)

// Quarantine is a --quarantine location (a file, a directory or
// s3://bucket/prefix; see quarantine.Open) opened on first use, so that a
// run that quarantines nothing leaves nothing behind. It is a
// batch.Quarantiner, and Put is a lakerelay.Quarantine for the sources and
// sinks that take one; both acknowledge a record only once its entry is
// durable. A nil *Quarantine is no quarantine: see Quarantiner and Func.
type Quarantine struct {
	location string
	s3c      sink.S3API
	opts     []func(*quarantine.Options)

	mu sync.Mutex
	w  *quarantine.Writer // nil until opened
}

// NewQuarantine checks location (s3://bucket/prefix needs s3c) and returns
// the Quarantine that opens it on first use, with opts (such as
// Env.Quarantine); nil when location is "".
func NewQuarantine(location string, s3c sink.S3API, opts ...func(*quarantine.Options)) (*Quarantine, error) {
	if location == "" {
		return nil, nil
	}
	if rest, ok := strings.CutPrefix(location, "s3://"); ok {
		if b, _, _ := strings.Cut(rest, "/"); b == "" {
			return nil, errors.New("--quarantine " + location + ": no bucket")
		}
		if s3c == nil {
			return nil, errors.New("--quarantine " + location + ": needs AWS settings")
		}
	} else if strings.Contains(location, "://") {
		return nil, errors.New("--quarantine " + location + ": want a path or s3://bucket/prefix")
	}
	return &Quarantine{location: location, s3c: s3c, opts: opts}, nil
}

// open opens the location at the first call that succeeds; a failed open
// is tried again at the next use.
func (q *Quarantine) open() (*quarantine.Writer, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.w == nil {
		w, err := quarantine.Open(q.location, q.s3c, q.opts...)
		if err != nil {
			return nil, err
		}
		q.w = w
	}
	return q.w, nil
}

// Quarantine takes r over; it settles r once its entry is durable, or with
// the error that kept it from being so (r stays redeliverable).
func (q *Quarantine) Quarantine(r lakerelay.Record, reason error) {
	w, err := q.open()
	if err != nil {
		r.Settle(err)
		return
	}
	w.Quarantine(r, reason)
}

// Put writes r's entry and returns once it is durable.
func (q *Quarantine) Put(r lakerelay.Record, reason error) error {
	w, err := q.open()
	if err != nil {
		return err
	}
	return w.Put(r, reason)
}

// Flush waits until every entry given so far is settled.
func (q *Quarantine) Flush(ctx context.Context) error {
	if w := q.opened(); w != nil {
		return w.Flush(ctx)
	}
	return nil
}

func (q *Quarantine) opened() *quarantine.Writer {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.w
}

// Close writes what is queued and closes the location, if it was opened.
func (q *Quarantine) Close(ctx context.Context) error {
	if q == nil {
		return nil
	}
	if w := q.opened(); w != nil {
		return w.Close(ctx)
	}
	return nil
}

// Entries is the number of entries made durable.
func (q *Quarantine) Entries() int64 {
	if q == nil {
		return 0
	}
	if w := q.opened(); w != nil {
		return w.Stats().Entries
	}
	return 0
}

// Location is the --quarantine location.
func (q *Quarantine) Location() string { return q.location }

// Quarantiner returns q for batch.Run, or nil (no quarantine) for a nil q.
func (q *Quarantine) Quarantiner() batch.Quarantiner {
	if q == nil {
		return nil
	}
	return q
}

// Func returns q.Put, or nil for a nil q.
func (q *Quarantine) Func() lakerelay.Quarantine {
	if q == nil {
		return nil
	}
	return q.Put
}

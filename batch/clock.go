package batch

import "time"

// Clock is the source of time a [Batcher] uses for [Limits.MaxAge], retry
// backoff and [FlushResult.Duration]. The system clock is used unless
// [Options.Clock] is set; tests set a manual clock to control time.
//
// Implementations must be safe for concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f in its own goroutine (or, for a manual clock, from
	// the goroutine that advances time) once d has elapsed, unless the
	// returned Timer is stopped first. f must be called at most once.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending call started by [Clock.AfterFunc].
type Timer interface {
	// Stop prevents the call if it has not started yet and reports whether
	// it did so.
	Stop() bool
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

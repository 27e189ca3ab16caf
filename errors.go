package lakerelay

import "errors"

var (
	// ErrClosed is returned by operations on a closed source, batcher or sink.
	ErrClosed = errors.New("lakerelay: closed")
	// ErrInvalidRecord marks a record that can never be processed as it is
	// (invalid JSON where JSON is required, schema violation). Such records
	// go to a quarantine handler with the reason; they are not retried.
	ErrInvalidRecord = errors.New("lakerelay: invalid record")
	// ErrTooLarge marks a record or object beyond a configured size limit.
	ErrTooLarge = errors.New("lakerelay: too large")
)

// Permanent wraps err to mark it as permanent: retrying the same operation
// cannot succeed (access denied, missing bucket, invalid input). Retry loops
// stop at once on such errors. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// IsPermanent reports whether err or any error it wraps was marked with
// [Permanent], or is [ErrInvalidRecord] or [ErrTooLarge].
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p) || errors.Is(err, ErrInvalidRecord) || errors.Is(err, ErrTooLarge)
}

// Quarantine receives records that can never be processed, with the reason.
// It returns nil once the record is safely set aside (then the record may be
// acknowledged), or an error (then the record must be negatively
// acknowledged so that it stays redeliverable). Implementations must be safe
// for concurrent use and must not log record contents at info level.
type Quarantine func(r Record, reason error) error

package source

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lakerelay/lakerelay"
)

var (
	// ErrNotFound marks an object that does not exist (S3 NoSuchKey, HTTP
	// 404, or a missing file). The message that named it stays in the queue.
	ErrNotFound = errors.New("source: object not found")
	// ErrInvalidNotification marks an SQS message body that is none of the
	// notification formats [DecodeNotification] knows.
	ErrInvalidNotification = errors.New("source: invalid notification")
)

// ObjectError is a failure to fetch or decode one object, or one invalid
// record in it. It names the object and, where known, the byte offset in the
// decompressed object.
type ObjectError struct {
	Bucket    string // empty for local files
	Key       string // the object key or file path
	VersionID string
	// Offset is the byte offset in the decompressed object where the
	// problem was found, or -1 when it does not apply (fetch errors).
	Offset int64
	// Index is the 0-based index of the record concerned, or -1.
	Index int64
	Err   error
}

func (e *ObjectError) Error() string {
	var b strings.Builder
	b.WriteString("source: ")
	if e.Bucket != "" {
		b.WriteString("s3://")
		b.WriteString(e.Bucket)
		b.WriteByte('/')
	}
	b.WriteString(e.Key)
	if e.VersionID != "" {
		b.WriteString("?versionId=")
		b.WriteString(e.VersionID)
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, ": offset %d", e.Offset)
	}
	if e.Index >= 0 {
		fmt.Fprintf(&b, ": record %d", e.Index)
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *ObjectError) Unwrap() error { return e.Err }

// MessageError is a failure concerning one SQS message as a whole (its body
// cannot be decoded, or a record of it was negatively acknowledged). The
// message stays in the queue.
type MessageError struct {
	MessageID string
	Err       error
}

func (e *MessageError) Error() string {
	return "source: sqs message " + e.MessageID + ": " + e.Err.Error()
}

func (e *MessageError) Unwrap() error { return e.Err }

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{lakerelay.ErrInvalidRecord}, args...)...)
}

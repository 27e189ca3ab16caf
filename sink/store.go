package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/lakerelay/lakerelay/internal/telemetry"
)

// Store is where objects go: an S3 bucket ([S3Store]) or a local directory
// ([DirStore]). Keys are slash-separated object keys, validated with
// [partition.ValidateKey]; a key for Put must not end in "/".
//
// Implementations are safe for concurrent use.
type Store interface {
	// Put stores body under key, reading it to the end. It streams: large
	// bodies are uploaded in parts with bounded memory. Put returns nil only
	// when the object is durable (S3 acknowledged it; the file was synced
	// and renamed into place). On error no object may be assumed stored,
	// and a partial object is never visible under key.
	Put(ctx context.Context, key string, body io.Reader, o PutOptions) error
	// Get opens the object stored under key. The caller closes the reader.
	// A missing object yields an error wrapping [ErrNotFound].
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// List calls fn for every object whose key starts with prefix, in
	// lexicographic (byte) order of keys. It stops at fn's first error and
	// returns it.
	List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error
	// Delete removes the object under key. Deleting a missing object is not
	// an error.
	Delete(ctx context.Context, key string) error
	// Location returns where key lives, for messages: "s3://bucket/key" or a
	// file path.
	Location(key string) string
}

// PutOptions are per-object settings for [Store.Put]. The zero value is
// valid.
type PutOptions struct {
	// ContentType is the object's media type, for example
	// "application/x-ndjson". Empty leaves the store's default.
	ContentType string
	// ContentEncoding is the object's content coding ("gzip", "zstd"), empty
	// for none.
	ContentEncoding string
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key          string
	Size         int64
	LastModified time.Time
}

// ErrNotFound is wrapped by errors for objects that do not exist.
var ErrNotFound = errors.New("sink: not found")

// StoreError is the error every store operation returns. It names the
// operation and where it went, and wraps the cause: the original SDK error
// (so errors.As(err, &smithy.APIError) works), an *os.PathError, or
// [ErrNotFound]. Causes that retrying cannot fix (access denied, missing
// bucket, bad credentials, invalid key) are marked with
// [lakerelay.Permanent].
type StoreError struct {
	// Op is "put", "get", "list" or "delete".
	Op string
	// Location is [Store.Location] of Key (or of the prefix for "list").
	Location string
	// Bucket is the S3 bucket, empty for a directory store.
	Bucket string
	// Key is the object key (or prefix for "list").
	Key string
	// Err is the cause.
	Err error
}

func (e *StoreError) Error() string {
	return fmt.Sprintf("sink: %s %s: %v", e.Op, e.Location, e.Err)
}

// Unwrap returns the cause.
func (e *StoreError) Unwrap() error { return e.Err }

// reportPut runs put, then logs and measures its outcome.
func reportPut(t telemetry.T, location string, body io.Reader, put func() error) error {
	size := int64(-1)
	if l, ok := body.(interface{ Len() int }); ok {
		size = int64(l.Len())
	}
	start := time.Now()
	err := put()
	if err != nil {
		t.Error(err)
		t.Log.Warn("put failed", "location", location, "error", err)
		return err
	}
	if t.Debug() {
		t.Log.Debug("object stored", "location", location, "bytes", size, "duration", time.Since(start))
	}
	return nil
}

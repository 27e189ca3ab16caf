package partition

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// MaxKeyLen is the longest object key S3 accepts, in bytes.
const MaxKeyLen = 1024

// ErrInvalidKey is wrapped by every error that rejects a key, a key segment
// or a value that would become part of a key.
var ErrInvalidKey = errors.New("partition: invalid key")

// KeyError says why a key or a value that would become part of one was
// rejected. It wraps [ErrInvalidKey].
type KeyError struct {
	// Field names what was checked: a template field ("account"), "key" for
	// a whole key, or "segment N" for a key's N-th (1-based) segment.
	Field string
	// Value is the offending value, truncated to 64 bytes.
	Value string
	// Reason says what is wrong with it.
	Reason string
	// Hidden leaves Value out of Error, for a value read from a record
	// (whose contents are never logged); see [KeyError.Hide].
	Hidden bool
}

func (e *KeyError) Error() string {
	if e.Hidden {
		return fmt.Sprintf("partition: %s (%d bytes, not shown): %s", e.Field, len(e.Value), e.Reason)
	}
	return fmt.Sprintf("partition: %s %q: %s", e.Field, e.Value, e.Reason)
}

// Hide returns, for a *KeyError, a copy whose message leaves the value out
// (its length is said instead): for values read from a record, so that an
// error that is logged carries none of the record's contents. Other errors
// are returned as they are.
func Hide(err error) error {
	if ke, ok := err.(*KeyError); ok {
		h := *ke
		h.Hidden = true
		return &h
	}
	return err
}

// Unwrap returns [ErrInvalidKey].
func (e *KeyError) Unwrap() error { return ErrInvalidKey }

func keyError(field, value, reason string) error {
	if len(value) > 64 {
		value = value[:64] + "..."
	}
	return &KeyError{Field: field, Value: value, Reason: reason}
}

// ValidateKey reports whether key is a safe object key: not empty, at most
// [MaxKeyLen] bytes, valid UTF-8, no control characters, no leading "/", and
// no empty, "." or ".." segment. A single trailing "/" is allowed, so that
// prefixes (as returned by the builders in this package) validate too.
// The error is a *[KeyError] naming the problem.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return keyError("key", key, "empty")
	case len(key) > MaxKeyLen:
		return keyError("key", key, fmt.Sprintf("%d bytes, longer than %d", len(key), MaxKeyLen))
	case key[0] == '/':
		return keyError("key", key, `starts with "/"`)
	}
	if err := checkChars("key", key); err != nil {
		return err
	}
	body := strings.TrimSuffix(key, "/")
	n := 0
	for seg := range strings.SplitSeq(body, "/") {
		n++
		if err := checkSegment(seg); err != "" {
			return keyError(fmt.Sprintf("key segment %d", n), seg, err)
		}
	}
	return nil
}

// ValidateSegment reports whether value may be used as one segment of an
// object key: not empty, no "/", not "." or "..", valid UTF-8, no control
// characters, at most [MaxKeyLen] bytes. field names the value in the error
// (for example "account"); the error is a *[KeyError].
func ValidateSegment(field, value string) error {
	if len(value) > MaxKeyLen {
		return keyError(field, value, fmt.Sprintf("%d bytes, longer than %d", len(value), MaxKeyLen))
	}
	if err := checkChars(field, value); err != nil {
		return err
	}
	if strings.Contains(value, "/") {
		return keyError(field, value, `contains "/"`)
	}
	if err := checkSegment(value); err != "" {
		return keyError(field, value, err)
	}
	return nil
}

func checkSegment(seg string) string {
	switch seg {
	case "":
		return "empty segment"
	case ".", "..":
		return `segment is "." or ".."`
	}
	return ""
}

func checkChars(field, s string) error {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return keyError(field, s, fmt.Sprintf("invalid UTF-8 at byte %d", i))
			}
		}
		if unicode.IsControl(r) {
			return keyError(field, s, fmt.Sprintf("control character %U at byte %d", r, i))
		}
	}
	return nil
}

// ObjectName returns a new object name (the last key segment) ending in ext,
// for example "20261201T110302Z-019ad9f4-2c1e-7b3a-9f0e-5d2b8c1a4e77.json.gz".
//
// Names are unique across any number of writers on any number of machines:
// the UUIDv7 holds the millisecond time, a 12-bit sequence that increases
// strictly within the process, and 62 random bits. They sort by creation
// time: the UTC second (taken from the UUID's own timestamp) comes first,
// then the UUID, whose leading bits are the millisecond and the sequence.
// ext is appended as given; use "" or an extension such as ".jsonl",
// ".json.gz", ".json.zst" or ".parquet".
func ObjectName(ext string) string {
	u, err := uuid.NewV7()
	if err != nil {
		// Unreachable in practice (crypto/rand does not fail); stay unique anyway.
		var b [16]byte
		_, _ = rand.Read(b[:])
		return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:]) + ext
	}
	ms := int64(u[0])<<40 | int64(u[1])<<32 | int64(u[2])<<24 | int64(u[3])<<16 | int64(u[4])<<8 | int64(u[5])
	return time.UnixMilli(ms).UTC().Format("20060102T150405Z") + "-" + u.String() + ext
}

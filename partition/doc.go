// Package partition builds and validates object keys: Amazon Security Lake
// partitions, connector and vendor layouts, Hive-style paths, key templates,
// and unique, time-ordered object names.
//
// It is pure: no I/O, no AWS clients.
//
// # Errors
//
// Every value that becomes part of a key is validated: no empty segment, no
// "." or ".." segment, no control characters, no leading "/", valid UTF-8,
// at most [MaxKeyLen] bytes in all. Rejections are *[KeyError] values naming
// the field and wrapping [ErrInvalidKey].
//
// # Concurrency
//
// All functions, and the methods of a compiled [Template], are safe for
// concurrent use.
package partition

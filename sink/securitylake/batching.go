package securitylake

import "github.com/lakerelay/lakerelay/batch"

// DefaultMaxPendingBytes bounds the memory of a batcher configured with
// [BatchOptions]: two full partitions' worth of input.
const DefaultMaxPendingBytes = 2 * DefaultMaxBytes

// BatchOptions sets a batcher's limits to Security Lake's guidance, a file
// per partition at most every [DefaultMaxAge] unless [DefaultMaxBytes] of
// input (or [DefaultMaxRecords] records) arrive sooner:
//
//	b, err := batch.New(s, securitylake.BatchOptions)
//
// Later option functions may change any of them.
func BatchOptions(o *batch.Options) {
	o.MaxRecords = DefaultMaxRecords
	o.MaxBytes = DefaultMaxBytes
	o.MaxAge = DefaultMaxAge
	o.MaxPendingBytes = max(o.MaxPendingBytes, DefaultMaxPendingBytes)
}

package batch

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/lakerelay/lakerelay"
)

// PartitionSink is a sink that computes the partitions of its own records,
// such as sink.JSONL and securitylake.Sink.
type PartitionSink interface {
	lakerelay.Sink
	lakerelay.Partitioner
}

// Router is one [lakerelay.Sink] and [lakerelay.Partitioner] in front of
// several sinks, so that one [Batcher] and one [Run] can deliver records to
// whichever sink each belongs to (an OCSF class to its Security Lake
// source, a log type to its bucket). Route names the record's route and its
// sink; the partition Router returns is the route's name and the sink's
// partition, so batches never mix routes and the Batcher's limits and memory
// bound hold across every route. A record Route or its sink rejects goes to
// Run's quarantine with the reason.
//
// Route is called from Run's reading goroutine only; it may open sinks as
// new routes appear. Route names must not contain "\x00".
type Router struct {
	// Route returns the name of r's route and its sink, or an error (r is
	// then rejected with it). It must return the same sink for a name.
	Route func(r lakerelay.Record) (name string, s PartitionSink, err error)

	sinks sync.Map // name -> PartitionSink
}

// Partition returns "<route>\x00<sink's partition>".
func (rt *Router) Partition(r lakerelay.Record) (string, error) {
	name, s, err := rt.Route(r)
	if err != nil {
		return "", err
	}
	if strings.Contains(name, "\x00") {
		return "", fmt.Errorf("batch: route name %q contains NUL", name)
	}
	p, err := s.Partition(r)
	if err != nil {
		return "", err
	}
	rt.sinks.LoadOrStore(name, s)
	return name + "\x00" + p, nil
}

// WriteBatch writes records to the sink of the route part names.
func (rt *Router) WriteBatch(ctx context.Context, part string, records []lakerelay.Record) error {
	name, p, ok := strings.Cut(part, "\x00")
	s, found := rt.sinks.Load(name)
	if !ok || !found {
		return fmt.Errorf("batch: Router: partition %q names no route", part)
	}
	return s.(PartitionSink).WriteBatch(ctx, p, records)
}

// SplitPartition returns the route and the sink's partition of a partition
// Router returned (in a FlushResult, for example).
func SplitPartition(part string) (route, partition string) {
	route, partition, _ = strings.Cut(part, "\x00")
	return route, partition
}

// Map returns a source that yields the records of src with Data replaced by
// fn(Data): a mapping (CloudTrail to OCSF, for example) applied before
// partitioning. A record fn rejects is handed to q with fn's error, as it
// was read (q settles it), and Map reads on; with q nil it is negatively
// acknowledged with that error. Closing the result closes src.
//
// By default fn runs on the goroutine that calls Read. With
// [MapOptions].Workers above 1 it runs on that many goroutines at once; see
// there. With fn nil, Map is [ReadAhead].
func Map(src lakerelay.Source, fn func([]byte) ([]byte, error), q Quarantiner, opts ...func(*MapOptions)) *Mapped {
	var o MapOptions
	for _, f := range opts {
		f(&o)
	}
	m := &Mapped{src: src, fn: fn, q: q, workers: max(o.Workers, 1), ahead: o.MaxAhead, aheadB: o.MaxAheadBytes, compact: o.CompactJSON}
	switch {
	case m.ahead > 0:
	case fn == nil:
		m.ahead = DefaultReadAhead
	default:
		m.ahead = DefaultMaxAhead * m.workers
	}
	if m.aheadB <= 0 {
		m.aheadB = DefaultMaxAheadBytes
	}
	return m
}

package source

import (
	"log/slog"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/lakerelay/lakerelay"
)

// Stats counts what a source did. Every source fills the fields that apply
// to it.
type Stats struct {
	// Messages is the number of SQS messages received (redeliveries count
	// again).
	Messages int64 `json:"messages"`
	// Deleted is the number of SQS messages deleted after every record was
	// acknowledged.
	Deleted int64 `json:"deleted"`
	// Objects is the number of objects (or files) read to their end.
	Objects int64 `json:"objects"`
	// Records is the number of records handed out by Read.
	Records int64 `json:"records"`
	// Skipped counts what was deliberately not read: test events, events
	// other than object creation, objects outside the include/exclude
	// prefixes, CloudWatch Logs control messages.
	Skipped int64 `json:"skipped"`
	// Quarantined counts invalid records handed to the quarantine.
	Quarantined int64 `json:"quarantined"`
	// Errors counts failures: objects that could not be fetched or decoded,
	// message bodies that could not be decoded, invalid records without a
	// quarantine.
	Errors int64 `json:"errors"`
	// NotFound counts, among Errors, objects that did not exist.
	NotFound int64 `json:"not_found"`
	// Redelivered counts SQS messages received again
	// (ApproximateReceiveCount > 1).
	Redelivered int64 `json:"redelivered"`
	// MaxReceived counts SQS messages set aside (quarantined, then deleted)
	// past SQSOptions.MaxReceiveCount.
	MaxReceived int64 `json:"max_received"`
	// Subscriptions counts SNS subscriptions confirmed.
	Subscriptions int64 `json:"subscriptions"`
}

type counters struct {
	messages, deleted, objects, records, skipped, quarantined, errors, notFound atomic.Int64
	redelivered, maxReceived, subscriptions                                     atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Messages:      c.messages.Load(),
		Deleted:       c.deleted.Load(),
		Objects:       c.objects.Load(),
		Records:       c.records.Load(),
		Skipped:       c.skipped.Load(),
		Quarantined:   c.quarantined.Load(),
		Errors:        c.errors.Load(),
		NotFound:      c.notFound.Load(),
		Redelivered:   c.redelivered.Load(),
		MaxReceived:   c.maxReceived.Load(),
		Subscriptions: c.subscriptions.Load(),
	}
}

// prefixMap maps key prefixes to log types; the longest matching prefix
// wins.
type prefixMap struct {
	prefixes []string // longest first
	m        map[string]string
}

func newPrefixMap(m map[string]string) prefixMap {
	pm := prefixMap{m: m}
	for p := range m {
		pm.prefixes = append(pm.prefixes, p)
	}
	sort.Slice(pm.prefixes, func(i, j int) bool {
		if len(pm.prefixes[i]) != len(pm.prefixes[j]) {
			return len(pm.prefixes[i]) > len(pm.prefixes[j])
		}
		return pm.prefixes[i] < pm.prefixes[j]
	})
	return pm
}

func (pm prefixMap) lookup(key string) string {
	for _, p := range pm.prefixes {
		if strings.HasPrefix(key, p) {
			return pm.m[p]
		}
	}
	return ""
}

// keyFilter selects keys by include and exclude prefixes: a key is selected
// when it matches an include prefix (or there are none) and no exclude
// prefix.
type keyFilter struct{ include, exclude []string }

func (f keyFilter) selected(key string) bool {
	for _, p := range f.exclude {
		if strings.HasPrefix(key, p) {
			return false
		}
	}
	if len(f.include) == 0 {
		return true
	}
	for _, p := range f.include {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// objectStream reads the records of one object, handing invalid records to
// a quarantine.
type objectStream struct {
	dec        *decoder
	origin     lakerelay.Origin // Bucket, Key, VersionID, LogType
	quarantine lakerelay.Quarantine
	c          *counters
	tel        *telemetry
	skipped    int64 // decoder skips already counted
	// Records handed out and their bytes: all of them (for the log), and
	// those not yet reported to the Observer.
	records, pending, pendingBytes int64
}

func newObjectStream(r interface{ Read([]byte) (int, error) }, opts DecodeOptions, origin lakerelay.Origin, q lakerelay.Quarantine, c *counters, tel *telemetry) *objectStream {
	o := &objectStream{
		origin:     origin,
		quarantine: q,
		c:          c,
		tel:        tel,
	}
	o.dec = newDecoder(r, opts, origin.Bucket, origin.Key, origin.VersionID)
	// The records handed out are reported before each read of the object's
	// bytes that may block: a slow stream (standard input fed a line at a
	// time) is counted as its records arrive, not only every flushEvery
	// records, and the drop-off alarm sees them.
	o.dec.wait = o.report
	return o
}

// handedOut counts a record the source handed out (the caller counts
// Stats.Records); the Observer hears of them every flushEvery records,
// before each read of the object's bytes and when the object ends.
func (o *objectStream) handedOut(r lakerelay.Record) {
	o.records++
	o.pending++
	o.pendingBytes += int64(len(r.Data))
	if o.pending >= flushEvery {
		o.report()
	}
}

// report tells the Observer of the records not yet reported.
func (o *objectStream) report() {
	o.tel.records(o.origin.LogType, o.pending, o.pendingBytes)
	o.pending, o.pendingBytes = 0, 0
}

// next returns the next valid record (its Ack nil, or its slab's with
// DecodeOptions.ReuseData: the caller settles it), io.EOF at the end of the
// object, or an error. An *ObjectError wrapping lakerelay.ErrInvalidRecord
// with Index >= 0 concerns a single record that could not be quarantined;
// the stream can go on after it. Any other error ends the stream.
func (o *objectStream) next() (lakerelay.Record, error) {
	for {
		d, err := o.dec.next()
		if n := o.dec.skipped - o.skipped; n > 0 {
			o.c.skipped.Add(n)
			o.skipped = o.dec.skipped
		}
		if err != nil {
			return lakerelay.Record{}, err
		}
		origin := o.origin
		origin.Index, origin.Offset, origin.CloudWatch = d.index, d.offset, d.cw
		rec := lakerelay.Record{Data: d.data, Origin: origin, JSON: d.json}
		if d.slab != nil {
			rec.Ack = d.slab.ack
		}
		if d.invalid == nil {
			return rec, nil
		}
		// The record is not handed out: once quarantined (the quarantine
		// keeps a copy) or failed, its Data may be reused.
		reason := &ObjectError{Bucket: origin.Bucket, Key: origin.Key, VersionID: origin.VersionID, Offset: d.offset, Index: d.index, Err: d.invalid}
		if o.quarantine == nil {
			rec.Settle(nil)
			return lakerelay.Record{}, reason
		}
		qerr := o.quarantine(rec, reason)
		rec.Settle(nil)
		if qerr != nil {
			return lakerelay.Record{}, &ObjectError{Bucket: origin.Bucket, Key: origin.Key, VersionID: origin.VersionID, Offset: d.offset, Index: d.index,
				Err: &quarantineError{reason: d.invalid, err: qerr}}
		}
		o.c.quarantined.Add(1)
		o.tel.quarantined(origin.LogType, problemClass(d.invalid))
		if o.tel.debugOn() {
			o.tel.debug("record quarantined", slog.String("bucket", origin.Bucket), slog.String("key", origin.Key),
				slog.Int64("index", d.index), slog.Int64("offset", d.offset), slog.String("class", problemClass(d.invalid)))
		}
	}
}

// close releases the decoder and reports the records not yet reported. It
// may be called more than once.
func (o *objectStream) close() {
	o.dec.close()
	o.report()
}

// quarantineError reports that an invalid record could not be quarantined.
type quarantineError struct{ reason, err error }

func (e *quarantineError) Error() string {
	return "quarantine failed: " + e.err.Error() + " (record: " + e.reason.Error() + ")"
}

// Unwrap returns both the quarantine's error and the reason.
func (e *quarantineError) Unwrap() []error { return []error{e.err, e.reason} }

package securitylake

import (
	"strings"
	"sync"
	"sync/atomic"
)

// MaxDroppedFieldPaths bounds the distinct field paths a [Sink] reports to
// Options.OnDroppedField.
const MaxDroppedFieldPaths = 1000

// Stats counts what a [Sink] stored; Options.OnWrite reports the same per
// object.
type Stats struct {
	// Objects is the number of Parquet objects stored.
	Objects int64 `json:"objects"`
	// Records is the number of records (rows) in them.
	Records int64 `json:"records"`
	// Bytes is the size of the objects stored.
	Bytes int64 `json:"bytes"`
	// Quarantined is the number of records that did not fit and that
	// Options.Quarantine accepted.
	Quarantined int64 `json:"quarantined"`
	// DroppedFields is the number of fields left out of stored records
	// because the schema has no column for them (Options.DropUnknownFields);
	// each occurrence counts.
	DroppedFields int64 `json:"dropped_fields"`
	// RecordsWithDroppedFields is the number of stored records that lost
	// at least one field.
	RecordsWithDroppedFields int64 `json:"records_with_dropped_fields"`
}

// Stats returns the counters of what was stored so far. It is safe for
// concurrent use.
func (s *Sink) Stats() Stats {
	return Stats{Objects: s.objects.Load(), Records: s.records.Load(), Bytes: s.bytes.Load(),
		Quarantined:   s.quarantined.Load(),
		DroppedFields: s.droppedFields.Load(), RecordsWithDroppedFields: s.droppedRecords.Load()}
}

// stats are the Sink's counters of stored objects.
type stats struct {
	objects, records, bytes, quarantined atomic.Int64
}

// drops are the unknown fields dropped from the rows a converter (or a
// WriteBatch) stored.
type drops struct {
	dropUnknown bool     // drop unknown fields instead of rejecting the row
	extraPaths  []string // the current row's unknown fields
	paths       []string // dropped field paths, one per occurrence
	rows        int64
}

// drop records the current row's unknown fields as dropped.
func (c *converter) drop() {
	c.paths = append(c.paths, c.extraPaths...)
	c.drops.rows++
}

func (d *drops) clear() { d.paths, d.rows = d.paths[:0], 0 }

func (d *drops) add(o *drops) {
	d.paths = append(d.paths, o.paths...)
	d.rows += o.rows
}

// dropStats is the Sink's share: counters and the paths already reported.
type dropStats struct {
	droppedFields, droppedRecords atomic.Int64
	seenMu                        sync.Mutex
	seen                          map[string]bool
}

// dropped counts the fields dropped from a stored batch and reports the
// paths not reported before.
func (s *Sink) dropped(d *drops) {
	if d.rows == 0 {
		return
	}
	s.droppedFields.Add(int64(len(d.paths)))
	s.droppedRecords.Add(d.rows)
	var report []string
	s.seenMu.Lock()
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	for _, p := range d.paths {
		p = withoutIndices(p)
		if !s.seen[p] && len(s.seen) < MaxDroppedFieldPaths {
			s.seen[p] = true
			report = append(report, p)
		}
	}
	s.seenMu.Unlock()
	for _, p := range report {
		s.tel.Log.Warn("unknown field dropped", "location", s.Location(), "path", p,
			"why", "not in the schema, which has no unmapped column; dropped from every event that has it")
		if s.o.OnDroppedField != nil {
			s.o.OnDroppedField(p)
		}
	}
}

// withoutIndices turns "a[3].b" into "a[].b", so that one field of every
// list element is one path.
func withoutIndices(p string) string {
	if strings.IndexByte(p, '[') < 0 {
		return p
	}
	var b strings.Builder
	in := false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '[':
			in = true
			b.WriteByte(c)
		case c == ']':
			in = false
			b.WriteByte(c)
		case !in:
			b.WriteByte(c)
		}
	}
	return b.String()
}

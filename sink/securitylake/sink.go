package securitylake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/awserr"
	"github.com/lakerelay/lakerelay/internal/telemetry"
	"github.com/lakerelay/lakerelay/ocsf"
	"github.com/lakerelay/lakerelay/partition"
	"github.com/lakerelay/lakerelay/sink"
)

// Batching defaults that follow Security Lake's guidance for custom sources:
// deliver a file per partition at most every 5 minutes, unless it is larger
// than 256 MiB. Use them for the batcher in front of the sink.
const (
	// DefaultMaxAge is how long a partition's records may wait for a flush.
	DefaultMaxAge = 5 * time.Minute
	// DefaultMaxBytes is the input size (JSON bytes) at which a partition
	// is flushed before DefaultMaxAge. The Parquet object is several times
	// smaller than its JSON input.
	DefaultMaxBytes = 256 << 20
	// DefaultMaxRecords is the record count at which a partition is flushed
	// early.
	DefaultMaxRecords = 1_000_000
)

// Parquet layout limits from the Security Lake custom source requirements,
// and the defaults the sink writes with.
const (
	// MaxDataPageBytes bounds the uncompressed size of a data page.
	MaxDataPageBytes = 1 << 20
	// MaxRowGroupBytes bounds the compressed size of a row group.
	MaxRowGroupBytes = 256 << 20
	// DefaultRowGroupBytes is the default bound on the compressed size of
	// a row group. The row group being written is held in memory.
	DefaultRowGroupBytes = 64 << 20
	// DefaultChunkBytes is how much JSON input is converted into one Arrow
	// record batch at a time.
	DefaultChunkBytes = 4 << 20
	// dataPageBytes is the page size the writer aims for; it may overshoot
	// by one write batch of values, so it stays well below the limit.
	dataPageBytes  = 256 << 10
	writeBatchSize = 256
)

// Options configure a [Sink]. The zero value of every field means its
// default.
type Options struct {
	// Schema is the Arrow schema of the Parquet files; default
	// ocsf.ArrowSchema(class), the built-in OCSF definition. Others come
	// from ocsf.LoadSchema(...).ArrowSchema or ocsf.ParseTagSchema. It
	// should have a top-level utf8 "unmapped" column: fields of a record
	// that the schema has no column for are kept there as JSON. Without one
	// such a record is rejected.
	Schema *arrow.Schema
	// Region and AccountID are used for records without cloud.region or
	// cloud.account.uid. Without them such records are rejected.
	Region    string
	AccountID string
	// Quarantine receives records that [Sink.WriteBatch] finds do not fit
	// the schema (a type mismatch, a class other than Class). They are left
	// out of the object. Once it returns nil for each, WriteBatch may
	// return nil and the batch is acknowledged. When nil, such a record
	// fails the whole WriteBatch with an error wrapping
	// [lakerelay.ErrInvalidRecord].
	Quarantine lakerelay.Quarantine
	// DropUnknownFields, for a Schema without an "unmapped" column (such as
	// a tag-format schema), stores records with fields the schema has no
	// column for without those fields, instead of rejecting the whole
	// record. Each dropped field is counted in [Sink.Stats]; OnDroppedField
	// hears of each field path once. It has no effect when the schema has
	// an "unmapped" column (the fields are kept there). Default false:
	// such records are rejected (quarantined).
	DropUnknownFields bool
	// OnDroppedField, if set, is called with the path of a dropped field
	// ("actor.session.extra", list indices as "[]") the first time a
	// stored record lost it, after its object is stored, from the
	// goroutine that called WriteBatch. It receives the path only, never
	// the value. It must be safe for concurrent use when WriteBatch is
	// called concurrently. At most [MaxDroppedFieldPaths] distinct paths
	// are reported; all are counted.
	OnDroppedField func(path string)
	// Allocator is used for the Parquet writer's buffers; default
	// memory.DefaultAllocator. (The converted record batches live in the
	// converter's own memory, reused from chunk to chunk.)
	Allocator memory.Allocator
	// CompressionLevel is the zstd level; 0 means the codec's default.
	CompressionLevel int
	// RowGroupBytes bounds the compressed size of each row group (row
	// groups are filled to about 70-80% of it, by estimate); default
	// DefaultRowGroupBytes, at most MaxRowGroupBytes. A row group holds at
	// least one row, so a bound below the schema's fixed cost per row group
	// (about 64 bytes per column) is exceeded.
	RowGroupBytes int64
	// ChunkBytes is how many JSON bytes are converted per Arrow record
	// batch; default DefaultChunkBytes.
	ChunkBytes int
	// OnWrite, if set, is called after each object is stored (and its
	// misfits quarantined), from the goroutine that called WriteBatch. It
	// must be safe for concurrent use when WriteBatch is called
	// concurrently.
	OnWrite func(Written)

	// Logger receives the sink's structured log (nil: none): Info when it
	// is created, Debug for each object stored (partition, key, records,
	// quarantined, bytes, duration), Warn for each record the quarantine
	// refused (its origin and the error) and, with DropUnknownFields, for
	// each field path dropped for the first time (the path, never the
	// value). Failed writes are logged by the store and the batcher. Never
	// record contents.
	Logger *slog.Logger
	// Observer receives, under Source Name (nil: none), for each object
	// stored [lakerelay.MetricRecordsOut] and [lakerelay.MetricBytesOut]
	// (the Parquet object's size) per log type of its records (bytes
	// shared by record count when a batch mixes log types), and
	// [lakerelay.MetricQuarantined] per record handed to the quarantine
	// (Class [lakerelay.ClassInvalid] or as its error tells).
	Observer lakerelay.Observer
	// Name is the Source label and the "component" log attribute; default
	// "securitylake".
	Name string
	// PartitionLabel fills the Partition label of the records and bytes
	// out with the batch's partition. Off by default: partitions grow with
	// time (see metrics.RegistryOptions.Partitions, which must opt in too).
	PartitionLabel bool
}

// Written describes one stored object.
type Written struct {
	// Location is where the object is (s3://bucket/key or a path); Key is
	// its key in the store.
	Location, Key string
	// Partition is "region=…/accountId=…/eventDay=…/".
	Partition string
	// Records is the number of rows in the object; Quarantined the number
	// of records of the batch left out.
	Records, Quarantined int
	// Bytes is the size of the Parquet object.
	Bytes int64
}

// Validate reports every problem with o, joined.
func (o *Options) Validate() error {
	var errs []error
	if o.Region != "" {
		if err := partition.ValidateRegion(o.Region); err != nil {
			errs = append(errs, fmt.Errorf("securitylake: Options.Region: %w", err))
		}
	}
	if o.AccountID != "" {
		if err := partition.ValidateAccount(o.AccountID); err != nil {
			errs = append(errs, fmt.Errorf("securitylake: Options.AccountID: %w", err))
		}
	}
	if o.RowGroupBytes < 0 || o.RowGroupBytes > MaxRowGroupBytes {
		errs = append(errs, fmt.Errorf("securitylake: Options.RowGroupBytes %d: must be between 0 and %d", o.RowGroupBytes, MaxRowGroupBytes))
	}
	if o.ChunkBytes < 0 {
		errs = append(errs, fmt.Errorf("securitylake: Options.ChunkBytes %d: must not be negative", o.ChunkBytes))
	}
	return errors.Join(errs...)
}

// Sink writes OCSF records as zstd Parquet objects in the layout of an
// Amazon Security Lake custom source. It implements [lakerelay.Sink] and
// [lakerelay.Partitioner]; it is safe for concurrent use.
type Sink struct {
	store  sink.Store
	prefix string // key prefix of the source location, "" or ending in "/"
	class  int
	o      Options
	props  *parquet.WriterProperties
	aprops pqarrow.ArrowWriterProperties
	pool   sync.Pool // *converter
	tel    telemetry.T

	stats
	dropStats
}

var (
	_ lakerelay.Sink        = (*Sink)(nil)
	_ lakerelay.Partitioner = (*Sink)(nil)
)

// New returns a sink that writes to store under location, the custom
// source's location exactly as Security Lake reports it
// ("s3://bucket/ext/<source>/" or with a version segment,
// "s3://bucket/ext/<source>/1.0/"). For a store that is not an S3 bucket,
// location is a directory path inside the store's root (the root itself for
// partitions directly under it). class is the OCSF class_uid the sink
// accepts (Security Lake wants one class per custom source), for example
// 6003 (API Activity).
func New(store sink.Store, location string, class int, opts ...func(*Options)) (*Sink, error) {
	if class <= 0 {
		return nil, fmt.Errorf("securitylake: class %d: want an OCSF class_uid, for example 6003", class)
	}
	if store == nil {
		return nil, errors.New("securitylake: nil store")
	}
	var o Options
	for _, f := range opts {
		f(&o)
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Allocator == nil {
		o.Allocator = memory.DefaultAllocator
	}
	if o.RowGroupBytes == 0 {
		o.RowGroupBytes = DefaultRowGroupBytes
	}
	if o.ChunkBytes == 0 {
		o.ChunkBytes = DefaultChunkBytes
	}
	if o.Schema == nil {
		schema, err := ocsf.ArrowSchema(class)
		if err != nil {
			return nil, fmt.Errorf("securitylake: no schema for class %d (set Options.Schema): %w", class, err)
		}
		o.Schema = schema
	}
	prefix, err := LocationPrefix(store, location)
	if err != nil {
		return nil, err
	}
	// Check once that the schema converts.
	c, err := newConverter(o.Schema)
	if err != nil {
		return nil, err
	}
	s := &Sink{store: store, prefix: prefix, class: class, o: o, tel: telemetry.New(o.Logger, o.Observer, o.Name, "securitylake")}
	s.pool.Put(c)
	s.aprops = pqarrow.NewArrowWriterProperties(
		pqarrow.WithAllocator(o.Allocator),
		pqarrow.WithCoerceTimestamps(arrow.Millisecond),
		pqarrow.WithTruncatedTimestamps(true),
	)
	s.props = writerProperties(o.Allocator, o.CompressionLevel)
	s.tel.Log.Info("security lake sink created", "location", s.Location(), "class_uid", class,
		"drop_unknown_fields", o.DropUnknownFields)
	return s, nil
}

// Class returns the OCSF class_uid the sink accepts.
func (s *Sink) Class() int { return s.class }

// Location returns where the source location lives in the store.
func (s *Sink) Location() string { return s.store.Location(s.prefix) }

// LocationPrefix maps a source location to a key prefix of store: for an S3
// location ("s3://bucket/ext/src/1.0/") the key part, after checking that
// store is that bucket; for a path, its position under the store's root. The
// prefix is "" or ends in "/".
func LocationPrefix(store sink.Store, location string) (string, error) {
	var prefix string
	if rest, ok := strings.CutPrefix(location, "s3://"); ok {
		bucket, p, _ := strings.Cut(rest, "/")
		if bucket == "" {
			return "", fmt.Errorf("securitylake: location %q: no bucket", location)
		}
		prefix = p
		if prefix != "" && !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		if got, want := store.Location(prefix+"x"), "s3://"+bucket+"/"+prefix+"x"; got != want {
			return "", fmt.Errorf("securitylake: location %q is not in store %s", location, store.Location(""))
		}
	} else {
		if location == "" {
			return "", errors.New("securitylake: empty location")
		}
		root := store.Location("")
		if strings.Contains(root, "://") {
			return "", fmt.Errorf("securitylake: location %q is a path, but the store is %s", location, root)
		}
		abs, err := filepath.Abs(location)
		if err != nil {
			return "", fmt.Errorf("securitylake: location %q: %w", location, err)
		}
		rootAbs, err := filepath.Abs(root)
		if err != nil {
			return "", fmt.Errorf("securitylake: location %q: %w", location, err)
		}
		rel, err := filepath.Rel(rootAbs, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", fmt.Errorf("securitylake: location %q is outside the store root %s", location, root)
		}
		if rel != "." {
			prefix = filepath.ToSlash(rel) + "/"
		}
	}
	if prefix != "" {
		if err := partition.ValidateKey(prefix); err != nil {
			return "", fmt.Errorf("securitylake: location %q: %w", location, err)
		}
	}
	return prefix, nil
}

// RecordError says why one record was not written; it wraps
// [lakerelay.ErrInvalidRecord] and the cause (often a *[FieldError]).
type RecordError struct {
	Origin lakerelay.Origin
	Err    error
}

func (e *RecordError) Error() string {
	// The cause's own "securitylake: " (ErrClass, for one) is not repeated.
	return "securitylake: record " + e.Origin.String() + ": " + strings.TrimPrefix(e.Err.Error(), "securitylake: ")
}

// Unwrap returns the cause and [lakerelay.ErrInvalidRecord].
func (e *RecordError) Unwrap() []error { return []error{lakerelay.ErrInvalidRecord, e.Err} }

// ErrClass is wrapped by the error for a record of another OCSF class than
// the sink's.
var ErrClass = errors.New("securitylake: record of another OCSF class")

// Partition returns the record's partition,
// "region=<r>/accountId=<a>/eventDay=<yyyyMMdd>/", from cloud.region,
// cloud.account.uid (or the configured defaults) and the UTC day of time.
// Records that are not JSON objects, lack a time, or are of another class
// get an error wrapping [lakerelay.ErrInvalidRecord]; quarantine them.
// Type mismatches deeper in the record are found by WriteBatch.
func (s *Sink) Partition(r lakerelay.Record) (string, error) {
	var sc scanner
	m, err := scanMeta(&sc, r.Data)
	if err != nil {
		return "", &RecordError{Origin: r.Origin, Err: err}
	}
	p, err := s.partitionOf(m)
	if err != nil {
		return "", &RecordError{Origin: r.Origin, Err: err}
	}
	return p, nil
}

func (s *Sink) partitionOf(m meta) (string, error) {
	if !m.hasClass {
		return "", &FieldError{Path: "class_uid", Err: errors.New("missing")}
	}
	if m.classUID != int64(s.class) {
		return "", fmt.Errorf("%w: class_uid %d, this sink takes %d", ErrClass, m.classUID, s.class)
	}
	if !m.hasTime {
		return "", &FieldError{Path: "time", Err: errors.New("missing")}
	}
	region, account := m.region, m.account
	if region == "" {
		if region = s.o.Region; region == "" {
			return "", &FieldError{Path: "cloud.region", Err: errors.New("missing, and no default region is configured")}
		}
	}
	if account == "" {
		if account = s.o.AccountID; account == "" {
			return "", &FieldError{Path: "cloud.account.uid", Err: errors.New("missing, and no default account is configured")}
		}
	}
	// The values come from the record: the errors do not repeat them.
	if err := partition.ValidateRegion(region); err != nil {
		return "", &FieldError{Path: "cloud.region", Err: partition.Hide(err)}
	}
	if err := partition.ValidateAccount(account); err != nil {
		return "", &FieldError{Path: "cloud.account.uid", Err: partition.Hide(err)}
	}
	return partition.SecurityLake(region, account, time.UnixMilli(m.time))
}

// fits reports whether a record with m belongs in partition pp, whose day
// spans [dayStart, dayEnd) in epoch milliseconds.
func (s *Sink) fits(m meta, pp partition.SecurityLakePartition, dayStart, dayEnd int64) error {
	region, account := m.region, m.account
	if region == "" {
		region = s.o.Region
	}
	if account == "" {
		account = s.o.AccountID
	}
	if m.hasClass && m.classUID == int64(s.class) && m.hasTime &&
		region == pp.Region && account == pp.AccountID && m.time >= dayStart && m.time < dayEnd {
		return nil
	}
	got, err := s.partitionOf(m)
	if err != nil {
		return err
	}
	return fmt.Errorf("belongs to partition %s, not %s", got, pp)
}

// WriteBatch writes records, all of partition p (as returned by
// [Sink.Partition]), as one Parquet object under the source location,
// sorted by time. It streams the object to the store and returns nil only
// once the store has it. Records that do not fit (see [Options.Quarantine])
// are left out and quarantined after the object is stored; when every record
// is left out, no object is written.
func (s *Sink) WriteBatch(ctx context.Context, p string, records []lakerelay.Record) error {
	pp, err := partition.ParseSecurityLake(p)
	if err != nil {
		return lakerelay.Permanent(fmt.Errorf("securitylake: partition %q: %w", p, err))
	}
	start := time.Now()
	day, _ := time.Parse("20060102", pp.EventDay)
	dayStart, dayEnd := day.UnixMilli(), day.AddDate(0, 0, 1).UnixMilli()
	var bad []badRecord
	type item struct {
		t int64
		i int
	}
	items := make([]item, 0, len(records))
	var sc scanner
	for i, r := range records {
		m, err := scanMeta(&sc, r.Data)
		if err == nil {
			err = s.fits(m, pp, dayStart, dayEnd)
		}
		if err != nil {
			bad = append(bad, badRecord{i, &RecordError{Origin: r.Origin, Err: err}})
			continue
		}
		items = append(items, item{m.time, i})
	}
	if len(bad) > 0 && s.o.Quarantine == nil {
		return badBatch(bad)
	}
	slices.SortStableFunc(items, func(a, b item) int {
		switch {
		case a.t < b.t:
			return -1
		case a.t > b.t:
			return 1
		}
		return 0
	})

	c, err := s.converter()
	if err != nil {
		return lakerelay.Permanent(err)
	}
	defer s.pool.Put(c)
	c.dropUnknown = s.o.DropUnknownFields
	var dropped drops
	var obj *object
	key := s.prefix + p + partition.ObjectName(".parquet")
	rows := make([][]byte, 0, 1024)
	idx := make([]int, 0, 1024)
	flush := func() error {
		rec, rowErrs := c.convert(rows)
		dropped.add(&c.drops)
		for _, re := range rowErrs {
			i := idx[re.i]
			bad = append(bad, badRecord{i, &RecordError{Origin: records[i].Origin, Err: re.err}})
		}
		rows, idx = rows[:0], idx[:0]
		if len(rowErrs) > 0 && s.o.Quarantine == nil {
			if rec != nil {
				rec.Release()
			}
			return badBatch(bad)
		}
		if rec == nil {
			return nil
		}
		defer rec.Release()
		if obj == nil {
			var err error
			if obj, err = s.open(ctx, key); err != nil {
				return err
			}
		}
		return obj.write(rec)
	}
	n := 0
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			if obj != nil {
				obj.abort(err)
			}
			return fmt.Errorf("securitylake: write %s: %w", s.store.Location(key), err)
		}
		d := records[it.i].Data
		rows = append(rows, d)
		idx = append(idx, it.i)
		n += len(d)
		if n >= s.o.ChunkBytes {
			if err := flush(); err != nil {
				if obj != nil {
					obj.abort(err)
				}
				return err
			}
			n = 0
		}
	}
	if len(rows) > 0 {
		if err := flush(); err != nil {
			if obj != nil {
				obj.abort(err)
			}
			return err
		}
	}
	if obj != nil {
		if err := obj.close(); err != nil {
			return err
		}
	}
	for _, b := range bad {
		if err := s.o.Quarantine(records[b.i], b.err); err != nil {
			s.tel.Log.Warn("quarantine write failed", "origin", b.err.Origin.String(), "error", err)
			return fmt.Errorf("securitylake: quarantine %s: %w", b.err.Origin, err)
		}
		s.quarantined.Add(1)
		s.tel.Obs.Count(lakerelay.MetricQuarantined, 1, lakerelay.Labels{Source: s.tel.Name,
			LogType: records[b.i].Origin.LogType, Class: awserr.ProblemClass(b.err)})
	}
	if obj != nil {
		s.dropped(&dropped)
		s.stored(p, key, records, bad, obj.n, start)
	}
	if obj != nil && s.o.OnWrite != nil {
		s.o.OnWrite(Written{Location: obj.where, Key: key, Partition: p, Records: len(records) - len(bad), Quarantined: len(bad), Bytes: obj.n})
	}
	return nil
}

// stored counts and logs an object stored from records without bad.
func (s *Sink) stored(p, key string, records []lakerelay.Record, bad []badRecord, size int64, start time.Time) {
	n := len(records) - len(bad)
	s.objects.Add(1)
	s.records.Add(int64(n))
	s.bytes.Add(size)
	kept := records
	if len(bad) > 0 {
		left := make(map[int]bool, len(bad))
		for _, b := range bad {
			left[b.i] = true
		}
		kept = make([]lakerelay.Record, 0, n)
		for i, r := range records {
			if !left[i] {
				kept = append(kept, r)
			}
		}
	}
	label := ""
	if s.o.PartitionLabel {
		label = p
	}
	s.tel.OutBatch(kept, label, size)
	if s.tel.Debug() {
		s.tel.Log.Debug("object stored", "partition", p, "key", key, "records", n, "quarantined", len(bad),
			"bytes", size, "duration", time.Since(start))
	}
}

type badRecord struct {
	i   int
	err *RecordError
}

// badBatch is the error for a batch with invalid records and no quarantine.
func badBatch(bad []badRecord) error {
	errs := make([]error, 0, min(len(bad), 10)+1)
	for i, b := range bad {
		if i == 10 {
			errs = append(errs, fmt.Errorf("securitylake: and %d more invalid records", len(bad)-10))
			break
		}
		errs = append(errs, b.err)
	}
	return errors.Join(errs...)
}

func (s *Sink) converter() (*converter, error) {
	if c, ok := s.pool.Get().(*converter); ok {
		return c, nil
	}
	return newConverter(s.o.Schema) // the schema was checked in New
}

// ClassUID returns the class_uid of an OCSF JSON event, for routing events
// of several classes to their sinks. The error wraps
// [lakerelay.ErrInvalidRecord].
func ClassUID(event []byte) (int, error) {
	var sc scanner
	m, err := scanMeta(&sc, event)
	if err == nil && !m.hasClass {
		err = &FieldError{Path: "class_uid", Err: errors.New("missing")}
	}
	if err != nil {
		return 0, fmt.Errorf("%w: %w", lakerelay.ErrInvalidRecord, err)
	}
	return int(m.classUID), nil
}

package securitylake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/partition"
	"github.com/lakerelay/lakerelay/sink"
)

// Finding codes.
const (
	CodeLayout     = "layout"     // key not region=/accountId=/eventDay=/<name>.parquet
	CodeUnreadable = "unreadable" // not a Parquet file the reader can open
	CodeCodec      = "codec"      // a column chunk not compressed with zstd
	CodeTimestamp  = "timestamp"  // a nanosecond or INT96 timestamp column
	CodePageSize   = "page-size"  // a data page above MaxDataPageBytes uncompressed
	CodeRowGroup   = "row-group"  // a row group above MaxRowGroupBytes compressed
	CodeSchema     = "schema"     // schema differs from the location's first file
	CodeClass      = "class"      // class_uid missing, mixed, or differing between files
	CodePartition  = "partition"  // a row whose time/cloud fields disagree with its path
	CodeSort       = "sort"       // rows not ordered by time
	CodeEmpty      = "empty"      // no Parquet objects under the location
	CodeStatistics = "statistics" // column statistics with min > max, which DuckDB rejects
)

// Finding is one problem with one object of a Security Lake location: Path
// is the object's location (s3://bucket/key or a path), or the source
// location for findings about the whole location. Severities:
// [lakerelay.SeverityError] for what Security Lake or its readers reject,
// [lakerelay.SeverityWarning] for what works but departs from the guidance.
type Finding = lakerelay.Finding

// LintReport is the result of [Lint].
type LintReport struct {
	// Files is the number of Parquet objects examined, Rows the rows read
	// from them, Partitions the number of distinct valid partitions they
	// are in.
	Files, Rows, Partitions int
	// Class is the OCSF class_uid of the first file, 0 if none was read.
	Class int
	// Findings are ordered by object key.
	Findings []Finding
}

// Lint checks an existing Security Lake source location in store (see [New]
// for the form of location): the key layout of every object, that it is
// Parquet a reader can open, zstd on every column chunk, no nanosecond or
// INT96 timestamps, page and row-group sizes, one schema across files, one
// class, partition values consistent with each row's time, cloud.region
// and cloud.account.uid, and rows ordered by time. Page sizes come from the
// page headers: pages are not decompressed, except those of the columns the
// partition checks read. The error is for what
// stops the check itself (listing fails, ctx ends); problems with objects
// are findings. Objects are checked concurrently (at most
// max(GOMAXPROCS, 4) at a time), each spooled to a temporary file; the
// checks across objects (one schema, one class) are made in key order, so
// the report is the same whatever order the checks end in.
func Lint(ctx context.Context, store sink.Store, location string) (*LintReport, error) {
	prefix, err := LocationPrefix(store, location)
	if err != nil {
		return nil, err
	}
	var keys []string
	if err := store.List(ctx, prefix, func(oi sink.ObjectInfo) error {
		keys = append(keys, oi.Key)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("securitylake: lint %s: %w", location, err)
	}
	checks := make([]*objectCheck, len(keys))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(len(keys), max(runtime.GOMAXPROCS(0), 4)) {
		wg.Go(func() {
			mem := &recycler{} // the readers' buffers, reused from column to column
			for {
				i := int(next.Add(1)) - 1
				if i >= len(keys) || ctx.Err() != nil {
					return
				}
				checks[i] = checkObject(ctx, store, prefix, keys[i], mem)
			}
		})
	}
	wg.Wait()
	l := &linter{rep: &LintReport{}, parts: map[string]bool{}}
	for _, c := range checks {
		if c == nil {
			break // not checked: ctx ended
		}
		l.merge(c)
	}
	if err := ctx.Err(); err != nil {
		return l.rep, err
	}
	l.rep.Partitions = len(l.parts)
	if l.rep.Files == 0 {
		l.rep.Findings = append(l.rep.Findings, finding(location, lakerelay.SeverityError, CodeEmpty, "no Parquet objects under the location"))
	}
	return l.rep, nil
}

// linter gathers the checks of the objects of a location, in key order.
type linter struct {
	rep       *LintReport
	parts     map[string]bool
	schema    *schema.Schema // of the first object whose schema was read
	schemaLoc string
}

// merge adds what c found to the report, with the findings of the checks
// across objects at their place among c's own.
func (l *linter) merge(c *objectCheck) {
	if c.parquet {
		l.rep.Files++
	}
	if c.part != "" {
		l.parts[c.part] = true
	}
	l.rep.Rows += c.rows
	var schemaF, classF []Finding
	if c.schema != nil {
		if l.schema == nil {
			l.schema, l.schemaLoc = c.schema, c.loc
		} else if !l.schema.Equals(c.schema) {
			schemaF = append(schemaF, finding(c.loc, lakerelay.SeverityError, CodeSchema, "schema differs from that of %s", l.schemaLoc))
		}
	}
	if c.class != 0 {
		if l.rep.Class == 0 {
			l.rep.Class = int(c.class)
		} else if int(c.class) != l.rep.Class {
			classF = append(classF, finding(c.loc, lakerelay.SeverityError, CodeClass, "class_uid %d, but the location's first file has %d", c.class, l.rep.Class))
		}
	}
	f := c.findings
	l.rep.Findings = append(l.rep.Findings, f[:c.schemaAt]...)
	l.rep.Findings = append(l.rep.Findings, schemaF...)
	l.rep.Findings = append(l.rep.Findings, f[c.schemaAt:c.classAt]...)
	l.rep.Findings = append(l.rep.Findings, classF...)
	l.rep.Findings = append(l.rep.Findings, f[c.classAt:]...)
}

// objectCheck is what the check of one object found on its own.
type objectCheck struct {
	loc      string
	findings []Finding
	parquet  bool   // a .parquet object: counted in Files
	part     string // its partition when the path is a valid one
	rows     int
	// schema (nil when not read) and class (0 when none was read) are
	// compared with those of the location's first object by merge, which
	// puts its findings at findings[schemaAt] and findings[classAt].
	schema            *schema.Schema
	class             int64
	schemaAt, classAt int
}

func finding(loc string, sev lakerelay.Severity, code, format string, args ...any) Finding {
	return Finding{Path: loc, Severity: sev, Code: code, Message: fmt.Sprintf(format, args...)}
}

func (c *objectCheck) add(sev lakerelay.Severity, code, format string, args ...any) {
	c.findings = append(c.findings, finding(c.loc, sev, code, format, args...))
}

// checkObject checks the object at key, reading it with buffers from mem.
func checkObject(ctx context.Context, store sink.Store, prefix, key string, mem *recycler) *objectCheck {
	c := &objectCheck{loc: store.Location(key)}
	c.object(ctx, store, prefix, key, mem)
	if c.schema == nil {
		c.schemaAt = len(c.findings)
	}
	if c.class == 0 {
		c.classAt = len(c.findings)
	}
	return c
}

func (c *objectCheck) object(ctx context.Context, store sink.Store, prefix, key string, mem *recycler) {
	rel := strings.TrimPrefix(key, prefix)
	dir, name, _ := cutLast(rel, "/")
	if !strings.HasSuffix(name, ".parquet") {
		if strings.HasPrefix(name, ".") {
			return // temporary or hidden files of a directory store
		}
		c.add(lakerelay.SeverityError, CodeLayout, "not a .parquet object; Security Lake reads only Parquet under a source location")
		return
	}
	c.parquet = true
	part, err := partition.ParseSecurityLake(dir)
	partOK := err == nil
	if partOK {
		c.part = part.String()
	} else {
		c.add(lakerelay.SeverityError, CodeLayout, "path %q after the location: %v", dir+"/", err)
	}
	f, err := spool(ctx, store, key)
	if err != nil {
		c.add(lakerelay.SeverityError, CodeUnreadable, "cannot fetch: %v", err)
		return
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	rdr, err := file.NewParquetReader(f, file.WithReadProps(parquet.NewReaderProperties(mem)))
	if err != nil {
		c.add(lakerelay.SeverityError, CodeUnreadable, "%v", err)
		return
	}
	defer rdr.Close()
	md := rdr.MetaData()
	sc := md.Schema

	// Schema: one across files (compared by merge); no nanosecond or INT96
	// timestamps.
	c.schema, c.schemaAt = sc, len(c.findings)
	for i := 0; i < sc.NumColumns(); i++ {
		col := sc.Column(i)
		if col.PhysicalType() == parquet.Types.Int96 {
			c.add(lakerelay.SeverityError, CodeTimestamp, "column %s is INT96", col.Path())
		}
		if ts, ok := col.LogicalType().(schema.TimestampLogicalType); ok && ts.TimeUnit() == schema.TimeUnitNanos {
			c.add(lakerelay.SeverityError, CodeTimestamp, "column %s has nanosecond timestamps, which Athena cannot read", col.Path())
		}
	}

	// Codec, page and row-group sizes.
	badCodec := map[string]bool{}
	for g := 0; g < rdr.NumRowGroups(); g++ {
		rg := rdr.RowGroup(g)
		if n := rg.MetaData().TotalCompressedSize(); n > MaxRowGroupBytes {
			c.add(lakerelay.SeverityError, CodeRowGroup, "row group %d is %d bytes compressed, more than %d", g, n, MaxRowGroupBytes)
		}
		for i := 0; i < rg.NumColumns(); i++ {
			cc, err := rg.MetaData().ColumnChunk(i)
			if err != nil {
				c.add(lakerelay.SeverityError, CodeUnreadable, "row group %d column %d: %v", g, i, err)
				return
			}
			if cc.Compression() != compress.Codecs.Zstd && !badCodec[cc.PathInSchema().String()] {
				badCodec[cc.PathInSchema().String()] = true
				c.add(lakerelay.SeverityError, CodeCodec, "column %s is compressed with %s, not ZSTD", cc.PathInSchema(), cc.Compression())
			}
			if st, err := cc.Statistics(); err == nil && st != nil && st.HasMinMax() && invertedMinMax(st) {
				c.add(lakerelay.SeverityError, CodeStatistics, "row group %d column %s: statistics min > max (written for a chunk of nulls), which DuckDB cannot read", g, cc.PathInSchema())
			}
		}
	}
	var ps pageStats
	fi, err := f.Stat()
	if err == nil {
		ps, err = readerPageStats(rdr, f, fi.Size())
	}
	if err != nil {
		c.add(lakerelay.SeverityError, CodeUnreadable, "%v", err)
		return
	}
	if ps.maxPage > MaxDataPageBytes {
		c.add(lakerelay.SeverityError, CodePageSize, "a data page is %d bytes uncompressed, more than %d", ps.maxPage, MaxDataPageBytes)
	}

	// Rows: class, partition values, order.
	rows, err := readMetaColumns(rdr)
	if err != nil {
		c.add(lakerelay.SeverityError, CodeUnreadable, "%v", err)
		return
	}
	c.rows = len(rows.class)
	c.checkRows(part, partOK, rows)
}

func (c *objectCheck) checkRows(part partition.SecurityLakePartition, partOK bool, rows metaColumns) {
	classes := map[int64]int{}
	missingClass := 0
	for _, c := range rows.class {
		if c == nil {
			missingClass++
			continue
		}
		classes[*c]++
	}
	switch {
	case rows.classMissing:
		c.add(lakerelay.SeverityError, CodeClass, "no class_uid column")
	case missingClass > 0:
		c.add(lakerelay.SeverityError, CodeClass, "%d rows without class_uid", missingClass)
	}
	if len(classes) > 1 {
		c.add(lakerelay.SeverityError, CodeClass, "%d classes in one file %v; Security Lake wants one class per source", len(classes), classes)
	}
	for cl := range classes {
		// Compared with the location's first class by merge.
		c.class, c.classAt = cl, len(c.findings)
		break
	}
	if rows.timeMissing {
		c.add(lakerelay.SeverityError, CodePartition, "no time column")
		return
	}
	var wrong, unsorted int
	first := -1
	var firstWhy string
	var prev int64
	for i, t := range rows.time {
		if t == nil {
			wrong++
			if first < 0 {
				first, firstWhy = i, "time is null"
			}
			continue
		}
		if i > 0 && rows.time[i-1] != nil && *t < prev {
			unsorted++
		}
		prev = *t
		if !partOK {
			continue
		}
		day := time.UnixMilli(*t).UTC().Format("20060102")
		var why string
		switch {
		case day != part.EventDay:
			why = fmt.Sprintf("time %d is on %s UTC, path says eventDay=%s", *t, day, part.EventDay)
		case rows.region[i] != nil && *rows.region[i] != part.Region:
			why = fmt.Sprintf("cloud.region %q, path says region=%s", *rows.region[i], part.Region)
		case rows.account[i] != nil && *rows.account[i] != part.AccountID:
			why = fmt.Sprintf("cloud.account.uid %q, path says accountId=%s", *rows.account[i], part.AccountID)
		default:
			continue
		}
		wrong++
		if first < 0 {
			first, firstWhy = i, why
		}
	}
	if wrong > 0 {
		c.add(lakerelay.SeverityError, CodePartition, "%d rows disagree with the partition; first is row %d: %s", wrong, first, firstWhy)
	}
	if unsorted > 0 {
		c.add(lakerelay.SeverityWarning, CodeSort, "%d rows are earlier than the row before them; Security Lake wants rows ordered by time", unsorted)
	}
}

func invertedMinMax(st metadata.TypedStatistics) bool {
	switch st := st.(type) {
	case *metadata.Int64Statistics:
		return st.Min() > st.Max()
	case *metadata.Int32Statistics:
		return st.Min() > st.Max()
	}
	return false
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return "", s, false
}

// spool copies an object to a temporary file.
func spool(ctx context.Context, store sink.Store, key string) (*os.File, error) {
	rc, err := store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	f, err := os.CreateTemp("", "securitylake-lint-*.parquet")
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// metaColumns are the columns that decide a row's partition, one entry per
// row, nil for null.
type metaColumns struct {
	class           []*int64
	time            []*int64
	region, account []*string
	classMissing    bool
	timeMissing     bool
}

func readMetaColumns(rdr *file.Reader) (metaColumns, error) {
	var m metaColumns
	var err error
	if m.class, m.classMissing, err = readInts(rdr, "class_uid"); err != nil {
		return m, err
	}
	if m.time, m.timeMissing, err = readInts(rdr, "time"); err != nil {
		return m, err
	}
	if m.region, err = readStrings(rdr, "cloud.region"); err != nil {
		return m, err
	}
	if m.account, err = readStrings(rdr, "cloud.account.uid"); err != nil {
		return m, err
	}
	return m, nil
}

var errRepeated = errors.New("column is repeated")

func leaf(rdr *file.Reader, path string) (int, int16, bool, error) {
	i := rdr.MetaData().Schema.ColumnIndexByName(path)
	if i < 0 {
		return -1, 0, false, nil
	}
	c := rdr.MetaData().Schema.Column(i)
	if c.MaxRepetitionLevel() > 0 {
		return -1, 0, false, fmt.Errorf("%s: %w", path, errRepeated)
	}
	return i, c.MaxDefinitionLevel(), true, nil
}

// readInts reads an int32 or int64 leaf column.
func readInts(rdr *file.Reader, path string) ([]*int64, bool, error) {
	i, maxDef, ok, err := leaf(rdr, path)
	if err != nil || !ok {
		return nil, !ok, err
	}
	out := make([]*int64, 0, rdr.NumRows())
	def := make([]int16, 4096)
	for g := 0; g < rdr.NumRowGroups(); g++ {
		cr, err := rdr.RowGroup(g).Column(i)
		if err != nil {
			return nil, false, err
		}
		switch r := cr.(type) {
		case *file.Int64ColumnChunkReader:
			vals := make([]int64, 4096)
			for r.HasNext() {
				n, _, err := r.ReadBatch(int64(len(vals)), vals, def, nil)
				if err != nil {
					return nil, false, fmt.Errorf("%s: %w", path, err)
				}
				requiredLevels(def[:n], maxDef)
				out = appendLevels(out, def[:n], maxDef, func(j int) int64 { return vals[j] })
			}
		case *file.Int32ColumnChunkReader:
			vals := make([]int32, 4096)
			for r.HasNext() {
				n, _, err := r.ReadBatch(int64(len(vals)), vals, def, nil)
				if err != nil {
					return nil, false, fmt.Errorf("%s: %w", path, err)
				}
				requiredLevels(def[:n], maxDef)
				out = appendLevels(out, def[:n], maxDef, func(j int) int64 { return int64(vals[j]) })
			}
		default:
			return nil, false, fmt.Errorf("%s: not an integer column", path)
		}
	}
	return out, false, nil
}

func readStrings(rdr *file.Reader, path string) ([]*string, error) {
	i, maxDef, ok, err := leaf(rdr, path)
	if err != nil {
		return nil, err
	}
	if !ok {
		return make([]*string, rdr.NumRows()), nil
	}
	out := make([]*string, 0, rdr.NumRows())
	def := make([]int16, 4096)
	vals := make([]parquet.ByteArray, 4096)
	for g := 0; g < rdr.NumRowGroups(); g++ {
		cr, err := rdr.RowGroup(g).Column(i)
		if err != nil {
			return nil, err
		}
		r, ok := cr.(*file.ByteArrayColumnChunkReader)
		if !ok {
			return nil, fmt.Errorf("%s: not a string column", path)
		}
		for r.HasNext() {
			n, _, err := r.ReadBatch(int64(len(vals)), vals, def, nil)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			requiredLevels(def[:n], maxDef)
			out = appendLevels(out, def[:n], maxDef, func(j int) string { return string(vals[j]) })
		}
	}
	return out, nil
}

// appendLevels appends one entry per definition level: the next packed
// value where the level is the maximum, nil elsewhere.
func appendLevels[T any](out []*T, def []int16, maxDef int16, val func(int) T) []*T {
	j := 0
	for _, d := range def {
		if d == maxDef {
			v := val(j)
			out = append(out, &v)
			j++
		} else {
			out = append(out, nil)
		}
	}
	return out
}

// requiredLevels fills the levels of a required column, which readers do
// not write.
func requiredLevels(def []int16, maxDef int16) {
	if maxDef == 0 {
		clear(def)
	}
}

// recycler is a memory.Allocator that keeps the buffers freed to it and
// hands them out again. The linter opens a page reader, with its buffers,
// for every column chunk (431 per object of the OCSF API Activity schema)
// and frees them when done with the chunk: without reuse, linting allocates
// the decompressed size of every page afresh. Buffers come zeroed, as from
// memory.GoAllocator. It is for one goroutine.
type recycler struct {
	free map[int][][]byte // by capacity, a power of two
}

func (r *recycler) Allocate(size int) []byte {
	c := recycleClass(size)
	if l := r.free[c]; len(l) > 0 {
		b := l[len(l)-1][:size]
		r.free[c] = l[:len(l)-1]
		clear(b)
		return b
	}
	return make([]byte, size, c)
}

func (r *recycler) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		n := len(b)
		b = b[:size]
		if size > n {
			clear(b[n:])
		}
		return b
	}
	nb := r.Allocate(size)
	copy(nb, b)
	r.Free(b)
	return nb
}

func (r *recycler) Free(b []byte) {
	c := cap(b)
	if c == 0 || c != recycleClass(c) {
		return // not one of ours: left to the garbage collector
	}
	if r.free == nil {
		r.free = map[int][][]byte{}
	}
	r.free[c] = append(r.free[c], b[:0])
}

// recycleClass is the capacity a buffer of size bytes gets: the next power
// of two, at least 64.
func recycleClass(size int) int {
	c := 64
	for c < size {
		c <<= 1
	}
	return c
}

package securitylake

// The Parquet object writer: one object streamed to the store through a
// pipe, in row groups sized by estimate to stay under Options.RowGroupBytes.

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	_ "github.com/lakerelay/lakerelay/internal/pqzstd" // the zstd codec of the pages (see the package doc)
	"github.com/lakerelay/lakerelay/sink"
)

// writerProperties are the Parquet settings of the sink's objects.
func writerProperties(mem memory.Allocator, level int) *parquet.WriterProperties {
	props := []parquet.WriterProperty{
		parquet.WithAllocator(mem),
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(compressionLevel(level)),
		parquet.WithDataPageSize(dataPageBytes),
		// PLAIN encoding only: readable by every engine, and with zstd
		// both smaller and faster than dictionary pages on OCSF data.
		parquet.WithDictionaryDefault(false),
		parquet.WithBatchSize(writeBatchSize),
		parquet.WithDataPageVersion(parquet.DataPageV1),
		parquet.WithVersion(parquet.V2_6),
		parquet.WithCreatedBy("lakerelay securitylake"),
	}
	return parquet.NewWriterProperties(props...)
}

// compressionLevel is the zstd level of Options.CompressionLevel l: 0 is
// the codec's default.
func compressionLevel(l int) int {
	if l == 0 {
		return compress.DefaultCompressionLevel
	}
	return l
}

// object is one Parquet object being streamed to the store.
type object struct {
	fw      *pqarrow.FileWriter
	pw      *io.PipeWriter
	done    chan error
	where   string
	rgBytes int64
	n       int64 // bytes written
	werr    error
	waited  bool
	putErr  error

	// Row group sizing (see write).
	perRow    float64 // estimated compressed bytes per row; 0 until known
	overhead  float64 // estimated fixed compressed bytes of a row group
	rgRows    int64   // rows in the open row group
	rgEst     float64 // estimated compressed size of the open row group
	closedSum int64   // compressed bytes of the closed row groups
}

// wait returns the store's result, once it returned.
func (o *object) wait() error {
	if !o.waited {
		o.putErr, o.waited = <-o.done, true
	}
	return o.putErr
}

func (s *Sink) open(ctx context.Context, key string) (*object, error) {
	pr, pw := io.Pipe()
	o := &object{pw: pw, done: make(chan error, 1), where: s.store.Location(key), rgBytes: s.o.RowGroupBytes,
		overhead: chunkOverhead * float64(leafColumns(s.o.Schema.Fields()))}
	o.rgEst = o.overhead
	go func() {
		err := s.store.Put(ctx, key, pr, sink.PutOptions{ContentType: "application/vnd.apache.parquet"})
		pr.CloseWithError(errPutReturned)
		o.done <- err
	}()
	fw, err := pqarrow.NewFileWriter(s.o.Schema, (*errWriter)(o), s.props, s.aprops)
	if err != nil {
		o.abort(err)
		return nil, fmt.Errorf("securitylake: write %s: %w", o.where, err)
	}
	o.fw = fw
	return o, nil
}

var errPutReturned = errors.New("securitylake: store stopped reading")

// errWriter remembers the first write error, which the Parquet writer's
// Close does not always report.
type errWriter object

func (w *errWriter) Write(p []byte) (int, error) {
	n, err := w.pw.Write(p)
	w.n += int64(n)
	if err != nil && w.werr == nil {
		w.werr = err
	}
	return n, err
}

const (
	// rowGroupFill is the share of rgBytes a row group is filled to by
	// estimate, leaving room for estimation error.
	rowGroupFill = 0.8
	// chunkOverhead estimates the fixed compressed bytes of one column
	// chunk (page header with statistics, zstd frame, levels).
	chunkOverhead = 64
)

// leafColumns is the number of Parquet columns of fields.
func leafColumns(fields []arrow.Field) int {
	n := 0
	for _, f := range fields {
		typ := f.Type
		for {
			l, ok := typ.(arrow.ListLikeType)
			if !ok {
				break
			}
			typ = l.Elem()
		}
		if st, ok := typ.(*arrow.StructType); ok {
			n += leafColumns(st.Fields())
		} else {
			n++
		}
	}
	return n
}

// write adds rec to the object, in slices, so that no row group exceeds
// rgBytes compressed. The compressed size of a row group is known only once
// it is closed, so it is estimated: a fixed part per column chunk, plus a
// part per row taken from the Arrow size of the data until a row group has
// been closed (an overestimate for OCSF, which zstd compresses
// several-fold), then from the measured size of the last closed row group
// with a margin; the compressed pages already flushed bound the estimate
// from below. A row group is closed when the next slice would take it
// beyond rowGroupFill·rgBytes. A row group holds at least one row, so a
// RowGroupBytes below the fixed part of the schema yields one-row groups
// above it.
func (o *object) write(rec arrow.RecordBatch) error {
	rows := rec.NumRows()
	if rows == 0 {
		return nil
	}
	if o.perRow == 0 {
		o.perRow = max(float64(recordBytes(rec))/float64(rows), 1)
	}
	budget := rowGroupFill * float64(o.rgBytes)
	for off := int64(0); off < rows; {
		if flushed := float64(o.fw.RowGroupTotalCompressedBytes()); flushed > o.rgEst {
			o.rgEst = flushed
		}
		n := int64((budget - o.rgEst) / o.perRow)
		if n <= 0 && o.rgRows > 0 {
			o.newRowGroup()
			continue
		}
		n = min(max(n, 1), rows-off) // a row larger than the budget goes alone
		err := func() error {
			part := rec.NewSlice(off, off+n)
			defer part.Release()
			return o.fw.WriteBuffered(part)
		}()
		if err != nil {
			return o.fail(err)
		}
		o.rgRows += n
		o.rgEst += float64(n) * o.perRow
		off += n
		if o.werr != nil {
			return o.fail(o.werr)
		}
	}
	return nil
}

// recordBytes is the size of the buffers of rec.
func recordBytes(rec arrow.RecordBatch) int64 {
	var n int64
	for _, c := range rec.Columns() {
		n += dataBytes(c.Data())
	}
	return n
}

func dataBytes(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += dataBytes(c)
	}
	return n
}

// newRowGroup closes the open row group and learns the compressed size per
// row from it.
func (o *object) newRowGroup() {
	o.fw.NewBufferedRowGroup()
	total := o.fw.TotalCompressedBytes() // the closed row groups: the new one is empty
	if size := float64(total - o.closedSum); size > 0 && o.rgRows > 0 {
		o.perRow = 1.25 * max(size-o.overhead, size/4) / float64(o.rgRows)
	}
	o.closedSum = total
	o.rgRows, o.rgEst = 0, o.overhead
}

// fail stops the upload and returns the store's error if it has one (the
// cause of a failed pipe write), else err.
func (o *object) fail(err error) error {
	o.pw.CloseWithError(err)
	if perr := o.wait(); perr != nil {
		return fmt.Errorf("securitylake: write %s: %w", o.where, perr)
	}
	return fmt.Errorf("securitylake: write %s: %w", o.where, err)
}

func (o *object) abort(err error) {
	o.pw.CloseWithError(err)
	_ = o.wait()
}

func (o *object) close() error {
	err := o.fw.Close()
	if err == nil {
		err = o.werr
	}
	if err != nil {
		return o.fail(err)
	}
	o.pw.Close()
	if err := o.wait(); err != nil {
		return fmt.Errorf("securitylake: write %s: %w", o.where, err)
	}
	return nil
}

package securitylake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/sink"
)

// filePageStats reads the page headers of the Parquet file r.
func filePageStats(r parquet.ReaderAtSeeker) (pageStats, error) {
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return pageStats{}, err
	}
	rdr, err := file.NewParquetReader(r)
	if err != nil {
		return pageStats{}, err
	}
	defer rdr.Close()
	return readerPageStats(rdr, r, size)
}

// decodedPageStats is what readerPageStats finds, found by reading and
// decompressing every page with arrow-go's page reader: the reference.
func decodedPageStats(t *testing.T, b []byte) pageStats {
	t.Helper()
	rdr, err := file.NewParquetReader(bytes.NewReader(b))
	require.NoError(t, err)
	defer rdr.Close()
	var st pageStats
	for g := 0; g < rdr.NumRowGroups(); g++ {
		rg := rdr.RowGroup(g)
		st.maxRowGroup = max(st.maxRowGroup, rg.MetaData().TotalCompressedSize())
		for c := 0; c < rg.NumColumns(); c++ {
			pr, err := rg.GetColumnPageReader(c)
			require.NoError(t, err)
			for pr.Next() {
				if _, dict := pr.Page().(*file.DictionaryPage); !dict {
					st.maxPage = max(st.maxPage, int64(len(pr.Page().Data())))
				}
			}
			require.NoError(t, pr.Err())
			pr.Close()
		}
	}
	return st
}

// pageFiles are Parquet files of every kind of page: the sink's own (several
// row groups and pages), and arrow-go's with dictionary pages, data pages
// v2, snappy, and statistics of empty lists (testdata).
func pageFiles(t *testing.T) map[string][]byte {
	t.Helper()
	good := `{"class_uid":6003,"time":1764626400000,"cloud":{"region":"us-east-1","account":{"uid":"111122223333"}}}`
	rows := make([]string, 3000)
	for i := range rows {
		rows[i] = strings.Replace(good, `"111122223333"`, fmt.Sprintf(`"%012d"`, i%7), 1)
	}
	files := map[string][]byte{
		"dictionary": parquetFile(t, testSchema(), parquet.NewWriterProperties(parquet.WithDataPageSize(1<<10)), rows...),
		"v2 pages": parquetFile(t, testSchema(), parquet.NewWriterProperties(parquet.WithDataPageVersion(parquet.DataPageV2),
			parquet.WithDictionaryDefault(false), parquet.WithCompression(compress.Codecs.Zstd), parquet.WithDataPageSize(1<<10)), rows...),
		"snappy":  parquetFile(t, testSchema(), parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy)), rows...),
		"one row": parquetFile(t, testSchema(), writerProperties(memory.DefaultAllocator, 0), good),
	}
	b, err := os.ReadFile("testdata/empty-list-statistics.parquet")
	require.NoError(t, err)
	files["empty-list statistics"] = b

	// One object of the sink's, of several row groups: the events of one
	// partition (one object only, because each takes seconds to write
	// under the race detector).
	dir := t.TempDir()
	s := newDirSink(t, dir, func(o *Options) { o.RowGroupBytes, o.ChunkBytes = 64<<10, 16<<10 })
	largest, recs := largestPartition(t, s, genEvents(2000, 5))
	var written string
	s.o.OnWrite = func(w Written) { written = w.Location }
	require.NoError(t, s.WriteBatch(context.Background(), largest, recs))
	b, err = os.ReadFile(written)
	require.NoError(t, err)
	rdr, err := file.NewParquetReader(bytes.NewReader(b))
	require.NoError(t, err)
	require.Greater(t, rdr.NumRowGroups(), 1, "several row groups")
	rdr.Close()
	files["the sink's"] = b
	return files
}

// TestPageStatsFromHeaders: reading the page headers alone finds the same
// largest page and row group as decoding every page.
func TestPageStatsFromHeaders(t *testing.T) {
	for name, b := range pageFiles(t) {
		got, err := filePageStats(bytes.NewReader(b))
		require.NoError(t, err, name)
		want := decodedPageStats(t, b)
		require.Equal(t, want, got, name)
		require.Positive(t, got.maxPage, name)
	}
}

// TestPageStatsDamagedHeader: a damaged page header, or a page size that
// runs past its column chunk, is an error naming the row group, the column
// and the offset, and a CodeUnreadable finding of Lint.
func TestPageStatsDamagedHeader(t *testing.T) {
	good := `{"class_uid":6003,"time":1764626400000,"cloud":{"region":"us-east-1","account":{"uid":"111122223333"}}}`
	b := parquetFile(t, testSchema(), writerProperties(memory.DefaultAllocator, 0), good, good)
	rdr, err := file.NewParquetReader(bytes.NewReader(b))
	require.NoError(t, err)
	cc, err := rdr.MetaData().RowGroup(0).ColumnChunk(1)
	require.NoError(t, err)
	off := cc.DataPageOffset()
	path := cc.PathInSchema().String()
	// A file that ends early (cut under the check) is an error, not a parse
	// of stale bytes.
	_, err = readerPageStats(rdr, bytes.NewReader(b[:off+4]), int64(len(b)))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.ErrorContains(t, err, fmt.Sprintf("row group 0 column %s: page header at offset %d", path, off))
	rdr.Close()

	for _, tt := range []struct {
		name   string
		damage func(h []byte)
		want   string
	}{
		{"type not i32", func(h []byte) { h[0] = 0x1c }, "page header without its type and sizes"},
		{"unknown type", func(h []byte) { h[1] = 0x0e }, "unknown page type 7"},
		// A whole header of a data page whose compressed size (2^29) runs
		// past the column chunk.
		{"size past the chunk", func(h []byte) {
			copy(h, []byte{0x15, 0x00, 0x15, 0x02, 0x15, 0x80, 0x80, 0x80, 0x80, 0x04, 0x00})
		}, "ends past its column chunk"},
		{"stop at once", func(h []byte) { h[0] = 0 }, "page header without its type and sizes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := bytes.Clone(b)
			tt.damage(d[off:])
			_, err := filePageStats(bytes.NewReader(d))
			require.ErrorContains(t, err, fmt.Sprintf("row group 0 column %s: ", path))
			require.ErrorContains(t, err, tt.want)

			dir := t.TempDir()
			p := filepath.Join(dir, "region=us-east-1", "accountId=111122223333", "eventDay=20251201", "x.parquet")
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, d, 0o644))
			store, err := sink.NewDir(dir)
			require.NoError(t, err)
			rep, err := Lint(context.Background(), store, dir)
			require.NoError(t, err)
			require.NotEmpty(t, rep.Findings)
			f := rep.Findings[0]
			assert.Equal(t, CodeUnreadable, f.Code)
			assert.Equal(t, lakerelay.SeverityError, f.Severity)
			assert.Equal(t, p, f.Path)
			assert.Contains(t, f.Message, fmt.Sprintf("at offset %d", off))
		})
	}
}

// FuzzPageHeader: any bytes give a header or an error, never a panic; a
// header takes no more bytes than given, reads the same from exactly those
// bytes, and any shorter prefix of them is not taken for a header.
func FuzzPageHeader(f *testing.F) {
	good := `{"class_uid":6003,"time":1764626400000,"cloud":{"region":"us-east-1","account":{"uid":"111122223333"}}}`
	b := parquetFile(f, testSchema(), writerProperties(memory.DefaultAllocator, 0), good)
	rdr, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		f.Fatal(err)
	}
	rg := rdr.MetaData().RowGroup(0)
	for c := range min(rg.NumColumns(), 8) {
		cc, err := rg.ColumnChunk(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[cc.DataPageOffset():min(cc.DataPageOffset()+300, int64(len(b)))])
	}
	rdr.Close()
	f.Add([]byte{0x15, 0x00, 0x15, 0x02, 0x15, 0x02, 0x19, 0xfc, 0x00})       // a list of huge size
	f.Add([]byte{0x15, 0x00, 0x15, 0x02, 0x15, 0x02, 0x1b, 0x0f, 0x11, 0x00}) // a map
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := parsePageHeader(b)
		if err != nil {
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("header of %d bytes from %d bytes", n, len(b))
		}
		h2, n2, err := parsePageHeader(b[:n])
		if err != nil || h2 != h || n2 != n {
			t.Fatalf("the header's own bytes read %v, %d, %v; want %v, %d", h2, n2, err, h, n)
		}
		if _, _, err := parsePageHeader(b[:n-1]); err == nil {
			t.Fatalf("a prefix of %d bytes of a %d-byte header taken for a header", n-1, n)
		}
	})
}

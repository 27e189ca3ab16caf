package securitylake

// Page sizes from page headers alone: Lint checks the size of every data
// page, which the page headers say, so it reads them without reading or
// decompressing the pages (decompressing every page was three fifths of a
// lint's time).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/thrift/lib/go/thrift"
)

type pageStats struct {
	maxPage     int64 // largest data page, uncompressed bytes
	maxRowGroup int64 // largest row group, compressed bytes
}

// readerPageStats reads the header of every page of rdr's column chunks
// from r, the size bytes rdr reads: the pages themselves are skipped.
func readerPageStats(rdr *file.Reader, r io.ReaderAt, size int64) (pageStats, error) {
	var st pageStats
	var buf []byte
	md := rdr.MetaData()
	for g := 0; g < md.NumRowGroups(); g++ {
		rg := md.RowGroup(g)
		st.maxRowGroup = max(st.maxRowGroup, rg.TotalCompressedSize())
		for c := 0; c < rg.NumColumns(); c++ {
			cc, err := rg.ColumnChunk(c)
			if err != nil {
				return st, fmt.Errorf("row group %d column %d: %w", g, c, err)
			}
			start := cc.DataPageOffset()
			if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && cc.DictionaryPageOffset() < start {
				start = cc.DictionaryPageOffset()
			}
			n := cc.TotalCompressedSize()
			if start < 0 || n < 0 || n > size-start {
				return st, fmt.Errorf("row group %d column %s: pages at offset %d, %d bytes: outside the file's %d bytes", g, cc.PathInSchema(), start, n, size)
			}
			for pos, end := start, start+n; pos < end; {
				h, hn, err := readPageHeader(r, pos, end, &buf)
				if err != nil {
					return st, fmt.Errorf("row group %d column %s: page header at offset %d: %w", g, cc.PathInSchema(), pos, err)
				}
				if h.typ != pageDictionary {
					st.maxPage = max(st.maxPage, int64(h.uncompressed))
				}
				at := pos
				pos += hn + int64(h.compressed)
				if pos > end {
					return st, fmt.Errorf("row group %d column %s: the page at offset %d ends past its column chunk (offset %d)", g, cc.PathInSchema(), at, end)
				}
			}
		}
	}
	return st, nil
}

// maxPageHeader bounds the bytes a page header may take (its statistics
// hold a page's minimum and maximum values).
const maxPageHeader = 16 << 20

// readPageHeader reads the page header at offset pos of r, which ends
// before end, and returns it and its length. buf is reused between calls.
func readPageHeader(r io.ReaderAt, pos, end int64, buf *[]byte) (pageHeader, int64, error) {
	for win := int64(1 << 10); ; win *= 2 {
		n := min(win, end-pos, maxPageHeader)
		if int64(cap(*buf)) < n {
			*buf = make([]byte, n)
		}
		b := (*buf)[:n]
		if k, err := r.ReadAt(b, pos); k < len(b) {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return pageHeader{}, 0, err
		}
		h, used, err := parsePageHeader(b)
		if err == nil {
			return h, int64(used), nil
		}
		if !errors.Is(err, errShortHeader) || n < win {
			return pageHeader{}, 0, err
		}
	}
}

// Parquet's page types.
const (
	pageData       = 0
	pageIndex      = 1
	pageDictionary = 2
	pageDataV2     = 3
)

// pageHeader is what Lint needs of a Parquet PageHeader.
type pageHeader struct {
	typ          int32
	uncompressed int32
	compressed   int32
}

var errShortHeader = errors.New("page header continues past the bytes at hand")

// parsePageHeader decodes the Parquet PageHeader (a Thrift struct, in the
// compact protocol) at the start of b, and returns it and the bytes it
// takes. Fields other than type and the two sizes are skipped.
func parsePageHeader(b []byte) (pageHeader, int, error) {
	ctx := context.Background()
	buf := &thrift.TMemoryBuffer{Buffer: bytes.NewBuffer(b)}
	p := thrift.NewTCompactProtocolConf(buf, &thrift.TConfiguration{})
	var h pageHeader
	var seen [4]bool
	err := func() error {
		if _, err := p.ReadStructBegin(ctx); err != nil {
			return err
		}
		for {
			_, t, id, err := p.ReadFieldBegin(ctx)
			if err != nil {
				return err
			}
			if t == thrift.STOP {
				return p.ReadStructEnd(ctx)
			}
			if id >= 1 && id <= 3 && t == thrift.I32 {
				v, err := p.ReadI32(ctx)
				if err != nil {
					return err
				}
				switch id {
				case 1:
					h.typ = v
				case 2:
					h.uncompressed = v
				case 3:
					h.compressed = v
				}
				seen[id] = true
			} else if err := thrift.Skip(ctx, p, t, maxThriftDepth); err != nil {
				return err
			}
			if err := p.ReadFieldEnd(ctx); err != nil {
				return err
			}
		}
	}()
	switch {
	case err != nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)):
		return h, 0, errShortHeader
	case err != nil:
		return h, 0, err
	case !seen[1] || !seen[2] || !seen[3]:
		return h, 0, errors.New("page header without its type and sizes")
	case h.typ < pageData || h.typ > pageDataV2:
		return h, 0, fmt.Errorf("unknown page type %d", h.typ)
	case h.uncompressed < 0 || h.compressed < 0:
		return h, 0, fmt.Errorf("negative page size (%d uncompressed, %d compressed)", h.uncompressed, h.compressed)
	}
	return h, len(b) - buf.Len(), nil
}

// maxThriftDepth bounds the nesting of skipped values.
const maxThriftDepth = 32

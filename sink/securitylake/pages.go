package securitylake

// Page sizes from page headers alone: Lint checks the size of every data
// page, which the page headers say, so it reads them without reading or
// decompressing the pages (decompressing every page was three fifths of a
// lint's time).

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
)

type pageStats struct {
	maxPage     int64 // largest data page, uncompressed bytes
	maxRowGroup int64 // largest row group, compressed bytes
}

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
				pos += hn + int64(h.compressed)
				if pos > end {
					return st, fmt.Errorf("row group %d column %s: the page at offset %d ends past its column chunk (offset %d)", g, cc.PathInSchema(), pos-hn-int64(h.compressed), end)
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
	c := compact{b: b}
	var h pageHeader
	var seen [4]bool
	last := int64(0)
	for {
		id, t, err := c.field(&last)
		if err != nil {
			return h, 0, err
		}
		if t == ctStop {
			break
		}
		if id >= 1 && id <= 3 && t == ctI32 {
			v, err := c.varint()
			if err != nil {
				return h, 0, err
			}
			if v < math.MinInt32 || v > math.MaxInt32 {
				return h, 0, fmt.Errorf("field %d: %d is not a 32-bit integer", id, v)
			}
			switch id {
			case 1:
				h.typ = int32(v)
			case 2:
				h.uncompressed = int32(v)
			case 3:
				h.compressed = int32(v)
			}
			seen[id] = true
			continue
		}
		if err := c.skip(t, 0); err != nil {
			return h, 0, err
		}
	}
	switch {
	case !seen[1] || !seen[2] || !seen[3]:
		return h, 0, errors.New("page header without its type and sizes")
	case h.typ < pageData || h.typ > pageDataV2:
		return h, 0, fmt.Errorf("unknown page type %d", h.typ)
	case h.uncompressed < 0 || h.compressed < 0:
		return h, 0, fmt.Errorf("negative page size (%d uncompressed, %d compressed)", h.uncompressed, h.compressed)
	}
	return h, c.i, nil
}

// Thrift compact protocol types.
const (
	ctStop   = 0
	ctTrue   = 1
	ctFalse  = 2
	ctByte   = 3
	ctI16    = 4
	ctI32    = 5
	ctI64    = 6
	ctDouble = 7
	ctBinary = 8
	ctList   = 9
	ctSet    = 10
	ctMap    = 11
	ctStruct = 12
)

// maxThriftDepth bounds the nesting of skipped values.
const maxThriftDepth = 32

// compact reads Thrift's compact protocol from b.
type compact struct {
	b []byte
	i int
}

func (c *compact) byte() (byte, error) {
	if c.i >= len(c.b) {
		return 0, errShortHeader
	}
	c.i++
	return c.b[c.i-1], nil
}

func (c *compact) uvarint() (uint64, error) {
	var x uint64
	for s := 0; s < 64; s += 7 {
		b, err := c.byte()
		if err != nil {
			return 0, err
		}
		x |= uint64(b&0x7f) << s
		if b < 0x80 {
			return x, nil
		}
	}
	return 0, errors.New("varint longer than 64 bits")
}

// varint reads a zigzag-encoded integer.
func (c *compact) varint() (int64, error) {
	u, err := c.uvarint()
	return int64(u>>1) ^ -int64(u&1), err
}

func (c *compact) advance(n uint64) error {
	if n > uint64(len(c.b)-c.i) {
		return errShortHeader
	}
	c.i += int(n)
	return nil
}

// field reads a field header of a struct: its id and type (ctStop at the
// end of the struct). last is the previous field's id.
func (c *compact) field(last *int64) (int64, byte, error) {
	b, err := c.byte()
	if err != nil || b == ctStop {
		return 0, ctStop, err
	}
	t, delta := b&0x0f, int64(b>>4)
	if delta == 0 {
		if delta, err = c.varint(); err != nil {
			return 0, 0, err
		}
		*last = delta
	} else {
		*last += delta
	}
	return *last, t, nil
}

// skip skips a value of type t (booleans in a field header take no bytes).
func (c *compact) skip(t byte, depth int) error {
	if depth > maxThriftDepth {
		return errors.New("values nested too deeply")
	}
	switch t {
	case ctTrue, ctFalse:
		return nil
	case ctByte:
		return c.advance(1)
	case ctI16, ctI32, ctI64:
		_, err := c.uvarint()
		return err
	case ctDouble:
		return c.advance(8)
	case ctBinary:
		n, err := c.uvarint()
		if err != nil {
			return err
		}
		return c.advance(n)
	case ctList, ctSet:
		h, err := c.byte()
		if err != nil {
			return err
		}
		n, et := uint64(h>>4), h&0x0f
		if n == 15 {
			if n, err = c.uvarint(); err != nil {
				return err
			}
		}
		for range n { // each element takes a byte at least: the loop ends with b
			if err := c.element(et, depth); err != nil {
				return err
			}
		}
		return nil
	case ctMap:
		n, err := c.uvarint()
		if err != nil || n == 0 {
			return err
		}
		kv, err := c.byte()
		if err != nil {
			return err
		}
		for range n {
			if err := c.element(kv>>4, depth); err != nil {
				return err
			}
			if err := c.element(kv&0x0f, depth); err != nil {
				return err
			}
		}
		return nil
	case ctStruct:
		last := int64(0)
		for {
			_, ft, err := c.field(&last)
			if err != nil || ft == ctStop {
				return err
			}
			if err := c.skip(ft, depth+1); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("unknown Thrift compact type %d", t)
}

// element skips an element of a list, set or map: a boolean takes a byte
// there.
func (c *compact) element(t byte, depth int) error {
	if t == ctTrue || t == ctFalse {
		return c.advance(1)
	}
	if t == ctStop {
		return errors.New("element of type 0")
	}
	return c.skip(t, depth+1)
}

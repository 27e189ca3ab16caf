package source

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/jsonscan"
)

// A compressed object's input buffer and gzip reader come from these pools
// and go back once the read-ahead released them (nothing reads them any
// more): a stream of small objects does not allocate them for each object.
var (
	inputPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}
	gzipPool  sync.Pool // *gzip.Reader
)

func putInput(in *bufio.Reader) {
	in.Reset(nil) // drop the object's stream
	inputPool.Put(in)
}

// initialBuffer is the first size of a decoder's buffer (a variable so
// that tests can exercise buffer boundaries).
var initialBuffer = 128 << 10

const (
	// maxZstdWindow bounds the memory a zstd frame may ask for.
	maxZstdWindow = 32 << 20
	// detectWindow is how far auto detection looks for the first key.
	detectWindow = 64 << 10
)

var (
	errFull = errors.New("source: buffer full")

	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// decoded is one record as a decoder produced it.
type decoded struct {
	data   []byte // owned by the record, or cut from slab
	slab   *slab
	index  int64
	offset int64
	cw     *lakerelay.CloudWatchOrigin
	// invalid, when set, says why the record cannot be processed (it wraps
	// lakerelay.ErrInvalidRecord); data then holds the offending bytes.
	invalid error
	// json: data is one valid JSON value without insignificant whitespace.
	json bool
}

// decoder splits one object into records. It is not safe for concurrent
// use.
type decoder struct {
	opts                   DecodeOptions
	bucket, key, versionID string

	raw io.Reader
	ra  *readAhead
	// wait, when set, is called before reading the object may block.
	wait    func()
	s       scanner
	started bool
	err     error // sticky: io.EOF or a fatal *ObjectError

	mode   StreamType
	expand string   // the (first) field to expand
	more   []string // further fields to expand (ExpandFields)
	seen   []string // expand: the fields expanded in the current document
	state  int
	inDoc  bool // expand: the array belongs to a document
	found  bool // expand: a field was found in the current document
	index  int64
	queue  []decoded // cloudwatch: events of the current document
	// cur is the slab records are cut from (DecodeOptions.ReuseData).
	cur *slab
	// unslabbed counts the bytes of records not cut from slabs, up to
	// slabAfter: an object's first records are not.
	unslabbed int
	// skipped counts CloudWatch Logs control messages.
	skipped int64
}

const (
	stTop = iota
	stArrayFirst
	stArrayElem
	stArrayAfter
	stKeyFirst
	stKey
	stAfterValue
)

// clone returns an owned copy of b in an allocation of its own. Records are
// not carved from shared buffers: a record held by a batcher must keep only
// its own bytes alive, so that memory bounds counted in record bytes (such as
// batch.Limits.MaxPendingBytes) hold whatever order records are released in.
//
// With DecodeOptions.ReuseData records are cut from slabs instead (see
// slab.go): clone then also returns the copy's slab.
func (d *decoder) clone(b []byte) ([]byte, *slab) {
	if room, s := d.reserve(len(b)); s != nil {
		return append(room, b...), s
	}
	// append to nil allocates without first zeroing what it copies over,
	// unlike make.
	return append([]byte(nil), b...), nil
}

// alloc returns an empty slice with room for exactly n bytes, and its slab
// (nil: an allocation of its own).
func (d *decoder) alloc(n int) ([]byte, *slab) {
	if room, s := d.reserve(n); s != nil {
		return room, s
	}
	return make([]byte, 0, n), nil
}

func newDecoder(r io.Reader, opts DecodeOptions, bucket, key, versionID string) *decoder {
	opts = opts.withDefaults()
	return &decoder{opts: opts, raw: r, bucket: bucket, key: key, versionID: versionID}
}

// close releases the decompressor. It does not close the input.
func (d *decoder) close() {
	if d.ra != nil {
		d.ra.stop() // the read-ahead releases the decompressor when it ends
	}
	d.dropSlab()
	if d.err == nil {
		d.err = io.EOF
	}
	// Nothing reads the buffer any more (next returns d.err from now on,
	// and every record is a copy): the next object may use it.
	if cap(d.s.buf) == initialBuffer {
		b := d.s.buf[:0]
		bufferPool.Put(&b)
	}
	d.s.buf = nil
}

// bufferPool holds decoder buffers of initialBuffer bytes that their
// decoders closed.
var bufferPool sync.Pool // *[]byte

// getBuffer returns a buffer of n bytes, from bufferPool when n is
// initialBuffer.
func getBuffer(n int) []byte {
	if n == initialBuffer {
		if p, _ := bufferPool.Get().(*[]byte); p != nil && cap(*p) == n {
			return (*p)[:n]
		}
	}
	return make([]byte, n)
}

func (d *decoder) objErr(off int64, err error) error {
	return &ObjectError{Bucket: d.bucket, Key: d.key, VersionID: d.versionID, Offset: off, Index: -1, Err: err}
}

func (d *decoder) fail(off int64, err error) (decoded, error) {
	d.err = d.objErr(off, err)
	return decoded{}, d.err
}

// offset returns the stream offset of buf[i].
func (d *decoder) offset(i int) int64 { return d.s.base + int64(i) }

// start detects the compression and sets up the scanner.
func (d *decoder) start() error {
	// A *bufio.Reader is what the decompressors read fastest from (flate
	// has a specialised path for it), and it lets us sniff the magic bytes.
	raw := &waitReader{d.raw, d.wait}
	in := inputPool.Get().(*bufio.Reader)
	in.Reset(raw)
	head, err := in.Peek(4)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return d.objErr(0, fmt.Errorf("read: %w", err))
	}
	var r io.Reader
	var release func()
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		zr, _ := gzipPool.Get().(*gzip.Reader)
		if zr == nil {
			zr = new(gzip.Reader)
		}
		if err := zr.Reset(in); err != nil {
			return d.objErr(0, fmt.Errorf("gzip: %w", err))
		}
		r, release = zr, func() {
			gzipPool.Put(zr)
			putInput(in)
		}
	case bytes.HasPrefix(head, zstdMagic):
		zr, err := zstd.NewReader(in, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow),
			zstd.WithDecoderMaxMemory(uint64(d.opts.MaxObjectSize)))
		if err != nil {
			return d.objErr(0, fmt.Errorf("zstd: %w", err))
		}
		r, release = zr, func() {
			zr.Close()
			putInput(in)
		}
	default:
		r = in
	}
	if r != in {
		// Decompression is the larger part of the work: it reads ahead on
		// a goroutine of its own, and the wait for it is where reading
		// may block. in (and the raw input) then belong to that goroutine;
		// it releases the decompressor when it ends. A chunk takes further
		// reads while in holds compressed bytes: a read that would have to
		// wait for the input comes after the bytes read before it are
		// handed over. (Like the decompressor, which holds back what it
		// decoded of a block until the rest of the block arrives, a chunk
		// can hold back what it has when the input stops mid-block.)
		raw.wait = nil
		d.ra = newReadAhead(r, func() bool { return in.Buffered() > 0 }, d.wait, release)
		r = d.ra
	}
	limit := d.opts.MaxRecordSize + 1
	if limit < detectWindow {
		limit = detectWindow
	}
	if d.opts.StreamType == CloudWatchLogs || d.opts.StreamType == Auto {
		limit = max(limit, maxCloudWatchFactor*d.opts.MaxRecordSize+1)
	}
	d.s = scanner{r: &limitReader{r: r, n: d.opts.MaxObjectSize}, buf: getBuffer(int(min(int64(initialBuffer), limit))), max: int(limit)}
	d.mode, d.expand, d.more = d.opts.StreamType, d.opts.ExpandField, d.opts.ExpandFields
	if d.expand == "" && len(d.more) > 0 {
		d.expand, d.more = d.more[0], d.more[1:]
	}
	if d.expand != "" && d.mode != Auto {
		d.mode = "expand"
	}
	// A UTF-8 byte order mark (files written on Windows) is not data.
	for d.s.end < len(utf8BOM) {
		if err := d.s.fill(); err != nil {
			break // EOF or an error that the first read reports again
		}
	}
	if bytes.HasPrefix(d.s.buf[:d.s.end], utf8BOM) {
		d.s.start, d.s.pos = len(utf8BOM), len(utf8BOM)
	}
	return nil
}

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// next returns the next record, io.EOF at the end, or a fatal *ObjectError
// after which the object cannot be read further.
func (d *decoder) next() (decoded, error) {
	if d.err != nil {
		return decoded{}, d.err
	}
	if !d.started {
		d.started = true
		if err := d.start(); err != nil {
			d.err = err
			return decoded{}, err
		}
	}
	if d.mode == Auto {
		if err := d.detect(); err != nil {
			return d.readFail(err)
		}
	}
	var rec decoded
	var err error
	switch d.mode {
	case Lines:
		rec, err = d.nextLine()
	case NDJSON:
		rec, err = d.nextNDJSON()
	case JSON:
		rec, err = d.nextJSON()
	case JSONArray, "expand":
		rec, err = d.nextStructured()
	case CloudWatchLogs:
		rec, err = d.nextCloudWatch()
	}
	if err != nil {
		if err == io.EOF {
			d.err = io.EOF
		}
		return decoded{}, err
	}
	rec.index = d.index
	d.index++
	return rec, nil
}

// readFail turns a scanner error into the decoder's result.
func (d *decoder) readFail(err error) (decoded, error) {
	switch {
	case err == io.EOF:
		d.err = io.EOF
		return decoded{}, io.EOF
	case err == errFull:
		return d.fail(d.offset(d.s.start), fmt.Errorf("%w: record exceeds %d bytes", lakerelay.ErrTooLarge, d.opts.MaxRecordSize))
	}
	var ob *ObjectError
	if errors.As(err, &ob) {
		d.err = err
		return decoded{}, err
	}
	var tl *tooLargeError
	if errors.As(err, &tl) {
		return d.fail(tl.limit, err)
	}
	return d.fail(d.offset(d.s.end), fmt.Errorf("read: %w", err))
}

// detect chooses the stream type from the first bytes.
func (d *decoder) detect() error {
	s := &d.s
	if err := s.skipWS(); err != nil {
		if err == io.EOF {
			d.mode = NDJSON // empty object: no records
			return nil
		}
		return err
	}
	switch s.buf[s.pos] {
	case '[':
		if d.expand != "" {
			d.mode = "expand"
			return nil
		}
		return d.detectArray()
	case '{':
	default:
		d.mode = Lines
		return nil
	}
	if d.expand != "" {
		d.mode = "expand"
		return nil
	}
	d.mode = NDJSON
	for {
		p := jsonscan.Parser{B: s.buf[:s.end], EOF: s.eof}
		i := p.SkipSpace(s.pos + 1)
		ke, v := 0, 0
		var err error
		switch {
		case i >= len(p.B):
			err = p.End(i)
		case p.B[i] != '"':
			return nil // not JSON: the NDJSON decoder quarantines it
		default:
			if ke, err = p.String(i); err == nil {
				v = p.SkipSpace(ke)
				if v >= len(p.B) {
					err = p.End(v)
				} else if p.B[v] != ':' {
					return nil
				} else if v = p.SkipSpace(v + 1); v >= len(p.B) {
					err = p.End(v)
				}
			}
		}
		if err == jsonscan.ErrMore {
			if s.end-s.start >= detectWindow {
				return nil
			}
			if ferr := s.fill(); ferr != nil && ferr != io.EOF {
				if ferr == errFull {
					return nil
				}
				return ferr
			}
			continue
		}
		if err != nil {
			return nil
		}
		var key string
		if json.Unmarshal(p.B[i:ke], &key) != nil {
			return nil
		}
		switch key {
		case "messageType": // CloudWatch Logs always writes it first
			d.mode = CloudWatchLogs
		case "Records":
			if p.B[v] == '[' {
				d.mode, d.expand = "expand", "Records"
			}
		}
		return nil
	}
}

// detectArray tells a JSON array from text lines that begin with '['
// (such as "[INFO] started"): it is an array when its first element is JSON
// followed by ',' or ']' (or does not end within the detection window).
func (d *decoder) detectArray() error {
	s := &d.s
	d.mode = JSONArray
	for {
		p := jsonscan.Parser{B: s.buf[:s.end], EOF: s.eof}
		i := p.SkipSpace(s.pos + 1)
		var err error
		switch {
		case i >= len(p.B):
			err = p.End(i)
		case p.B[i] == ']':
			return nil
		default:
			if i, err = p.Value(i); err == nil {
				i = p.SkipSpace(i)
				switch {
				case i >= len(p.B):
					err = p.End(i)
				case p.B[i] != ',' && p.B[i] != ']':
					err = &jsonscan.SyntaxError{Offset: i, Msg: "after array element"}
				}
			}
		}
		if err == jsonscan.ErrMore {
			if s.end-s.start >= detectWindow {
				return nil
			}
			if ferr := s.fill(); ferr != nil && ferr != io.EOF {
				if ferr == errFull {
					return nil
				}
				return ferr
			}
			continue
		}
		if err != nil {
			d.mode = Lines
		}
		return nil
	}
}

func (d *decoder) nextLine() (decoded, error) {
	s := &d.s
	max := int(d.opts.MaxRecordSize)
	for {
		s.start = s.pos
		for {
			if i := bytes.IndexByte(s.buf[s.pos:s.end], '\n'); i >= 0 {
				lineEnd := s.pos + i
				s.pos = lineEnd + 1
				line := s.buf[s.start:lineEnd]
				if len(line) > 0 && line[len(line)-1] == '\r' {
					line = line[:len(line)-1]
				}
				if len(line) == 0 {
					break // empty line: not a record
				}
				if len(line) > max {
					return d.fail(d.offset(s.start), fmt.Errorf("%w: line exceeds %d bytes", lakerelay.ErrTooLarge, max))
				}
				data, sl := d.clone(line)
				return decoded{data: data, slab: sl, offset: d.offset(s.start)}, nil
			}
			s.pos = s.end
			if s.end-s.start > max {
				return d.fail(d.offset(s.start), fmt.Errorf("%w: line exceeds %d bytes", lakerelay.ErrTooLarge, max))
			}
			if err := s.fill(); err != nil {
				if err != io.EOF {
					return d.readFail(err)
				}
				line := bytes.TrimSuffix(s.buf[s.start:s.end], []byte("\r"))
				s.start, s.pos = s.end, s.end
				if len(line) == 0 {
					return decoded{}, io.EOF
				}
				data, sl := d.clone(line)
				return decoded{data: data, slab: sl, offset: d.offset(s.end - len(line))}, nil
			}
		}
	}
}

// value parses one JSON value at s.pos, reading more input as needed. On
// success the value is s.buf[s.start:end].
func (d *decoder) value() (end int, ws bool, err error) {
	s := &d.s
	s.start = s.pos
	for {
		p := jsonscan.Parser{B: s.buf[:s.end], EOF: s.eof}
		end, err := p.Value(s.pos)
		if err != jsonscan.ErrMore {
			if err == nil && int64(end-s.start) > d.opts.MaxRecordSize && d.mode != CloudWatchLogs {
				return 0, false, errFull
			}
			return end, p.Space, err
		}
		if ferr := s.fill(); ferr != nil && ferr != io.EOF {
			return 0, false, ferr
		}
	}
}

// record makes an owned copy of the value s.buf[s.start:end], compacted when
// it holds whitespace, and moves past it.
func (d *decoder) record(end int, ws bool) decoded {
	s := &d.s
	v := s.buf[s.start:end]
	var data []byte
	var sl *slab
	if ws {
		data, sl = d.alloc(len(v))
		data = jsonscan.Compact(data, v)
		// A slab's room beyond the compacted value is not the record's.
		data = data[:len(data):len(data)]
	} else {
		data, sl = d.clone(v)
	}
	r := decoded{data: data, slab: sl, offset: d.offset(s.start), json: true}
	s.pos, s.start = end, end
	return r
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (d *decoder) nextNDJSON() (decoded, error) {
	s := &d.s
	if err := s.skipWS(); err != nil {
		return d.readFail(err)
	}
	end, ws, err := d.value()
	if err == nil {
		return d.record(end, ws), nil
	}
	var se *jsonscan.SyntaxError
	if !errors.As(err, &se) {
		return d.readFail(err)
	}
	// An invalid value: the invalid record is the rest of the line it
	// begins on, and decoding resumes on the next line, so that one broken
	// line of NDJSON does not take the following lines with it. Whether the
	// line is too large depends on its length alone, never on how much of
	// it happened to be buffered, so the outcome is the same for any read
	// sizes.
	tooLong := func() (decoded, error) {
		return d.fail(d.offset(s.start), fmt.Errorf("%w: invalid JSON line longer than %d bytes: %s", lakerelay.ErrTooLarge, d.opts.MaxRecordSize, se.Msg))
	}
	rel := 0
	for {
		if i := bytes.IndexByte(s.buf[s.start+rel:s.end], '\n'); i >= 0 {
			cut := s.start + rel + i
			if int64(cut-s.start) > d.opts.MaxRecordSize {
				return tooLong()
			}
			return d.invalid(cut, cut+1, se.Msg), nil
		}
		rel = s.end - s.start
		if int64(rel) > d.opts.MaxRecordSize {
			return tooLong()
		}
		if err := s.fill(); err != nil {
			if err != io.EOF {
				return d.readFail(err)
			}
			return d.invalid(s.end, s.end, se.Msg), nil
		}
	}
}

// invalid makes an invalid record of s.buf[s.start:cut] and continues at next.
func (d *decoder) invalid(cut, next int, msg string) decoded {
	s := &d.s
	v := bytes.TrimRight(s.buf[s.start:cut], " \t\r\n")
	off := d.offset(s.start)
	data, sl := d.clone(v)
	r := decoded{data: data, slab: sl, offset: off, invalid: invalidf("invalid JSON: %s", msg)}
	s.pos, s.start = next, next
	return r
}

func (d *decoder) nextJSON() (decoded, error) {
	s := &d.s
	if d.index > 0 || d.state != stTop {
		return decoded{}, io.EOF
	}
	d.state = stAfterValue
	if err := s.skipWS(); err != nil {
		return d.readFail(err)
	}
	end, ws, err := d.value()
	var se *jsonscan.SyntaxError
	switch {
	case err == nil:
		// Anything but whitespace after the document makes it invalid.
		s.pos = end
		rel := end - s.start
		for {
			for s.pos < s.end && isSpace(s.buf[s.pos]) {
				s.pos++
			}
			if s.pos < s.end {
				err = &jsonscan.SyntaxError{Offset: s.pos, Msg: fmt.Sprintf("invalid character %q after top-level value", s.buf[s.pos])}
				break
			}
			if ferr := s.fill(); ferr != nil {
				if ferr != io.EOF {
					return d.readFail(ferr)
				}
				return d.record(s.start+rel, ws), nil
			}
		}
		if !errors.As(err, &se) {
			return d.readFail(err)
		}
	case errors.As(err, &se):
	default:
		return d.readFail(err)
	}
	// Invalid: the whole object is the record.
	for {
		if int64(s.end-s.start) > d.opts.MaxRecordSize {
			return d.fail(d.offset(s.start), fmt.Errorf("%w: invalid JSON document longer than %d bytes: %s", lakerelay.ErrTooLarge, d.opts.MaxRecordSize, se.Msg))
		}
		if ferr := s.fill(); ferr != nil {
			if ferr != io.EOF {
				return d.readFail(ferr)
			}
			return d.invalid(s.end, s.end, se.Msg), nil
		}
	}
}

// unit runs f, a parser of a small piece of structure at s.pos, reading more
// input as needed, and returns the index just past the piece.
func (d *decoder) unit(f func(p *jsonscan.Parser, i int) (int, error)) (int, error) {
	s := &d.s
	s.start = s.pos
	for {
		p := jsonscan.Parser{B: s.buf[:s.end], EOF: s.eof}
		end, err := f(&p, s.pos)
		if err != jsonscan.ErrMore {
			return end, err
		}
		if ferr := s.fill(); ferr != nil && ferr != io.EOF {
			return 0, ferr
		}
	}
}

func (d *decoder) syntax(err error) (decoded, error) {
	var se *jsonscan.SyntaxError
	if errors.As(err, &se) {
		return d.fail(d.offset(se.Offset), invalidf("%s", se.Msg))
	}
	return d.readFail(err)
}

func (d *decoder) expected(what string) (decoded, error) {
	s := &d.s
	if s.pos >= s.end {
		return d.fail(d.offset(s.pos), invalidf("unexpected end of JSON input, expecting %s", what))
	}
	return d.fail(d.offset(s.pos), invalidf("invalid character %q, expecting %s", s.buf[s.pos], what))
}

// skipWSIn skips whitespace inside a document, where the end of input is an
// error.
func (d *decoder) skipWSIn(what string) (bool, error) {
	if err := d.s.skipWS(); err != nil {
		if err == io.EOF {
			_, err = d.expected(what)
		}
		return false, err
	}
	return true, nil
}

// nextStructured streams JSON arrays (JSONArray) and the array held by a
// top-level field of each document (expand).
func (d *decoder) nextStructured() (decoded, error) {
	s := &d.s
	for {
		switch d.state {
		case stTop:
			if err := s.skipWS(); err != nil {
				return d.readFail(err)
			}
			c := s.buf[s.pos]
			switch {
			case d.mode == JSONArray && c == '[':
				s.pos++
				d.inDoc = false
				d.state = stArrayFirst
			case d.mode == "expand" && c == '{':
				s.pos++
				d.found, d.seen = false, d.seen[:0]
				d.state = stKeyFirst
			default:
				if d.mode == JSONArray {
					return d.expected("'[' beginning a JSON array")
				}
				return d.expected("'{' beginning a JSON document")
			}
		case stArrayFirst, stArrayAfter:
			if _, err := d.skipWSIn("']'"); err != nil {
				return decoded{}, err
			}
			c := s.buf[s.pos]
			switch {
			case c == ']':
				s.pos++
				d.state = stTop
				if d.inDoc {
					d.state = stAfterValue
				}
			case d.state == stArrayAfter && c == ',':
				s.pos++
				if _, err := d.skipWSIn("an array element"); err != nil {
					return decoded{}, err
				}
				d.state = stArrayElem
			case d.state == stArrayFirst:
				d.state = stArrayElem
			default:
				return d.expected("',' or ']' after an array element")
			}
		case stArrayElem:
			end, ws, err := d.value()
			if err != nil {
				if err == errFull {
					return d.readFail(err)
				}
				return d.syntax(err)
			}
			d.state = stArrayAfter
			return d.record(end, ws), nil
		case stKeyFirst, stKey:
			if _, err := d.skipWSIn("an object key"); err != nil {
				return decoded{}, err
			}
			if d.state == stKeyFirst && s.buf[s.pos] == '}' {
				s.pos++
				if err := d.docEnd(); err != nil {
					return decoded{}, err
				}
				continue
			}
			if s.buf[s.pos] != '"' {
				return d.expected("a string beginning an object key")
			}
			keyEnd, err := d.unit(func(p *jsonscan.Parser, i int) (int, error) { return p.String(i) })
			if err != nil {
				return d.syntax(err)
			}
			keyStart := s.start
			raw := s.buf[keyStart+1 : keyEnd-1]
			key := string(raw)
			if bytes.IndexByte(raw, '\\') >= 0 {
				var k string
				if json.Unmarshal(s.buf[keyStart:keyEnd], &k) == nil {
					key = k
				}
			}
			match := d.isExpand(key) && !slices.Contains(d.seen, key)
			s.pos = keyEnd
			if _, err := d.skipWSIn("':'"); err != nil {
				return decoded{}, err
			}
			if s.buf[s.pos] != ':' {
				return d.expected("':' after an object key")
			}
			s.pos++
			if _, err := d.skipWSIn("a value"); err != nil {
				return decoded{}, err
			}
			if match {
				if s.buf[s.pos] != '[' {
					return d.fail(d.offset(s.pos), invalidf("field %q is not an array", key))
				}
				s.pos++
				d.found, d.inDoc = true, true
				d.seen = append(d.seen, key)
				d.state = stArrayFirst
				continue
			}
			end, _, err := d.value()
			if err != nil {
				if err == errFull {
					return d.fail(d.offset(s.start), fmt.Errorf("%w: field of a document exceeds %d bytes", lakerelay.ErrTooLarge, d.opts.MaxRecordSize))
				}
				return d.syntax(err)
			}
			s.pos, s.start = end, end
			d.state = stAfterValue
		case stAfterValue:
			if _, err := d.skipWSIn("',' or '}'"); err != nil {
				return decoded{}, err
			}
			switch s.buf[s.pos] {
			case ',':
				s.pos++
				d.state = stKey
			case '}':
				s.pos++
				if err := d.docEnd(); err != nil {
					return decoded{}, err
				}
			default:
				return d.expected("',' or '}' after an object member")
			}
		}
	}
}

func (d *decoder) docEnd() error {
	if !d.found {
		_, err := d.fail(d.offset(d.s.pos), invalidf("document has no field %s", d.expandNames()))
		return err
	}
	d.state = stTop
	return nil
}

// isExpand reports whether key names a field to expand.
func (d *decoder) isExpand(key string) bool {
	return key == d.expand || slices.Contains(d.more, key)
}

// expandNames lists the fields to expand for error messages.
func (d *decoder) expandNames() string {
	names := fmt.Sprintf("%q", d.expand)
	for _, m := range d.more {
		names += fmt.Sprintf(" or %q", m)
	}
	return names
}

type cloudWatchDoc struct {
	MessageType string `json:"messageType"`
	Owner       string `json:"owner"`
	LogGroup    string `json:"logGroup"`
	LogStream   string `json:"logStream"`
	LogEvents   []struct {
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	} `json:"logEvents"`
}

func (d *decoder) nextCloudWatch() (decoded, error) {
	s := &d.s
	for len(d.queue) == 0 {
		if err := s.skipWS(); err != nil {
			return d.readFail(err)
		}
		end, _, err := d.value()
		if err != nil {
			if err == errFull {
				return d.fail(d.offset(s.start), fmt.Errorf("%w: CloudWatch Logs document exceeds %d bytes", lakerelay.ErrTooLarge, int64(maxCloudWatchFactor)*d.opts.MaxRecordSize))
			}
			return d.syntax(err)
		}
		off := d.offset(s.start)
		var doc cloudWatchDoc
		if err := json.Unmarshal(s.buf[s.start:end], &doc); err != nil {
			return d.fail(off, invalidf("CloudWatch Logs document: %v", err))
		}
		s.pos, s.start = end, end
		switch doc.MessageType {
		case "CONTROL_MESSAGE":
			d.skipped++
			continue
		case "DATA_MESSAGE":
		default:
			return d.fail(off, invalidf("CloudWatch Logs document: messageType %q, want DATA_MESSAGE or CONTROL_MESSAGE", doc.MessageType))
		}
		for _, ev := range doc.LogEvents {
			if int64(len(ev.Message)) > d.opts.MaxRecordSize {
				return d.fail(off, fmt.Errorf("%w: CloudWatch Logs event %s exceeds %d bytes", lakerelay.ErrTooLarge, ev.ID, d.opts.MaxRecordSize))
			}
			d.queue = append(d.queue, decoded{data: []byte(ev.Message), offset: off, cw: &lakerelay.CloudWatchOrigin{
				Owner: doc.Owner, LogGroup: doc.LogGroup, LogStream: doc.LogStream, ID: ev.ID, Timestamp: ev.Timestamp,
			}})
		}
	}
	r := d.queue[0]
	d.queue[0] = decoded{}
	d.queue = d.queue[1:]
	return r, nil
}

// scanner is a window over a stream: bytes from start to end are retained,
// pos is the next byte to examine.
type scanner struct {
	r               io.Reader
	buf             []byte
	start, pos, end int
	base            int64 // stream offset of buf[0]
	eof             bool
	err             error
	max             int // largest buffer
}

// fill reads more input. It returns nil when bytes were added, io.EOF at the
// end of input, errFull when the retained bytes fill the largest buffer, or
// a read error.
func (s *scanner) fill() error {
	if s.err != nil {
		return s.err
	}
	if s.eof {
		return io.EOF
	}
	if s.start > 0 {
		n := copy(s.buf, s.buf[s.start:s.end])
		s.pos -= s.start
		s.base += int64(s.start)
		s.end = n
		s.start = 0
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= s.max {
			return errFull
		}
		nb := make([]byte, min(2*len(s.buf), s.max))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for range 100 {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		switch {
		case err == io.EOF:
			s.eof = true
			if n > 0 {
				return nil
			}
			return io.EOF
		case err != nil:
			s.err = err
			if n > 0 {
				return nil
			}
			return err
		case n > 0:
			return nil
		}
	}
	s.err = io.ErrNoProgress
	return s.err
}

// skipWS discards whitespace; it returns nil positioned on a non-space byte,
// or io.EOF.
func (s *scanner) skipWS() error {
	for {
		for s.pos < s.end {
			if !isSpace(s.buf[s.pos]) {
				s.start = s.pos
				return nil
			}
			s.pos++
		}
		s.start = s.pos
		if err := s.fill(); err != nil {
			return err
		}
	}
}

// tooLargeError is returned by limitReader.
type tooLargeError struct{ limit int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("%v: decompressed object exceeds %d bytes", lakerelay.ErrTooLarge, e.limit)
}
func (e *tooLargeError) Unwrap() error { return lakerelay.ErrTooLarge }

// limitReader fails once more than n bytes were read.
type limitReader struct {
	r     io.Reader
	n     int64
	total int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.total += int64(n)
	if l.total > l.n {
		return 0, &tooLargeError{l.n}
	}
	return n, err
}

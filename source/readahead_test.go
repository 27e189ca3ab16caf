package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/lakerelay/lakerelay"
)

// The read-ahead hands over every byte in order, then the reader's error,
// whatever the read sizes on either side.
func TestReadAheadOrderAndError(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 50_000) // 800 KB: many chunks
	boom := errors.New("boom")
	for _, always := range []bool{false, true} {
		for _, tt := range []struct {
			name string
			r    func() io.Reader
			want error
		}{
			{"eof", func() io.Reader { return bytes.NewReader(data) }, io.EOF},
			{"one byte reads", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data[:5000])) }, io.EOF},
			{"data with eof", func() io.Reader { return iotest.DataErrReader(bytes.NewReader(data)) }, io.EOF},
			{"error after data", func() io.Reader { return io.MultiReader(bytes.NewReader(data), iotest.ErrReader(boom)) }, boom},
		} {
			t.Run(fmt.Sprintf("%s/fill=%v", tt.name, always), func(t *testing.T) {
				// Chunks take further reads while ready says so: the bytes and
				// the error still come in order, an error in the middle of a
				// chunk after the bytes read before it.
				var ready func() bool
				if always {
					ready = func() bool { return true }
				}
				ra := newReadAhead(tt.r(), ready, nil, nil)
				defer ra.stop()
				var got []byte
				buf := make([]byte, 7777)
				var err error
				for err == nil {
					var n int
					n, err = ra.Read(buf)
					got = append(got, buf[:n]...)
				}
				if err != tt.want {
					t.Fatalf("error %v, want %v", err, tt.want)
				}
				want := data
				if tt.name == "one byte reads" {
					want = data[:5000]
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("got %d bytes, want %d, equal prefix %v", len(got), len(want), bytes.HasPrefix(want, got))
				}
				if _, err := ra.Read(buf); err != tt.want {
					t.Fatalf("read after the end: %v, want %v again", err, tt.want)
				}
			})
		}
	}
}

// A chunk takes further reads of the input while ready says the input has
// bytes at hand, up to the chunk's size, and ends at the first read after
// which it does not: what was read is handed over before a read that may
// wait for the input.
func TestReadAheadFillsWhileReady(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 4*readAheadSize/16)
	for _, tt := range []struct {
		name  string
		ready func(reads int) bool
		want  int // bytes of the first chunk
	}{
		{"no ready", nil, 1000},
		{"always ready", func(int) bool { return true }, readAheadSize},
		{"ready for 3 reads", func(reads int) bool { return reads < 3 }, 3000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := &shortReader{r: bytes.NewReader(data), max: 1000}
			var ready func() bool
			if tt.ready != nil {
				ready = func() bool { return tt.ready(in.reads) }
			}
			ra := newReadAhead(in, ready, nil, nil)
			defer ra.stop()
			buf := make([]byte, 2*readAheadSize)
			n, err := ra.Read(buf)
			if err != nil || n != tt.want {
				t.Fatalf("first read: %d bytes, %v; want %d", n, err, tt.want)
			}
			rest, err := io.ReadAll(ra)
			if err != nil || !bytes.Equal(append(buf[:n:n], rest...), data) {
				t.Fatalf("read %d bytes in all, %v; want all %d in order", n+len(rest), err, len(data))
			}
		})
	}
}

// shortReader returns at most max bytes per read, as a decompressor does.
type shortReader struct {
	r     io.Reader
	max   int
	reads int
}

func (s *shortReader) Read(p []byte) (int, error) {
	s.reads++
	return s.r.Read(p[:min(len(p), s.max)])
}

// A reader that never makes progress gets io.ErrNoProgress instead of a
// goroutine spinning for ever.
// TestReadAheadPooledBuffers reads many streams at once through
// read-aheads whose buffers come from, and go back to, the shared pool:
// every stream's bytes arrive intact (a buffer given back while still in
// use would mix streams; the race detector sees it too), a small stream
// takes at most two buffers, a large one at most readAheadChunks+1, and a
// stream read to its end leaves no buffer behind.
func TestReadAheadPooledBuffers(t *testing.T) {
	sizes := []int{0, 1, 100, 8 << 10, readAheadSize - 1, readAheadSize, readAheadSize + 1, 3*readAheadSize + 7, 6 * readAheadSize}
	errc := make(chan error, 4)
	for w := range 4 {
		go func() {
			errc <- func() error {
				for i := range 24 {
					n := sizes[(w+i)%len(sizes)]
					want := make([]byte, n)
					for k := range want {
						want[k] = byte(w*31 + i*7 + k)
					}
					ready := func() bool { return true }
					if i%2 == 0 {
						ready = nil
					}
					ra := newReadAhead(iotest.HalfReader(bytes.NewReader(want)), ready, nil, nil)
					if i%5 == 4 {
						// Stopped before the end: its buffers are left to the
						// garbage collector, the bytes read so far are right.
						p := make([]byte, min(n, 1000))
						m, _ := io.ReadFull(ra, p)
						ra.stop()
						if !bytes.Equal(p[:m], want[:m]) {
							return fmt.Errorf("stream %d/%d: first %d bytes differ", w, i, m)
						}
						continue
					}
					got, err := io.ReadAll(ra)
					if err != nil {
						return err
					}
					if !bytes.Equal(got, want) {
						return fmt.Errorf("stream %d/%d of %d bytes: got %d bytes, not the same", w, i, n, len(got))
					}
					if ra.made > readAheadChunks+1 || (n <= readAheadSize/2 && ra.made > 2) {
						return fmt.Errorf("stream %d/%d of %d bytes took %d buffers", w, i, n, ra.made)
					}
					if ra.held != nil || len(ra.free) != 0 {
						return fmt.Errorf("stream %d/%d: buffers left after the end (held %v, %d free)", w, i, ra.held != nil, len(ra.free))
					}
					ra.stop()
				}
				return nil
			}()
		}()
	}
	for range 4 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

// A stream that ends within the first chunk is read by the reader alone:
// no goroutine, r released as soon as its end was read, one buffer. A
// read-ahead stopped before its first read releases r at once, and Read
// then says it was stopped.
func TestReadAheadFirstChunkOnReader(t *testing.T) {
	releases := 0
	ra := newReadAhead(iotest.DataErrReader(strings.NewReader("small object")), nil, nil, func() { releases++ })
	p := make([]byte, 5)
	n, err := ra.Read(p)
	if err != nil || string(p[:n]) != "small" {
		t.Fatalf("read %q, %v", p[:n], err)
	}
	select {
	case <-ra.exited:
	default:
		t.Fatal("r not released after its end was read")
	}
	if releases != 1 || ra.phase != phaseEnded || ra.made != 1 {
		t.Fatalf("releases %d, phase %d, buffers %d; want 1, ended, 1", releases, ra.phase, ra.made)
	}
	rest, err := io.ReadAll(ra)
	if err != nil || string(rest) != " object" {
		t.Fatalf("rest %q, %v", rest, err)
	}
	ra.stop()
	if releases != 1 {
		t.Fatalf("released %d times", releases)
	}

	released := make(chan struct{})
	ra = newReadAhead(strings.NewReader("never read"), nil, nil, func() { close(released) })
	ra.stop()
	select {
	case <-released:
	default:
		t.Fatal("stop before any read did not release r")
	}
	if n, err := ra.Read(p); n != 0 || !errors.Is(err, errReadAheadStopped) {
		t.Fatalf("Read after stop: %d, %v", n, err)
	}
	ra.stop() // again: nothing more
}

// Decoders take their buffers, input readers and gzip readers from pools
// that earlier objects filled with their own bytes: what an object decodes
// to does not depend on what the objects before it left there. Each input
// is decoded after an object of long lines of other bytes, plain and gzip,
// and compared with a decode on fresh buffers.
func TestDecoderPoolsHoldNoStaleBytes(t *testing.T) {
	dirty := strings.Repeat(strings.Repeat("\"x\":[1,{", 1000)+"\n", 40)
	inputs := []string{
		`{"a":1}` + "\n" + `{"b":`,
		"line without end",
		`{"Records":[{"a":1},{"b":2}`,
		"[1,2",
		`{"a":"\u00e9"}` + "\n\n" + `{"c":[`,
		"",
	}
	for _, st := range StreamTypes {
		for _, in := range inputs {
			opts := DecodeOptions{StreamType: st}
			fresh := initialBuffer
			initialBuffer++ // no pooled buffer has this size
			want, werr := decodeAll(t, bytes.NewReader(gz(t, in)), opts)
			initialBuffer = fresh
			for _, compressed := range []bool{false, true} {
				var dirtyIn, cleanIn []byte = []byte(dirty), []byte(in)
				if compressed {
					dirtyIn, cleanIn = gz(t, dirty), gz(t, in)
				}
				decodeAll(t, bytes.NewReader(dirtyIn), DecodeOptions{StreamType: Lines})
				got, gerr := decodeAll(t, bytes.NewReader(cleanIn), opts)
				if fmt.Sprint(got, gerr) != fmt.Sprint(want, werr) {
					t.Errorf("%s %q (gzip %v) after another object: %v, %v; on fresh buffers: %v, %v", st, in, compressed, got, gerr, want, werr)
				}
			}
		}
	}
}

func TestReadAheadNoProgress(t *testing.T) {
	ra := newReadAhead(zeroReader{}, nil, nil, nil)
	defer ra.stop()
	if _, err := io.ReadAll(ra); err != io.ErrNoProgress {
		t.Fatalf("error %v, want io.ErrNoProgress", err)
	}
}

// Also when the stalling reader gave bytes first and the chunk takes further
// reads: the bytes come, then io.ErrNoProgress.
func TestReadAheadNoProgressAfterData(t *testing.T) {
	ra := newReadAhead(io.MultiReader(strings.NewReader("0123456789"), zeroReader{}), func() bool { return true }, nil, nil)
	defer ra.stop()
	got, err := io.ReadAll(ra)
	if string(got) != "0123456789" || err != io.ErrNoProgress {
		t.Fatalf("read %q, %v; want the 10 bytes, then io.ErrNoProgress", got, err)
	}
}

type zeroReader struct{}

// enteredReader signals on entered each time a Read of r begins.
type enteredReader struct {
	r       io.Reader
	entered chan<- struct{}
}

func (e *enteredReader) Read(p []byte) (int, error) {
	e.entered <- struct{}{}
	return e.r.Read(p)
}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

// stop returns at once, also while the goroutine waits in a read of a
// stream with nothing more to say; the goroutine ends, and releases what it
// read from, once closing the stream ends that read. wait is called before
// Read blocks.
func TestReadAheadStopWhileBlocked(t *testing.T) {
	pr, pw := io.Pipe()
	waits := 0
	released := make(chan struct{})
	reads := make(chan struct{}, 2)
	ra := newReadAhead(&enteredReader{pr, reads}, nil, func() { waits++ }, func() { close(released) })
	go pw.Write([]byte("first"))
	buf := make([]byte, 64)
	n, err := ra.Read(buf)
	if err != nil || string(buf[:n]) != "first" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	if waits == 0 {
		t.Fatal("wait not called before blocking for the first chunk")
	}
	<-reads // the first chunk's
	<-reads // the goroutine's, which waits for more
	stopped := make(chan struct{})
	go func() { ra.stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("stop waited for a read that nothing ends")
	}
	ra.stop() // a second stop does nothing
	select {
	case <-released:
		t.Fatal("released while its read was still in progress")
	case <-time.After(50 * time.Millisecond):
	}
	pw.CloseWithError(errors.New("closed by the owner"))
	select {
	case <-released:
	case <-time.After(5 * time.Second):
		t.Fatal("the goroutine did not end once the stream was closed")
	}
	<-ra.exited
}

// Records of the JSON stream types say that their data is compact JSON;
// lines, CloudWatch Logs messages and invalid records do not.
func TestRecordJSONFlag(t *testing.T) {
	cw := `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":1,"message":"{\"m\":1}"}]}`
	for _, tt := range []struct {
		stream StreamType
		in     string
		want   []bool
	}{
		{NDJSON, "{\"a\": 1}\n[1,2]\n\"s\"\n", []bool{true, true, true}},
		{Auto, "{\"a\":1}\n{\"b\":2}\n", []bool{true, true}},
		{JSONArray, `[{"a":1}, {"b" : 2}]`, []bool{true, true}},
		{JSON, `{"Records":[{"a":1}]}`, []bool{true}},
		{Auto, `{"Records":[{"a":1},{"b":2}]}`, []bool{true, true}},
		{Lines, "{\"a\":1}\nplain\n", []bool{false, false}},
		{Auto, "plain text\nmore\n", []bool{false, false}},
		{CloudWatchLogs, cw, []bool{false}},
	} {
		r, err := NewReader("in", strings.NewReader(tt.in), func(o *ReaderOptions) { o.Decode.StreamType = tt.stream })
		if err != nil {
			t.Fatal(err)
		}
		recs, errs := readAll(t, r)
		if len(errs) != 0 || len(recs) != len(tt.want) {
			t.Fatalf("%s %q: records %v, errors %v", tt.stream, tt.in, recs, errs)
		}
		for i, rec := range recs {
			if rec.JSON != tt.want[i] {
				t.Errorf("%s %q: record %d (%s): JSON %v, want %v", tt.stream, tt.in, i, rec.Data, rec.JSON, tt.want[i])
			}
			if rec.JSON && !jsonValidCompact(rec.Data) {
				t.Errorf("%s: record %d %q is marked JSON but is not compact JSON", tt.stream, i, rec.Data)
			}
		}
	}
	// An invalid line is quarantined without the flag.
	var bad []lakerelay.Record
	r, err := NewReader("in", strings.NewReader("{\"a\":1}\n{broken\n"), func(o *ReaderOptions) {
		o.Decode.StreamType = NDJSON
		o.Quarantine = func(rec lakerelay.Record, _ error) error { bad = append(bad, rec); return nil }
	})
	if err != nil {
		t.Fatal(err)
	}
	if recs, errs := readAll(t, r); len(recs) != 1 || len(errs) != 0 || len(bad) != 1 || bad[0].JSON {
		t.Fatalf("records %v, errors %v, quarantined %+v", recs, errs, bad)
	}
}

// jsonValidCompact reports whether b is one valid JSON value that
// encoding/json's Compact leaves unchanged.
func jsonValidCompact(b []byte) bool {
	var c bytes.Buffer
	return json.Compact(&c, b) == nil && bytes.Equal(c.Bytes(), b)
}

// A Reader does not wait for the read-ahead's read of a pipe that has
// nothing more to say: not in Close, nor in a Read that ends the stream with
// an error.
func TestReaderCloseWhileReadAheadBlocked(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	r, err := NewReader("pipe", pr, func(o *ReaderOptions) { o.CloseStream = true; o.Decode.StreamType = NDJSON })
	if err != nil {
		t.Fatal(err)
	}
	// One gzip member, flushed but not finished: the decompressor then waits
	// for more.
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte("{\"a\":1}\n"))
	zw.Flush()
	go pw.Write(b.Bytes())
	rec, err := r.Read(context.Background())
	if err != nil || string(rec.Data) != `{"a":1}` {
		t.Fatalf("read %q, %v", rec.Data, err)
	}
	closed := make(chan error, 1)
	go func() { closed <- r.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for a read of the stream in progress")
	}
}

func TestReaderFailsWhileReadAheadBlocked(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	r, err := NewReader("pipe", pr, func(o *ReaderOptions) { o.Decode.StreamType = NDJSON; o.Decode.MaxRecordSize = 64 })
	if err != nil {
		t.Fatal(err)
	}
	// A record longer than MaxRecordSize, flushed, then silence.
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(`{"a":"` + strings.Repeat("x", 100) + `"}` + "\n"))
	zw.Flush()
	go pw.Write(b.Bytes())
	failed := make(chan error, 1)
	go func() { _, err := r.Read(context.Background()); failed <- err }()
	select {
	case err := <-failed:
		if !errors.Is(err, lakerelay.ErrTooLarge) {
			t.Fatalf("Read: %v, want ErrTooLarge", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read of a too large record waited for more of the stream")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

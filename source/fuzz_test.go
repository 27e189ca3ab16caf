package source

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// sameDecode fails unless two decodings of the same bytes agree: the same
// error (or none) and the same records.
func sameDecode(t *testing.T, what string, want []rec, werr error, got []rec, gerr error) {
	t.Helper()
	if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
		t.Fatalf("%s: errors differ: %v / %v", what, werr, gerr)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, %d plain", what, len(got), len(want))
	}
	for i, r := range want {
		if got[i] != r && (r.CW == nil || got[i].CW == nil || *got[i].CW != *r.CW || got[i].Data != r.Data ||
			got[i].Offset != r.Offset || got[i].Invalid != r.Invalid) {
			t.Fatalf("%s: record %d differs: %+v / %+v", what, i, got[i], r)
		}
	}
}

// gzipMembers compresses each part as one gzip member.
func gzipMembers(t testing.TB, parts ...[]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, p := range parts {
		w := gzip.NewWriter(&b)
		if _, err := w.Write(p); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

var fuzzZstd, _ = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))

// checkCompressed decodes in compressed as gzip (one member, then three)
// and zstd, and requires the records and error of the plain decoding.
func checkCompressed(t *testing.T, in []byte, opts DecodeOptions, want []rec, werr error) {
	t.Helper()
	if bytes.HasPrefix(in, gzipMagic) || bytes.HasPrefix(in, zstdMagic) {
		return // the plain decoding decompressed it already
	}
	a, b := len(in)/3, 2*len(in)/3
	for _, c := range []struct {
		what string
		data []byte
	}{
		{"gzip", gzipMembers(t, in)},
		{"gzip, 3 members", gzipMembers(t, in[:a], in[a:b], in[b:])},
		{"zstd", fuzzZstd.EncodeAll(in, nil)},
	} {
		got, gerr := decodeAll(t, bytes.NewReader(c.data), opts)
		sameDecode(t, c.what, want, werr, got, gerr)
	}
}

// fuzzMaxObject is the decompressed size limit in FuzzDecode.
const fuzzMaxObject = 1 << 20

// checkCorrupt decodes raw behind a gzip or a zstd magic number. That is a
// corrupt stream unless an independent decompressor (compress/gzip; zstd's
// whole-buffer decoder) accepts it; a corrupt stream, or one beyond the
// object size limit, must fail with an error naming the object, whatever
// records came before.
func checkCorrupt(t *testing.T, raw []byte, opts DecodeOptions) {
	t.Helper()
	for _, c := range []struct {
		what  string
		magic []byte
		ref   func([]byte) ([]byte, error)
	}{
		{"gzip", gzipMagic, func(b []byte) ([]byte, error) {
			zr, err := stdgzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			return io.ReadAll(io.LimitReader(zr, fuzzMaxObject+1))
		}},
		{"zstd", zstdMagic, func(b []byte) ([]byte, error) {
			d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow),
				zstd.WithDecoderMaxMemory(fuzzMaxObject+1))
			if err != nil {
				return nil, err
			}
			defer d.Close()
			return d.DecodeAll(b, nil)
		}},
	} {
		data := append(append([]byte(nil), c.magic...), raw...)
		got, gerr := decodeAll(t, bytes.NewReader(data), opts)
		plain, rerr := c.ref(data)
		if rerr == nil && len(plain) > fuzzMaxObject {
			rerr = errors.New("beyond the object size limit")
		}
		if rerr == nil {
			// A valid stream after all: it must decode like its contents.
			if !bytes.HasPrefix(plain, gzipMagic) && !bytes.HasPrefix(plain, zstdMagic) {
				want, werr := decodeAll(t, bytes.NewReader(plain), opts)
				sameDecode(t, c.what+" (valid)", want, werr, got, gerr)
			}
			continue
		}
		if gerr == nil {
			t.Fatalf("%s: corrupt stream (%v) decoded without error into %d records", c.what, rerr, len(got))
		}
		var oe *ObjectError
		if !errors.As(gerr, &oe) || oe.Key != "k" {
			t.Fatalf("%s: error %v does not name the object", c.what, gerr)
		}
	}
}

// FuzzDecode checks every stream type: no panic, the same records whatever
// the read sizes and buffer boundaries, valid compact JSON for JSON records,
// offsets inside the input; the same records when the input is compressed
// (gzip, several gzip members, zstd); an error, never a panic or a silent
// partial success, when the input follows a gzip or zstd magic number as a
// corrupt stream.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		"a\nb\r\n\nc", "{\"a\":1}\n{\"b\":2}{\"c\":3}\nnot json\n[1,2]", "{\n \"a\": 1\n}", "[{\"a\":1}, 2, \"x\"]",
		`{"Records":[{"a":1},{"b":2}],"x":1}`, cwDoc1 + cwControl + cwDoc2, `{"Records":[1,`, "[1,]", "{\"e\":\"x\n{\"f\":1}",
	}
	for _, s := range seeds {
		for i := range StreamTypes {
			f.Add([]byte(s), uint8(i), false)
		}
		f.Add([]byte(s), uint8(0), true)
	}
	f.Add([]byte(`{"b":[2],"a":[1,{"a":[3]}],"Records":[4],"a":[5]}`+"\n"+`{"x":1}`), uint8(1), true)
	// Compressed streams without their magic number: behind the magic the
	// corrupt-stream check sees them whole, truncated, or with a bad byte.
	for _, s := range seeds[:3] {
		gzs := gzipMembers(f, []byte(s), []byte(s))
		zs := fuzzZstd.EncodeAll([]byte(s), nil)
		bad := append([]byte(nil), gzs...)
		bad[len(bad)/2] ^= 0x40
		for _, b := range [][]byte{gzs[2:], gzs[2 : len(gzs)-5], bad[2:], zs[4:], zs[4 : len(zs)-3]} {
			f.Add(b, uint8(1), false)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, st uint8, expand bool) {
		opts := DecodeOptions{StreamType: StreamTypes[int(st)%len(StreamTypes)], MaxRecordSize: 256, MaxObjectSize: fuzzMaxObject}
		if expand {
			opts.StreamType, opts.ExpandField = NDJSON, "Records"
			if st%2 == 1 { // several fields, as Proofpoint TAP's
				opts.ExpandFields = []string{"a", "b"}
			}
		}
		want, werr := decodeAll(t, bytes.NewReader(in), opts)
		old := initialBuffer
		initialBuffer = 7
		got, gerr := decodeAll(t, iotest.OneByteReader(bytes.NewReader(in)), opts)
		initialBuffer = old
		sameDecode(t, "small reads", want, werr, got, gerr)
		// Every record cut from a slab (not only past an object's first
		// 64 KiB), every one held to the end.
		reuse := opts
		reuse.ReuseData = true
		slabAfter = 0
		got, gerr = decodeAll(t, bytes.NewReader(in), reuse)
		slabAfter = slabSize
		sameDecode(t, "ReuseData", want, werr, got, gerr)
		checkCompressed(t, in, opts, want, werr)
		checkCorrupt(t, in, opts)
		last := int64(-1)
		for i, r := range want {
			if r.Offset < last || r.Offset > int64(len(in)) {
				t.Fatalf("record %d: offset %d after %d, input %d bytes", i, r.Offset, last, len(in))
			}
			last = r.Offset
			if r.Invalid || opts.StreamType == Lines || opts.StreamType == CloudWatchLogs {
				continue
			}
			if opts.StreamType == Auto && !strings.HasPrefix(strings.TrimLeft(string(in), " \t\r\n"), "{") {
				continue // may be detected as lines
			}
			if r.CW != nil {
				continue
			}
			if !json.Valid([]byte(r.Data)) {
				t.Fatalf("record %d is not valid JSON: %q", i, r.Data)
			}
			var c bytes.Buffer
			json.Compact(&c, []byte(r.Data))
			if c.String() != r.Data {
				t.Fatalf("record %d is not compact: %q", i, r.Data)
			}
			if len(r.Data) > 256 {
				t.Fatalf("record %d: %d bytes, limit 256", i, len(r.Data))
			}
		}
	})
}

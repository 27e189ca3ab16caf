package source

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"testing/iotest"
)

func FuzzJSONParser(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}],"c":"\u00e9\n"}`, `[1.5e3,-0,true,false]`, ` "x" `, `{"a":}`, `[1,]`, "\"\x01\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, want := validJSON(b), json.Valid(b)
		if got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid = %v", b, got, want)
		}
		if !want {
			return
		}
		var std bytes.Buffer
		if err := json.Compact(&std, b); err != nil {
			t.Fatal(err)
		}
		if c := appendCompact(nil, bytes.TrimSpace(b)); !bytes.Equal(c, std.Bytes()) {
			t.Fatalf("appendCompact(%q) = %q, json.Compact = %q", b, c, std.Bytes())
		}
	})
}

// FuzzDecode checks every stream type: no panic, the same records whatever
// the read sizes and buffer boundaries, valid compact JSON for JSON records,
// offsets inside the input.
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
	f.Fuzz(func(t *testing.T, in []byte, st uint8, expand bool) {
		opts := DecodeOptions{StreamType: StreamTypes[int(st)%len(StreamTypes)], MaxRecordSize: 256}
		if expand {
			opts.StreamType, opts.ExpandField = NDJSON, "Records"
		}
		want, werr := decodeAll(t, bytes.NewReader(in), opts)
		old := initialBuffer
		initialBuffer = 7
		got, gerr := decodeAll(t, iotest.OneByteReader(bytes.NewReader(in)), opts)
		initialBuffer = old
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Fatalf("errors differ: %v / %v", werr, gerr)
		}
		if len(got) != len(want) {
			t.Fatalf("%d records with small reads, %d without", len(got), len(want))
		}
		last := int64(-1)
		for i, r := range want {
			if got[i] != r && (r.CW == nil || *got[i].CW != *r.CW || got[i].Data != r.Data) {
				t.Fatalf("record %d differs: %+v / %+v", i, got[i], r)
			}
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

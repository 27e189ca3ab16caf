package source

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/lakerelay/lakerelay"
)

type rec struct {
	Data    string
	Offset  int64
	Invalid bool
	CW      *lakerelay.CloudWatchOrigin
}

func decodeAll(t testing.TB, r io.Reader, opts DecodeOptions) ([]rec, error) {
	t.Helper()
	d := newDecoder(r, opts, "bkt", "k", "")
	defer d.close()
	var out []rec
	// With ReuseData the records' slabs are held to the end, as by a
	// reader holding every record, and each record must then still hold
	// its bytes.
	var held []decoded
	defer func() {
		for i, x := range held {
			if string(x.data) != out[i].Data {
				t.Fatalf("record %d changed while held: %q, was %q", i, x.data, out[i].Data)
			}
			if x.slab != nil {
				x.slab.release() // as settling the record does (ReuseData)
			}
		}
	}()
	for i := 0; ; i++ {
		x, err := d.next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if x.index != int64(i) {
			t.Fatalf("record %d has index %d", i, x.index)
		}
		if x.invalid != nil && !errors.Is(x.invalid, lakerelay.ErrInvalidRecord) {
			t.Fatalf("invalid reason %v does not wrap ErrInvalidRecord", x.invalid)
		}
		if x.json && (x.invalid != nil || !jsonValidCompact(x.data)) {
			t.Fatalf("record %d %q is marked JSON but is not compact JSON (invalid: %v)", i, x.data, x.invalid)
		}
		out = append(out, rec{Data: string(x.data), Offset: x.offset, Invalid: x.invalid != nil, CW: x.cw})
		if opts.ReuseData {
			held = append(held, x)
		}
		if len(out) > 1<<20 {
			t.Fatal("runaway decoder")
		}
	}
}

func gz(t testing.TB, parts ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, p := range parts { // one gzip member per part
		w := gzip.NewWriter(&b)
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func zst(t testing.TB, s string) []byte {
	t.Helper()
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	return w.EncodeAll([]byte(s), nil)
}

func datas(rs []rec) []string {
	var out []string
	for _, r := range rs {
		s := r.Data
		if r.Invalid {
			s = "!" + s
		}
		out = append(out, s)
	}
	return out
}

const cwDoc1 = `{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/f","logStream":"2024/01/01/[$LATEST]abc","subscriptionFilters":["s"],"logEvents":[{"id":"1","timestamp":1700000000000,"message":"{\"level\":\"info\"}"},{"id":"2","timestamp":1700000000001,"message":"plain text"}]}`
const cwControl = `{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}`
const cwDoc2 = `{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"g2","logStream":"s2","subscriptionFilters":["s"],"logEvents":[{"id":"3","timestamp":5,"message":"third"}]}`

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts DecodeOptions
		want []string
	}{
		{"lines", "a\nb\r\n\n c \nlast", DecodeOptions{StreamType: Lines}, []string{"a", "b", " c ", "last"}},
		{"lines/json-looking", "{\"a\": 1}\n", DecodeOptions{StreamType: Lines}, []string{`{"a": 1}`}},
		{"lines/empty", "", DecodeOptions{StreamType: Lines}, nil},
		{"lines/crlf-end", "x\r\n", DecodeOptions{StreamType: Lines}, []string{"x"}},
		{"ndjson", "{\"a\":1}\n{\"b\":2}{\"c\":3}\n  [1, 2]\n\"s\"\n12\n-1.5e3 true null\n", DecodeOptions{StreamType: NDJSON},
			[]string{`{"a":1}`, `{"b":2}`, `{"c":3}`, `[1,2]`, `"s"`, `12`, `-1.5e3`, `true`, `null`}},
		{"ndjson/pretty", "{\n  \"a\": 1,\n  \"s\": \"x y\"\n}\n{\"b\":2}", DecodeOptions{StreamType: NDJSON}, []string{`{"a":1,"s":"x y"}`, `{"b":2}`}},
		{"ndjson/invalid-lines", "{\"a\":1}\nnot json\n{\"b\":2}\n{\"c\":\n{\"d\":4}\n{\"e\":\"unterminated\n{\"f\":6}\n{\"g\":7}xyz\n{\"h\":1}", DecodeOptions{StreamType: NDJSON},
			[]string{`{"a":1}`, `!not json`, `{"b":2}`, `!{"c":`, `{"d":4}`, `!{"e":"unterminated`, `{"f":6}`, `{"g":7}`, `!xyz`, `{"h":1}`}},
		{"ndjson/truncated-last", "{\"a\":1}\n{\"b\":", DecodeOptions{StreamType: NDJSON}, []string{`{"a":1}`, `!{"b":`}},
		{"json/pretty", "\n{\n \"a\": [1, 2],\n \"b\": {\"c\": \"d e\"}\n}\n", DecodeOptions{StreamType: JSON}, []string{`{"a":[1,2],"b":{"c":"d e"}}`}},
		{"json/invalid", "{\"a\": }\n", DecodeOptions{StreamType: JSON}, []string{`!{"a": }`}},
		{"json/trailing", "{\"a\":1} {\"b\":2}", DecodeOptions{StreamType: JSON}, []string{`!{"a":1} {"b":2}`}},
		{"json/empty", "  \n", DecodeOptions{StreamType: JSON}, nil},
		{"json-array", "[{\"a\":1}, {\"b\":[1, 2]} ,3, \"x\"]", DecodeOptions{StreamType: JSONArray}, []string{`{"a":1}`, `{"b":[1,2]}`, `3`, `"x"`}},
		{"json-array/empty", " [ ] ", DecodeOptions{StreamType: JSONArray}, nil},
		{"json-array/several", "[1]\n[2,3][]", DecodeOptions{StreamType: JSONArray}, []string{"1", "2", "3"}},
		{"expand", `{"Records":[{"a":1},{"b":2}]}`, DecodeOptions{ExpandField: "Records"}, []string{`{"a":1}`, `{"b":2}`}},
		{"expand/not-first", `{"x":{"Records":[9]},"y":"]}","Records": [ 1 , 2 ],"z":3}`, DecodeOptions{StreamType: JSON, ExpandField: "Records"}, []string{"1", "2"}},
		{"expand/several-docs", "{\"Records\":[1]}\n{\"Records\":[]}{\"Records\":[2,{\"c\":3}]}", DecodeOptions{StreamType: NDJSON, ExpandField: "Records"}, []string{"1", "2", `{"c":3}`}},
		{"expand/escaped-key", `{"Rec\u006frds":[1]}`, DecodeOptions{ExpandField: "Records"}, []string{"1"}},
		{"expand/other-name", `{"events":[{"a":1}]}`, DecodeOptions{ExpandField: "events"}, []string{`{"a":1}`}},
		{"expand/fields", `{"q":"t","b":[2],"a":[1,{"x":[3]}],"c":{"a":[9]},"a":[7]}`, DecodeOptions{StreamType: JSON, ExpandFields: []string{"a", "b"}}, []string{"2", "1", `{"x":[3]}`}},
		{"expand/fields-with-field", "{\"b\":[2]}\n{\"a\":[1]}", DecodeOptions{StreamType: NDJSON, ExpandField: "a", ExpandFields: []string{"b"}}, []string{"2", "1"}},
		{"cloudwatch", cwDoc1 + cwControl + "\n" + cwDoc2, DecodeOptions{StreamType: CloudWatchLogs}, []string{`{"level":"info"}`, "plain text", "third"}},
		{"auto/lines", "hello world\nsecond line\n", DecodeOptions{}, []string{"hello world", "second line"}},
		{"auto/ndjson", "{\"a\":1}\n{\"b\":2}\n", DecodeOptions{}, []string{`{"a":1}`, `{"b":2}`}},
		{"auto/array", "  [{\"a\":1},{\"b\":2}]", DecodeOptions{}, []string{`{"a":1}`, `{"b":2}`}},
		{"auto/cloudtrail", "{\"Records\": [{\"eventName\":\"GetObject\"},{\"eventName\":\"PutObject\"}]}", DecodeOptions{}, []string{`{"eventName":"GetObject"}`, `{"eventName":"PutObject"}`}},
		{"auto/records-not-array", "{\"Records\": 1}\n", DecodeOptions{}, []string{`{"Records":1}`}},
		{"auto/cloudwatch", cwDoc1 + cwDoc2, DecodeOptions{}, []string{`{"level":"info"}`, "plain text", "third"}},
		{"auto/empty", "", DecodeOptions{}, nil},
		{"auto/whitespace", " \n\t ", DecodeOptions{}, nil},
		{"auto/bracketed-lines", "[INFO] started\n[WARN] slow\n", DecodeOptions{}, []string{"[INFO] started", "[WARN] slow"}},
		{"auto/bracketed-date-lines", "[2024-01-01 12:00:00] up\n", DecodeOptions{}, []string{"[2024-01-01 12:00:00] up"}},
		{"auto/array-of-numbers", "[1, 2]", DecodeOptions{}, []string{"1", "2"}},
		{"auto/truncated-array", "[1", DecodeOptions{}, []string{"[1"}},
		{"auto/bom-ndjson", "\xef\xbb\xbf{\"a\":1}\n", DecodeOptions{}, []string{`{"a":1}`}},
		{"lines/bom", "\xef\xbb\xbfx\ny", DecodeOptions{StreamType: Lines}, []string{"x", "y"}},
		{"lines/short", "ab", DecodeOptions{StreamType: Lines}, []string{"ab"}},
		{"auto/broken-json", "{\"a\nnext", DecodeOptions{}, []string{`!{"a`, "!next"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, enc := range []struct {
				name string
				in   func() io.Reader
			}{
				{"plain", func() io.Reader { return strings.NewReader(tt.in) }},
				{"onebyte", func() io.Reader { return iotest.OneByteReader(strings.NewReader(tt.in)) }},
				{"gzip", func() io.Reader { return bytes.NewReader(gz(t, tt.in)) }},
				{"gzip-multimember", func() io.Reader {
					h := len(tt.in) / 2
					return bytes.NewReader(gz(t, tt.in[:h], tt.in[h:]))
				}},
				{"zstd", func() io.Reader { return bytes.NewReader(zst(t, tt.in)) }},
			} {
				t.Run(enc.name, func(t *testing.T) {
					got, err := decodeAll(t, enc.in(), tt.opts)
					if err != nil {
						t.Fatalf("error: %v", err)
					}
					if g := datas(got); !equal(g, tt.want) {
						t.Fatalf("records\n got %q\nwant %q", g, tt.want)
					}
				})
			}
		})
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDecodeOffsets(t *testing.T) {
	in := "{\"a\":1}\n  {\"b\":2}\nbad\n[3]"
	got, err := decodeAll(t, bytes.NewReader(gz(t, in)), DecodeOptions{StreamType: NDJSON})
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{0, 10, 18, 22}
	for i, r := range got {
		if r.Offset != want[i] {
			t.Errorf("record %d (%s): offset %d, want %d", i, r.Data, r.Offset, want[i])
		}
		if !strings.HasPrefix(in[r.Offset:], strings.TrimPrefix(r.Data, "!")) {
			t.Errorf("record %d: offset %d does not point at %q", i, r.Offset, r.Data)
		}
	}
}

func TestDecodeCloudWatchOrigin(t *testing.T) {
	got, err := decodeAll(t, bytes.NewReader(gz(t, cwDoc1, cwControl, cwDoc2)), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d records", len(got))
	}
	want := lakerelay.CloudWatchOrigin{Owner: "123456789012", LogGroup: "/aws/lambda/f", LogStream: "2024/01/01/[$LATEST]abc", ID: "2", Timestamp: 1700000000001}
	if got[1].CW == nil || *got[1].CW != want {
		t.Fatalf("origin %+v, want %+v", got[1].CW, want)
	}
	if got[2].CW.LogGroup != "g2" || got[2].Offset != int64(len(cwDoc1)+len(cwControl)) {
		t.Fatalf("third record: %+v", got[2])
	}
}

func TestDecodeErrors(t *testing.T) {
	big := strings.Repeat("x", 200)
	tests := []struct {
		name   string
		in     []byte
		opts   DecodeOptions
		is     error
		offset int64
		before int // records before the error
	}{
		{"line-too-large", []byte("ok\n" + big + "\n"), DecodeOptions{StreamType: Lines, MaxRecordSize: 100}, lakerelay.ErrTooLarge, 3, 1},
		{"last-line-too-large", []byte("ok\n" + big), DecodeOptions{StreamType: Lines, MaxRecordSize: 100}, lakerelay.ErrTooLarge, 3, 1},
		{"json-too-large", []byte(`{"a":1}` + "\n" + `{"b":"` + big + `"}`), DecodeOptions{StreamType: NDJSON, MaxRecordSize: 100}, lakerelay.ErrTooLarge, 8, 1},
		// An invalid line beyond the limit fails its object whether or not
		// the whole line fits the read buffer (auto mode buffers up to 8×).
		{"invalid-line-too-large", []byte(`{"a":1}` + "\n{S," + big + "\n{\"b\":2}\n"), DecodeOptions{StreamType: NDJSON, MaxRecordSize: 100}, lakerelay.ErrTooLarge, 8, 1},
		{"invalid-line-too-large-auto", []byte(`{"a":1}` + "\n{S," + big + "\n{\"b\":2}\n"), DecodeOptions{MaxRecordSize: 100}, lakerelay.ErrTooLarge, 8, 1},
		{"array-element-too-large", []byte(`[1,"` + big + `"]`), DecodeOptions{MaxRecordSize: 100}, lakerelay.ErrTooLarge, 3, 1},
		{"records-element-too-large", []byte(`{"Records":[1,"` + big + `"]}`), DecodeOptions{MaxRecordSize: 100}, lakerelay.ErrTooLarge, 14, 1},
		{"object-too-large", gz(t, strings.Repeat("line\n", 1000)), DecodeOptions{MaxObjectSize: 1000}, lakerelay.ErrTooLarge, 1000, -1},
		{"array-invalid-element", []byte(`[1, {"a" 2}, 3]`), DecodeOptions{StreamType: JSONArray}, lakerelay.ErrInvalidRecord, 9, 1},
		{"array-trailing-comma", []byte(`[1,]`), DecodeOptions{StreamType: JSONArray}, lakerelay.ErrInvalidRecord, 3, 1},
		{"array-not-array", []byte(`{"a":1}`), DecodeOptions{StreamType: JSONArray}, lakerelay.ErrInvalidRecord, 0, 0},
		{"array-truncated", []byte(`[1, 2`), DecodeOptions{StreamType: JSONArray}, lakerelay.ErrInvalidRecord, 5, 2},
		{"expand-missing", []byte(`{"a":1}`), DecodeOptions{ExpandField: "Records"}, lakerelay.ErrInvalidRecord, 7, 0},
		{"expand-not-array", []byte(`{"Records":{}}`), DecodeOptions{ExpandField: "Records"}, lakerelay.ErrInvalidRecord, 11, 0},
		{"expand-fields-missing", []byte(`{"a":[1]}` + "\n" + `{"c":[2]}`), DecodeOptions{StreamType: NDJSON, ExpandFields: []string{"a", "b"}}, lakerelay.ErrInvalidRecord, 19, 1},
		{"expand-fields-not-array", []byte(`{"a":[1],"b":2}`), DecodeOptions{StreamType: JSON, ExpandFields: []string{"a", "b"}}, lakerelay.ErrInvalidRecord, 13, 1},
		{"expand-truncated", []byte(`{"Records":[1,2`), DecodeOptions{}, lakerelay.ErrInvalidRecord, 15, 2},
		{"cloudwatch-invalid", []byte(cwDoc2 + `{"messageType":"DATA_MESSAGE","logEvents":5}`), DecodeOptions{StreamType: CloudWatchLogs}, lakerelay.ErrInvalidRecord, int64(len(cwDoc2)), 1},
		{"cloudwatch-unknown-type", []byte(`{"messageType":"OTHER"}`), DecodeOptions{StreamType: CloudWatchLogs}, lakerelay.ErrInvalidRecord, 0, 0},
		{"corrupt-gzip", append([]byte{0x1f, 0x8b, 8, 0}, bytes.Repeat([]byte{0xff}, 64)...), DecodeOptions{}, nil, 0, 0},
		{"truncated-gzip", truncated(gz(t, strings.Repeat("line\n", 10000)), 10), DecodeOptions{}, io.ErrUnexpectedEOF, -1, -1},
		{"gzip-trailing-garbage", append(gz(t, "a\n"), []byte("garbage")...), DecodeOptions{}, nil, -1, 1},
		{"corrupt-zstd", append([]byte{0x28, 0xb5, 0x2f, 0xfd}, bytes.Repeat([]byte{0xff}, 64)...), DecodeOptions{}, nil, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeAll(t, bytes.NewReader(tt.in), tt.opts)
			if err == nil {
				t.Fatalf("no error; records %q", datas(got))
			}
			var oe *ObjectError
			if !errors.As(err, &oe) {
				t.Fatalf("error %T %v is not an *ObjectError", err, err)
			}
			if oe.Bucket != "bkt" || oe.Key != "k" || !strings.Contains(err.Error(), "s3://bkt/k") {
				t.Fatalf("error does not name the object: %v", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("error %v is not %v", err, tt.is)
			}
			if tt.offset >= 0 && oe.Offset != tt.offset {
				t.Fatalf("offset %d, want %d (%v)", oe.Offset, tt.offset, err)
			}
			if tt.before >= 0 && len(got) != tt.before {
				t.Fatalf("%d records before the error, want %d", len(got), tt.before)
			}
			// The error is sticky.
			d := newDecoder(bytes.NewReader(tt.in), tt.opts, "bkt", "k", "")
			defer d.close()
			for i := 0; i < 100000; i++ {
				if _, err := d.next(); err != nil {
					if _, err2 := d.next(); err2 != err {
						t.Fatalf("second call: %v, want %v", err2, err)
					}
					return
				}
			}
		})
	}
}

func TestDecodeOptionsValidate(t *testing.T) {
	if err := (DecodeOptions{}).Validate(); err != nil {
		t.Fatal(err)
	}
	for _, o := range []DecodeOptions{
		{StreamType: "xml"},
		{StreamType: Lines, ExpandField: "Records"},
		{MaxRecordSize: -1},
		{MaxObjectSize: -1},
	} {
		if err := o.Validate(); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func truncated(b []byte, n int) []byte { return b[:len(b)-n] }

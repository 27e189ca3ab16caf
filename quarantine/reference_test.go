package quarantine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/jsonscan"
)

// appendEntryReference is how entries were written before appendEntry had
// its own encoder: Entry through encoding/json. appendEntry must write the
// same bytes. One difference was made on purpose: a record kept as a JSON
// string is no longer HTML-escaped (json.Marshal wrote <, > and & as
// \u003c, \u003e and \u0026; both decode to the same string), like every
// other string of the entry.
func appendEntryReference(dst []byte, now time.Time, r lakerelay.Record, reason error) []byte {
	e := Entry{Time: now.UTC(), Origin: Origin{Bucket: r.Origin.Bucket, Key: r.Origin.Key, VersionID: r.Origin.VersionID,
		Index: r.Origin.Index, Offset: r.Origin.Offset, LogType: r.Origin.LogType}}
	if reason != nil {
		e.Reason = reason.Error()
	}
	var compact bytes.Buffer
	switch {
	case !utf8.Valid(r.Data):
		e.DataBase64 = r.Data
		if e.DataBase64 == nil {
			e.DataBase64 = []byte{}
		}
	case referenceIsDocument(r.Data) && json.Compact(&compact, r.Data) == nil:
		e.Data = compact.Bytes()
	default:
		var str bytes.Buffer
		enc := json.NewEncoder(&str)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(string(r.Data))
		e.Data = bytes.TrimSuffix(str.Bytes(), []byte("\n"))
	}
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		fmt.Fprintf(buf, "{\"time\":%q,\"reason\":\"quarantine: cannot encode entry\"}\n", e.Time.Format(time.RFC3339Nano))
	}
	return buf.Bytes()
}

func referenceIsDocument(data []byte) bool {
	d := bytes.TrimLeft(data, " \t\r\n")
	return len(d) > 0 && (d[0] == '{' || d[0] == '[') && json.Valid(data)
}

// FuzzEntryReference: appendEntry writes what encoding/json writes for the
// same Entry, byte for byte, whatever the record, its origin and the reason.
func FuzzEntryReference(f *testing.F) {
	for _, s := range []string{`{"a":1}`, " \t{\"a\" : [1, 2 ]}\n ", "x", "", "\xff", "[1,\n2]", `"s"`, "{\"a\":\"\u2028<&>\"}",
		"null", "1e400", "{\"a\":\"\\u00e9\"}", "[1,", "\u2028 text <b> & \x01"} {
		f.Add([]byte(s), "reason\nwith newline <&>", "bucket", "key/é\xff", "v1", int64(3), int64(-1), "log\u2029type", int64(1700000000123456789))
	}
	f.Fuzz(func(t *testing.T, data []byte, reason, bucket, key, version string, index, offset int64, logType string, nanos int64) {
		now := time.Unix(0, nanos)
		if y := now.UTC().Year(); y < 0 || y > 9999 {
			t.Skip("encoding/json refuses years outside 0–9999")
		}
		r := lakerelay.Record{Data: data, Origin: lakerelay.Origin{Bucket: bucket, Key: key, VersionID: version, Index: index, Offset: offset, LogType: logType}}
		var reasonErr error
		if reason != "" {
			reasonErr = errors.New(reason)
		}
		got := appendEntry([]byte("prefix "), now, r, why(reasonErr))
		want := appendEntryReference([]byte("prefix "), now, r, reasonErr)
		if !bytes.Equal(got, want) {
			t.Fatalf("entry\n got %q\nwant %q", got, want)
		}
		// A record the source marked as compact JSON is written without
		// parsing it again, to the same entry.
		if json.Valid(data) && bytes.Equal(jsonscan.AppendValue(nil, data, jsonscan.DefaultMaxDepth), data) {
			r.JSON = true
			if got := appendEntry([]byte("prefix "), now, r, why(reasonErr)); !bytes.Equal(got, want) {
				t.Fatalf("entry of a record marked JSON\n got %q\nwant %q", got, want)
			}
		}
	})
}

func BenchmarkAppendEntry(b *testing.B) {
	rec := lakerelay.Record{Data: bytes.Repeat([]byte(`{"eventName":"ConsoleLogin","a":[1,2,3],"s":"text \u00e9"},`), 25), Origin: lakerelay.Origin{Bucket: "b", Key: "AWSLogs/1/CloudTrail/x.json.gz", Index: 7, LogType: "cloudtrail"}}
	rec.Data = append(append([]byte("["), rec.Data[:len(rec.Data)-1]...), ']')
	reason := errors.New("ocsf: class 3002 is not the class of this source")
	now := time.Now()
	lakerelayEntry := func(dst []byte, now time.Time, r lakerelay.Record, reason error) []byte {
		return appendEntry(dst, now, r, why(reason))
	}
	for _, c := range []struct {
		name string
		fn   func([]byte, time.Time, lakerelay.Record, error) []byte
	}{{"encoding-json", appendEntryReference}, {"lakerelay", lakerelayEntry}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(rec.Data)))
			var buf []byte
			for b.Loop() {
				buf = c.fn(buf[:0], now, rec, reason)
			}
		})
	}
}

package source_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/lakerelay/lakerelay/source"
)

// appendJSONReference is AppendJSON built on encoding/json: the second
// implementation it is checked against.
func appendJSONReference(dst, data []byte) []byte {
	if json.Valid(data) {
		var b bytes.Buffer
		if json.Compact(&b, data) == nil {
			return append(dst, b.Bytes()...)
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(string(data))
	return append(dst, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...)
}

var appendJSONSeeds = []string{
	`{"a":1,"b":[true,false,null],"c":"x"}`,
	" { \"a\" : [ 1 , 2 ] ,\n\t\"b\":\"s p a c e\" } \r\n",
	`"just a string"`,
	`12.5e3`,
	`not json at all`,
	`{"unterminated":`,
	`{"a":1} {"b":2}`,
	"tab\tnew\nline\rcr\bbs\fff\x00nul\x1f",
	`quote " and backslash \ and <html> & amp`,
	"bad utf8 \xff\xfe end",
	"line sep \u2028 para sep \u2029",
	"héllo wörld ✓ 😀",
	"",
	"   ",
	`[1,2,`,
	`{"esc":"\u0041\n\"q\""}`,
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	for _, s := range appendJSONSeeds {
		got := source.AppendJSON([]byte("prefix:"), []byte(s))
		want := appendJSONReference([]byte("prefix:"), []byte(s))
		if !bytes.Equal(got, want) {
			t.Errorf("AppendJSON(%q) = %q, want %q", s, got, want)
		}
	}
}

func FuzzAppendJSON(f *testing.F) {
	for _, s := range appendJSONSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := source.AppendJSON(nil, data)
		if want := appendJSONReference(nil, data); !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON(%q) = %q, want %q (encoding/json)", data, got, want)
		}
		if !json.Valid(got) || bytes.IndexByte(got, '\n') >= 0 {
			t.Fatalf("AppendJSON(%q) = %q: not one line of valid JSON", data, got)
		}
	})
}

func BenchmarkAppendJSON(b *testing.B) {
	rec := []byte(`{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::123456789012:assumed-role/app/s"},"eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","requestParameters":{"bucketName":"b","key":"k"},"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::b/k"}],"readOnly":true}`)
	var dst []byte
	for _, v := range []struct {
		name string
		f    func(dst, data []byte) []byte
	}{{"AppendJSON", source.AppendJSON}, {"encoding-json", appendJSONReference}} {
		b.Run(v.name, func(b *testing.B) {
			b.SetBytes(int64(len(rec)))
			b.ReportAllocs()
			for b.Loop() {
				dst = v.f(dst[:0], rec)
			}
		})
	}
}

func ExampleAppendJSON() {
	for _, data := range []string{`{"a": [1, 2]}`, `{"b":true}`, `plain "text" line`} {
		fmt.Printf("%s\n", source.AppendJSON(nil, []byte(data)))
	}
	// Output:
	// {"a":[1,2]}
	// {"b":true}
	// "plain \"text\" line"
}

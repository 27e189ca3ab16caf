package sink

import (
	"encoding/json"
	"strings"
	"testing"
)

var validSeeds = []string{
	`{}`, `[]`, `{"a":1}`, ` {"a" : [1, 2.5e-3, -0, "x\u00e9\n", true, false, null]} `, `"s"`, `0`, `-1.5E+10`,
	`{"a":{"b":[{},[]]}}`, `[1,]`, `{"a":}`, `{"a" 1}`, `{,}`, `01`, `1.`, `.5`, `1e`, `-`, `"\x"`, `"\u12"`,
	"\"a\x01\"", "\"\xff\"", `tru`, `nul`, `[1] [2]`, `{"a":1}}`, `[`, `{"a"`, `"unterminated`, ``, `  `,
	`[[]]`, `{"a":[1,{"b":null}]}`, "[1\n,\n2]", `{"a":1,}`, `["a" "b"]`, `1 2`, `{"a":1 "b":2}`,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
}

func TestValidJSON(t *testing.T) {
	for _, s := range validSeeds {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			n := min(len(s), 40)
			t.Errorf("validJSON(%q...) = %v, encoding/json says %v", s[:n], got, want)
		}
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, s := range validSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := validJSON(data), json.Valid(data); got != want {
			t.Fatalf("validJSON(%q) = %v, encoding/json says %v", data, got, want)
		}
	})
}

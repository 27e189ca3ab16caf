package jsonscan

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

var unquoteSeeds = []string{
	`""`, `"abc"`, `"a\"b\\c\/d"`, `"\b\f\n\r\t"`, `"\u00e9\u00E9é"`, `"\ud83d\ude00"`, `"\ud800"`,
	`"\ud800x"`, `"\ud800\u0041"`, `"\udc00\ud800"`, `"\ud800\ud800\udc00"`, "\"\xff\xfe\"", "\"a\xe2\x80\"",
	"\"\xed\xa0\x80\"", `"\u2028 \u2029"`, "\"\u2028\"", `"\u0000"`, "\"caf\xc3\xa9\"",
}

// checkUnquoted compares Unquoted with json.Unmarshal into a string for any
// valid JSON string s.
func checkUnquoted(t *testing.T, s []byte) {
	var want string
	if json.Unmarshal(s, &want) != nil || len(bytes.TrimSpace(s)) != len(s) {
		return // not one JSON string
	}
	got := Unquoted(s)
	if string(got) != want {
		t.Fatalf("Unquoted(%q) = %q, json.Unmarshal: %q", s, got, want)
	}
	if !utf8.Valid(got) {
		t.Fatalf("Unquoted(%q) = %q: not UTF-8", s, got)
	}
}

func TestUnquoted(t *testing.T) {
	for _, s := range unquoteSeeds {
		checkUnquoted(t, []byte(s))
	}
}

// FuzzUnquoted compares Unquoted with encoding/json's decoding of strings.
func FuzzUnquoted(f *testing.F) {
	for _, s := range unquoteSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkUnquoted)
}

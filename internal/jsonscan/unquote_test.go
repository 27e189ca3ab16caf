package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

var unquoteSeeds = []string{
	`""`, `"abc"`, `"a\"b\\c\/d"`, `"\b\f\n\r\t"`, `"\u00e9\u00E9é"`, `"\ud83d\ude00"`, `"\ud800"`,
	`"\ud800x"`, `"\ud800\u0041"`, `"\udc00\ud800"`, `"\ud800\ud800\udc00"`, "\"\xff\xfe\"", "\"a\xe2\x80\"",
	"\"\xed\xa0\x80\"", `"\u2028 \u2029"`, "\"\u2028\"", `"\u0000"`, "\"caf\xc3\xa9\"",
	// Not strings, for Scanner.Str.
	`"\x"`, `"\u12"`, `"\u12g4"`, "\"a\\n\x01\"", `"abc`, `"a\`, `"a\"`, `"ab"x`,
	// Invalid UTF-8 next to escapes.
	"\"\xc3\\n\"", "\"\\n\xc3\xa9\xff\"",
}

// checkUnquoted compares Unquoted and Scanner.Str with json.Unmarshal into
// a string for any valid JSON string s, and checks that Scanner.Str reads
// no string where encoding/json finds none.
func checkUnquoted(t *testing.T, s []byte) {
	var want string
	if json.Unmarshal(s, &want) != nil || len(bytes.TrimSpace(s)) != len(s) {
		// Not one JSON string: Scanner.Str must not read one either.
		if len(s) > 0 && s[0] == '"' && !json.Valid(s) {
			sc := Scanner{Data: s}
			if str, err := sc.Str(); err == nil && sc.Pos == len(s) {
				t.Fatalf("Scanner.Str(%q) = %q, a string; json.Valid: false", s, str)
			}
		}
		return
	}
	got := Unquoted(s)
	if string(got) != want {
		t.Fatalf("Unquoted(%q) = %q, json.Unmarshal: %q", s, got, want)
	}
	if !utf8.Valid(got) {
		t.Fatalf("Unquoted(%q) = %q: not UTF-8", s, got)
	}
	// Scanner.Str decodes the same way, except that it rejects invalid
	// UTF-8 where Unquoted replaces it.
	sc := Scanner{Data: s}
	str, err := sc.Str()
	switch {
	case !utf8.Valid(s):
		if !errors.Is(err, ErrSyntax) {
			t.Fatalf("Scanner.Str(%q) = %q, %v; want an error for invalid UTF-8", s, str, err)
		}
	case err != nil || string(str) != want || sc.Pos != len(s):
		t.Fatalf("Scanner.Str(%q) = %q, %v, at %d; json.Unmarshal: %q", s, str, err, sc.Pos, want)
	}
}

func TestUnquoted(t *testing.T) {
	for _, s := range unquoteSeeds {
		checkUnquoted(t, []byte(s))
	}
}

// FuzzUnquoted compares Unquoted and Scanner.Str with encoding/json's
// decoding of strings.
func FuzzUnquoted(f *testing.F) {
	for _, s := range unquoteSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkUnquoted)
}

package ocsf

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkAppendString compares appendString with encoding/json's encoding of
// the string (SetEscapeHTML(false)) for s made valid UTF-8.
func checkAppendString(t *testing.T, s string) {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	if got := appendString([]byte("x"), s); string(got) != "x"+strings.TrimSuffix(want.String(), "\n") {
		t.Fatalf("appendString(%q) = %s, encoding/json: %s", s, got[1:], want.String())
	}
}

var appendStringSeeds = []string{
	"", "plain ASCII, long enough to span words", `"quoted" and \back\slashed`, "\x00\x01\b\t\n\v\f\r\x1f\x7f",
	"<&> are not escaped", "caf\u00e9 \U0001F600", "\u2028\u2029 and \u2027\u202a", "\xe2\x80", "ab\xe2", "12345678\u2028",
	strings.Repeat("a", 17) + "\"" + strings.Repeat("é", 9) + "\n",
}

func TestAppendString(t *testing.T) {
	for _, s := range appendStringSeeds {
		checkAppendString(t, s)
	}
	for c := range 256 { // every byte at every position of a word
		for pos := range 9 {
			checkAppendString(t, strings.Repeat("a", pos)+string(rune(c))+strings.Repeat("b", 8-pos))
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range appendStringSeeds {
		f.Add(s)
	}
	f.Fuzz(checkAppendString)
}

package jsonscan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// checkAppendString compares AppendString with encoding/json's encoding of
// the same string (SetEscapeHTML(false)), invalid UTF-8 included.
func checkAppendString(t *testing.T, s string) {
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	if got := AppendString([]byte("x"), []byte(s)); string(got) != "x"+strings.TrimSuffix(want.String(), "\n") {
		t.Fatalf("AppendString(%q) = %s, encoding/json: %s", s, got[1:], want.String())
	}
}

var appendStringSeeds = []string{
	"", "plain ASCII, long enough to span words", `"quoted" and \back\slashed`, "\x00\x01\b\t\n\v\f\r\x1f\x7f",
	"<&> are not escaped", "caf\u00e9 \U0001F600", "\u2028\u2029 and \u2027\u202a", "\xe2\x80", "ab\xe2", "12345678\u2028",
	strings.Repeat("a", 17) + "\"" + strings.Repeat("é", 9) + "\n", "bad \xff\xfe utf-8 after eight", "12345678\xc3",
}

func TestAppendString(t *testing.T) {
	for _, s := range appendStringSeeds {
		checkAppendString(t, s)
	}
	for c := range 256 { // every byte, and every rune up to U+00FF, at every position of a word
		for pos := range 9 {
			checkAppendString(t, strings.Repeat("a", pos)+string([]byte{byte(c)})+strings.Repeat("b", 8-pos))
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

func BenchmarkAppendString(b *testing.B) {
	s := []byte(strings.Repeat(`arn:aws:iam::123456789012:role/Admin "x" é `, 20))
	b.SetBytes(int64(len(s)))
	var dst []byte
	for b.Loop() {
		dst = AppendString(dst[:0], s)
	}
}

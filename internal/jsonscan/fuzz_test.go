package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

var seeds = []string{
	`{}`, `[]`, `{"a":1}`, ` {"a" : [1, 2.5e-3, -0, "x\u00e9\n", true, false, null]} `, `"s"`, `0`, `-1.5E+10`,
	`{"a":{"b":[{},[]]}}`, `[1,]`, `{"a":}`, `{"a" 1}`, `{,}`, `01`, `1.`, `.5`, `1e`, `-`, `"\x"`, `"\u12"`,
	"\"a\x01\"", "\"\xff\"", `tru`, `nul`, `[1] [2]`, `{"a":1}}`, `[`, `{"a"`, `"unterminated`, ``, `  `,
	`[[]]`, `{"a":[1,{"b":null}]}`, "[1\n,\n2]", `{"a":1,}`, `["a" "b"]`, `1 2`, `{"a":1 "b":2}`,
	`{"a":1,"a":2,"b\u0041":"\ud800"}`, `-0`, `1e+`, `1E-7`, `"\u00g9"`, "\"\t\"", `[,]`, `[1 2]`, `{1:2}`, `null `,
	` [ ] `, `[1]x`, `{}{}`, `[1.5e3,-0,true,false]`, ` "x" `, "{\"k\xff\":1}", `{"a":{"b":1}} x`,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
}

// depth is the nesting depth of the valid JSON value v.
func depth(v []byte) (deepest int) {
	d, inStr := 0, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			d++
			deepest = max(deepest, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return deepest
}

// check compares every operation of the package on b with encoding/json.
func check(t *testing.T, b []byte) {
	got, want := Valid(b, DefaultMaxDepth), json.Valid(b)
	if got != want {
		t.Fatalf("Valid(%q) = %v, json.Valid = %v", b, got, want)
	}
	// The incremental parser agrees with the one-shot one for every
	// prefix: ErrMore until the value is complete, then the same end
	// (prefixes of the first 4 KiB: the deep seeds would take long).
	p := Parser{B: b, EOF: true}
	start := p.SkipSpace(0)
	end, err := p.Value(start)
	for n := start; n < min(len(b), 4096); n++ {
		q := Parser{B: b[:n]}
		e, qerr := q.Value(start)
		if qerr == ErrMore {
			continue
		}
		var se, qse *SyntaxError
		switch {
		case err == nil && qerr == nil && e == end:
		case errors.As(err, &se) && errors.As(qerr, &qse) && *se == *qse:
		default:
			t.Fatalf("prefix %d of %q: end %d, %v; whole input: end %d, %v", n, b, e, qerr, end, err)
		}
		break
	}
	// The Scanner accepts exactly the valid JSON whose strings are UTF-8,
	// and compacts it as json.Compact does.
	var sc Scanner
	sc.Reset(b)
	compact, serr := sc.Compact(nil)
	if serr == nil {
		serr = sc.End()
	}
	if (serr == nil) != (want && utf8.Valid(b)) {
		t.Fatalf("Scanner on %q: %v; json.Valid %v", b, serr, want)
	}
	if serr != nil && !errors.Is(serr, ErrSyntax) {
		t.Fatalf("Scanner on %q: %v does not wrap ErrSyntax", b, serr)
	}
	mErr := Members(b, DefaultMaxDepth, func(key, value []byte) {})
	if !want {
		var se *SyntaxError
		if !errors.As(mErr, &se) || se.Offset < 0 || se.Offset > len(b) {
			t.Fatalf("Members(%q) = %v, want a syntax error with an offset", b, mErr)
		}
		return
	}
	var std bytes.Buffer
	if err := json.Compact(&std, b); err != nil {
		t.Fatal(err)
	}
	if c := Compact(nil, bytes.TrimSpace(b)); !bytes.Equal(c, std.Bytes()) {
		t.Fatalf("Compact(%q) = %q, json.Compact = %q", b, c, std.Bytes())
	}
	if serr == nil && !bytes.Equal(compact, std.Bytes()) {
		t.Fatalf("Scanner.Compact(%q) = %q, json.Compact = %q", b, compact, std.Bytes())
	}
	if c := AppendValue(nil, b, DefaultMaxDepth); !bytes.Equal(c, std.Bytes()) {
		t.Fatalf("AppendValue(%q) = %q, json.Compact = %q", b, c, std.Bytes())
	}
	// The depth limit: exactly the value's depth passes, one less fails.
	if d := depth(b); d > 1 { // 0 means DefaultMaxDepth
		if !Valid(b, d) || Valid(b, d-1) {
			t.Fatalf("Valid(%q) with limits %d and %d: want true, false", b, d, d-1)
		}
	}
	// Member iteration agrees with json.Unmarshal into a map (the last
	// duplicate wins in both).
	var m map[string]json.RawMessage
	uerr := json.Unmarshal(b, &m)
	got2 := map[string]json.RawMessage{}
	isObj := true
	mErr = Members(b, DefaultMaxDepth, func(key, value []byte) {
		var k string
		if err := json.Unmarshal(key, &k); err != nil {
			t.Fatalf("key %q: %v", key, err)
		}
		if !KeyIs(key, k) {
			t.Fatalf("KeyIs(%q, %q) = false", key, k)
		}
		got2[k] = append(json.RawMessage(nil), value...)
	})
	if mErr == ErrNotObject {
		isObj = false
	} else if mErr != nil {
		t.Fatalf("Members(%q): %v", b, mErr)
	}
	if isObj != (uerr == nil && m != nil) {
		t.Fatalf("Members(%q) object = %v, json.Unmarshal into a map: %v", b, isObj, uerr)
	}
	if isObj {
		for k, v := range m {
			var a, b2 any
			json.Unmarshal(v, &a)
			json.Unmarshal(got2[k], &b2)
			if !reflect.DeepEqual(a, b2) {
				t.Fatalf("member %q: %s, json.Unmarshal: %s", k, got2[k], v)
			}
		}
		if len(m) != len(got2) {
			t.Fatalf("%d members, json.Unmarshal: %d", len(got2), len(m))
		}
	}
}

func TestSeeds(t *testing.T) {
	for _, s := range seeds {
		t.Run(fmt.Sprintf("%.20q", s), func(t *testing.T) { check(t, []byte(s)) })
	}
}

// FuzzJSON compares the package with encoding/json: Valid with json.Valid,
// Compact, AppendValue and Scanner.Compact with json.Compact, Members with json.Unmarshal
// into a map, the incremental Parser with the one-shot parse, and the
// depth limit with the value's depth.
func FuzzJSON(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(check)
}

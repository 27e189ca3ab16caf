package partition

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// safeKey is a second, independent statement of the key rules.
func safeKey(k string) bool {
	if k == "" || len(k) > MaxKeyLen || k[0] == '/' || !utf8.ValidString(k) {
		return false
	}
	if strings.IndexFunc(k, unicode.IsControl) >= 0 {
		return false
	}
	segs := strings.Split(k, "/")
	if segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1]
	}
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return false
		}
	}
	return true
}

func FuzzValidateKey(f *testing.F) {
	for _, s := range []string{"a/b/", "a//b", "/a", "a/../b", "a\x00", "\xff", "région=x/", strings.Repeat("a/", 600)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		err := ValidateKey(key)
		if (err == nil) != safeKey(key) {
			t.Fatalf("ValidateKey(%q) = %v, reference says safe=%v", key, err, safeKey(key))
		}
		if err != nil && !errors.Is(err, ErrInvalidKey) {
			t.Fatalf("error %v does not wrap ErrInvalidKey", err)
		}
		segErr := ValidateSegment("f", key)
		if segErr == nil && (strings.Contains(key, "/") || !safeKey(key)) {
			t.Fatalf("ValidateSegment accepted %q", key)
		}
	})
}

func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		ConnectorLayout, VendorLayout, "{a}/{date:2006-01-02}/", "{+a}/{b}", "x={yyyy}{MM}/{HH}",
		"{", "}", "{date:}", "{+}", "a/{b}/../", "{yyyy_MM.dd}",
		"{+prefix}/{a}/{b}/{c}/{stream}/", "Acme/{event_type}/{YYYY-MM-DD}/{account}/", "{a}{b}/{+c}",
	} {
		f.Add(s, "v1", "v2/x", int64(1764561600))
	}
	f.Fuzz(func(t *testing.T, tmpl, v1, v2 string, unix int64) {
		tp, err := Compile(tmpl)
		if err != nil {
			if !errors.Is(err, ErrInvalidTemplate) {
				t.Fatalf("Compile(%q) error %v does not wrap ErrInvalidTemplate", tmpl, err)
			}
			return
		}
		// A compiled template round-trips through String.
		again, err := Compile(tp.String())
		if err != nil || again.String() != tp.String() {
			t.Fatalf("String %q of %q does not recompile: %v", tp.String(), tmpl, err)
		}
		fields := map[string]string{}
		for i, name := range tp.Fields() {
			if i%2 == 0 {
				fields[name] = v1
			} else {
				fields[name] = v2
			}
		}
		at := time.Unix(unix%(1<<40), 0)
		key, err := tp.Execute(fields, at)
		if err != nil {
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("Execute error %v does not wrap ErrInvalidKey", err)
			}
			return
		}
		if !safeKey(key) {
			t.Fatalf("Execute(%q) produced unsafe key %q", tmpl, key)
		}
		// Binding the same fields first gives the same key.
		bound, err := tp.Bind(fields)
		if err != nil {
			t.Fatalf("Bind failed where Execute succeeded: %v", err)
		}
		key2, err := bound.Execute(nil, at)
		if err != nil || key2 != key {
			t.Fatalf("bound Execute = %q, %v; want %q", key2, err, key)
		}
		// Binding some fields once and filling the rest per call (as a sink
		// does with fields taken from each record) gives the same key, and
		// the partly bound template still needs exactly the rest.
		fixed, perRecord := map[string]string{}, map[string]string{}
		for i, name := range tp.Fields() {
			if i%2 == 0 {
				fixed[name] = fields[name]
			} else {
				perRecord[name] = fields[name]
			}
		}
		partly, err := tp.Bind(fixed)
		if err != nil {
			t.Fatalf("Bind of a subset failed where Execute succeeded: %v", err)
		}
		var rest []string
		for _, name := range tp.Fields() {
			if _, ok := perRecord[name]; ok {
				rest = append(rest, name)
			}
		}
		if got := partly.Fields(); strings.Join(got, ",") != strings.Join(rest, ",") {
			t.Fatalf("partly bound template needs %q, want %q", got, rest)
		}
		key3, err := partly.Execute(perRecord, at)
		if err != nil || key3 != key {
			t.Fatalf("partly bound Execute = %q, %v; want %q", key3, err, key)
		}
		// A field missing at Execute time is an error naming it, never
		// another key.
		for _, name := range partly.Fields() {
			less := maps.Clone(perRecord)
			delete(less, name)
			if _, err := partly.Execute(less, at); err == nil && !strings.Contains(partly.String(), "{+"+name+"}") {
				t.Fatalf("Execute without field %s succeeded", name)
			} else if err != nil && !strings.Contains(err.Error(), name) {
				t.Fatalf("Execute without field %s: error %q does not name it", name, err)
			}
		}
	})
}

// FuzzParseSecurityLake checks the parser round trip: whatever parses
// formats back to a partition that parses to the same values and is a safe
// key prefix.
func FuzzParseSecurityLake(f *testing.F) {
	f.Add("region=us-east-1/accountId=111122223333/eventDay=20251201/")
	f.Add("region=eu-west-1/accountId=external_x/eventDay=20240229")
	f.Add("region=../accountId=1/eventDay=x/")
	f.Fuzz(func(t *testing.T, p string) {
		pp, err := ParseSecurityLake(p)
		if err != nil {
			var ke *KeyError
			if !errors.As(err, &ke) {
				t.Fatalf("ParseSecurityLake(%q): %v is not a *KeyError", p, err)
			}
			return
		}
		again, err := ParseSecurityLake(pp.String())
		if err != nil || again != pp {
			t.Fatalf("round trip of %q: %v %v", p, again, err)
		}
		if err := ValidateKey(pp.String()); err != nil {
			t.Fatalf("%q: %v", pp.String(), err)
		}
	})
}

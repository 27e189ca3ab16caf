package partition

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var at = time.Date(2026, 3, 7, 4, 5, 9, 0, time.FixedZone("CET", 3600)) // 03:05:09 UTC

func TestTemplateExecute(t *testing.T) {
	fields := map[string]string{"a": "x", "b": "y.z", "p": "one/two", "empty": ""}
	tests := []struct {
		tmpl string
		want string
	}{
		{"{a}/{b}/", "x/y.z/"},
		{"lit/{a}-{b}.log", "lit/x-y.z.log"},
		{"{date:2006-01-02}/{a}/", "2026-03-07/x/"},
		{"{date:2006/01/02/15}/", "2026/03/07/03/"},
		{"{yyyy}/{MM}/{dd}/{HH}/{mm}/{ss}/", "2026/03/07/03/05/09/"},
		{"{YYYY-MM-DD}/", "2026-03-07/"},
		{"{yyyyMMdd}/", "20260307/"},
		{"{yyyy_MM.dd}/", "2026_03.07/"},
		{"year={yyyy}/month={MM}/day={dd}/", "year=2026/month=03/day=07/"},
		{"{+p}/{a}/", "one/two/x/"},
		{"{+empty}/{a}/", "x/"},
		{"{+missing}/{a}/", "x/"},
		{"root/{+empty}/{a}", "root/x"},
		{"root/{+p}/{a}", "root/one/two/x"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			tp, err := Compile(tt.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tp.Execute(fields, at)
			if err != nil || got != tt.want {
				t.Fatalf("Execute = %q, %v; want %q", got, err, tt.want)
			}
			if tp.String() != strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(tt.tmpl, "YYYY", "yyyy"), "-DD", "-dd"), "yyyyMMdd", "yyyyMMdd") {
				t.Errorf("String() = %q, want %q", tp.String(), tt.tmpl)
			}
		})
	}
}

func TestTemplateExecuteErrors(t *testing.T) {
	tests := []struct {
		tmpl   string
		fields map[string]string
		field  string
	}{
		{"{a}/", map[string]string{}, "a"},
		{"{a}/", map[string]string{"a": ""}, "a"},
		{"{a}/", map[string]string{"a": ".."}, "a"},
		{"{a}/", map[string]string{"a": "x/y"}, "a"},
		{"{a}/", map[string]string{"a": "x\ny"}, "a"},
		{"{+p}/x", map[string]string{"p": "/abs"}, "p"},
		{"{+p}/x", map[string]string{"p": "a//b"}, "p"},
		{"{+p}/x", map[string]string{"p": "a/../b"}, "p"},
		{"{a}{b}/", map[string]string{"a": strings.Repeat("x", 600), "b": strings.Repeat("y", 600)}, "key"},
		{"{a}{b}/", map[string]string{"a": ".", "b": "."}, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl+"_"+tt.field, func(t *testing.T) {
			tp, err := Compile(tt.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tp.Execute(tt.fields, at)
			var ke *KeyError
			if !errors.As(err, &ke) || ke.Field != tt.field || !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("Execute error = %v, want a KeyError for %q", err, tt.field)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tmpl := range []string{
		"", "{", "}", "a{b", "a}b", "{}", "{a{b}}", "{1a}/", "{a-b}", "{+}", "{+a b}",
		"{date:}", "{date:nothing}", "/{a}", "{a}//{b}", "./{a}", "{a}/../", "a\x01{b}",
		"{a}/\xff", strings.Repeat("a", MaxKeyLen+1),
	} {
		t.Run(tmpl, func(t *testing.T) {
			tp, err := Compile(tmpl)
			var te *TemplateError
			if !errors.As(err, &te) || !errors.Is(err, ErrInvalidTemplate) {
				t.Fatalf("Compile(%q) = %v, %v; want a TemplateError", tmpl, tp, err)
			}
		})
	}
}

func TestTemplateBind(t *testing.T) {
	tp, err := Compile(ConnectorLayout)
	if err != nil {
		t.Fatal(err)
	}
	bound, err := tp.Bind(map[string]string{"prefix": "", "connector_type": "s3", "connector_id": "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := bound.Fields(), []string{"flow_run_id", "stream_name"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Fields = %v, want %v", got, want)
	}
	if bound.String() != "s3/c1/{flow_run_id}/{stream_name}/" {
		t.Fatalf("String = %q", bound.String())
	}
	got, err := bound.Execute(map[string]string{"flow_run_id": "r", "stream_name": "s"}, at)
	if err != nil || got != "s3/c1/r/s/" {
		t.Fatalf("Execute = %q, %v", got, err)
	}
	if _, err := tp.Bind(map[string]string{"nope": "x"}); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("Bind with unknown field: %v", err)
	}
	if _, err := tp.Bind(map[string]string{"connector_id": ".."}); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("Bind with bad value: %v", err)
	}
	if tp.UsesTime() || !VendorTemplate().UsesTime() {
		t.Fatal("UsesTime wrong")
	}
}

func TestLayouts(t *testing.T) {
	got, err := Connector("exports/prod", "s3", "conn-1", "run-42", "users")
	if err != nil || got != "exports/prod/s3/conn-1/run-42/users/" {
		t.Fatalf("Connector = %q, %v", got, err)
	}
	got, err = Connector("", "s3", "conn-1", "run-42", "users")
	if err != nil || got != "s3/conn-1/run-42/users/" {
		t.Fatalf("Connector without prefix = %q, %v", got, err)
	}
	if _, err := Connector("p", "s3", "", "r", "s"); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("Connector with empty id: %v", err)
	}
	got, err = Vendor("Acme", "findings", "123456789012", at)
	if err != nil || got != "Acme/findings/2026-03-07/123456789012/" {
		t.Fatalf("Vendor = %q, %v", got, err)
	}
	h, err := Hive("tenant", "source")
	if err != nil {
		t.Fatal(err)
	}
	got, err = h.Execute(map[string]string{"tenant": "t1", "source": "okta"}, at)
	if err != nil || got != "tenant=t1/source=okta/" {
		t.Fatalf("Hive = %q, %v", got, err)
	}
	for _, bad := range [][]string{nil, {"a=b"}, {""}, {"a/b"}} {
		if _, err := Hive(bad...); !errors.Is(err, ErrInvalidTemplate) {
			t.Fatalf("Hive(%q) = %v", bad, err)
		}
	}
}

func TestTrimPrefix(t *testing.T) {
	for in, want := range map[string]string{
		"/connector-syncs/": "connector-syncs",
		"connector-syncs":   "connector-syncs",
		"//a/b//":           "a/b",
		"/":                 "",
		"":                  "",
		"/a//b/":            "a//b", // left for validation to reject
	} {
		if got := TrimPrefix(in); got != want {
			t.Errorf("TrimPrefix(%q) = %q, want %q", in, got, want)
		}
	}
	if _, err := Connector(TrimPrefix("/a//b/"), "t", "i", "r", "s"); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("an empty segment inside a trimmed prefix: %v", err)
	}
}

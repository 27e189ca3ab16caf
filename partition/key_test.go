package partition

import (
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestValidateKey(t *testing.T) {
	tests := []struct {
		key    string
		ok     bool
		reason string
	}{
		{"a", true, ""},
		{"a/b/c.json.gz", true, ""},
		{"a/b/", true, ""},
		{"region=us-east-1/accountId=123456789012/eventDay=20261201/", true, ""},
		{"ünïcode/ok", true, ""},
		{"a.b/..c/d..", true, ""},
		{"", false, "empty"},
		{"/a", false, `starts with "/"`},
		{"a//b", false, "empty segment"},
		{"a/b//", false, "empty segment"},
		{"a/./b", false, `segment is "." or ".."`},
		{"a/..", false, `segment is "." or ".."`},
		{"../a", false, `segment is "." or ".."`},
		{".", false, `segment is "." or ".."`},
		{"a\nb", false, "control character"},
		{"a\x00b", false, "control character"},
		{"a\x7fb", false, "control character"},
		{"a\u0085b", false, "control character"},
		{"a\xffb", false, "invalid UTF-8"},
		{strings.Repeat("a", MaxKeyLen), true, ""},
		{strings.Repeat("a", MaxKeyLen+1), false, "longer than 1024"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			err := ValidateKey(tt.key)
			if tt.ok {
				if err != nil {
					t.Fatalf("ValidateKey(%q) = %v, want nil", tt.key, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("ValidateKey(%q) = %v, want ErrInvalidKey", tt.key, err)
			}
			var ke *KeyError
			if !errors.As(err, &ke) || !strings.Contains(ke.Reason, tt.reason) {
				t.Fatalf("ValidateKey(%q) = %v, want reason containing %q", tt.key, err, tt.reason)
			}
		})
	}
}

func TestValidateSegment(t *testing.T) {
	tests := []struct {
		value string
		ok    bool
	}{
		{"x", true}, {"a.b", true}, {"a=b", true},
		{"", false}, {".", false}, {"..", false}, {"a/b", false}, {"a\tb", false},
		{strings.Repeat("x", MaxKeyLen+1), false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			err := ValidateSegment("account", tt.value)
			if (err == nil) != tt.ok {
				t.Fatalf("ValidateSegment(%q) = %v, want ok=%v", tt.value, err, tt.ok)
			}
			var ke *KeyError
			if err != nil && (!errors.As(err, &ke) || ke.Field != "account") {
				t.Fatalf("error %v does not name field account", err)
			}
		})
	}
}

func TestKeyErrorTruncatesValue(t *testing.T) {
	err := ValidateSegment("f", strings.Repeat("v", 2000))
	if len(err.Error()) > 200 {
		t.Fatalf("error message is %d bytes long", len(err.Error()))
	}
}

func TestSecurityLake(t *testing.T) {
	at := time.Date(2026, 4, 28, 23, 30, 0, 0, time.FixedZone("x", -3*3600)) // 2026-04-29 02:30 UTC
	tests := []struct {
		region, account string
		want            string
		field           string
	}{
		{"us-west-2", "123456789012", "region=us-west-2/accountId=123456789012/eventDay=20260429/", ""},
		{"us-gov-west-1", "external", "region=us-gov-west-1/accountId=external/eventDay=20260429/", ""},
		{"eusc-de-east-1", "external_okta-01", "region=eusc-de-east-1/accountId=external_okta-01/eventDay=20260429/", ""},
		{"ap-southeast-2", "external_A_b", "region=ap-southeast-2/accountId=external_A_b/eventDay=20260429/", ""},
		{"US-EAST-1", "123456789012", "", "region"},
		{"us-east", "123456789012", "", "region"},
		{"useast1", "123456789012", "", "region"},
		{"us-east-1/x", "123456789012", "", "region"},
		{"", "123456789012", "", "region"},
		{"us-east-1", "12345678901", "", "accountId"},
		{"us-east-1", "1234567890123", "", "accountId"},
		{"us-east-1", "external_", "", "accountId"},
		{"us-east-1", "external_a/b", "", "accountId"},
		{"us-east-1", "External", "", "accountId"},
		{"us-east-1", "", "", "accountId"},
	}
	for _, tt := range tests {
		t.Run(tt.region+"_"+tt.account, func(t *testing.T) {
			got, err := SecurityLake(tt.region, tt.account, at)
			if tt.field == "" {
				if err != nil || got != tt.want {
					t.Fatalf("got %q, %v; want %q", got, err, tt.want)
				}
				if err := ValidateKey(got); err != nil {
					t.Fatal(err)
				}
				return
			}
			var ke *KeyError
			if !errors.As(err, &ke) || ke.Field != tt.field {
				t.Fatalf("got %q, %v; want an error for field %s", got, err, tt.field)
			}
		})
	}
}

func TestObjectName(t *testing.T) {
	const n = 2000
	names := make([]string, n*4)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				names[w*n+i] = ObjectName(".json.gz")
			}
		}()
	}
	wg.Wait()
	seen := make(map[string]bool, len(names))
	for _, name := range names {
		if seen[name] {
			t.Fatalf("duplicate name %q", name)
		}
		seen[name] = true
		if !strings.HasSuffix(name, ".json.gz") {
			t.Fatalf("name %q lacks the extension", name)
		}
		if err := ValidateSegment("name", name); err != nil {
			t.Fatal(err)
		}
	}
	// Names made one after another sort in creation order.
	var seq []string
	for range 50 {
		seq = append(seq, ObjectName(".parquet"))
		time.Sleep(time.Millisecond)
	}
	if !sort.StringsAreSorted(seq) {
		t.Fatalf("names not time-ordered: %v", seq)
	}
	before := time.Now().UTC().Truncate(time.Second)
	name := ObjectName("")
	ts, err := time.Parse("20060102T150405Z", name[:len("20060102T150405Z")])
	if err != nil || ts.Before(before) || ts.After(time.Now().Add(time.Second)) {
		t.Fatalf("name %q does not start with the current UTC time: %v", name, err)
	}
}

func TestParseSecurityLake(t *testing.T) {
	day := time.Date(2025, 12, 1, 23, 59, 0, 0, time.UTC)
	p, err := SecurityLake("us-east-1", "111122223333", day)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSecurityLake(p)
	if err != nil || got != (SecurityLakePartition{Region: "us-east-1", AccountID: "111122223333", EventDay: "20251201"}) || got.String() != p {
		t.Fatalf("ParseSecurityLake(%q) = %+v, %v", p, got, err)
	}
	for _, tt := range []struct{ in, field string }{
		{"region=us-east-1/accountId=111122223333", "partition"},
		{"region=us-east-1/account=111122223333/eventDay=20251201/", "partition"},
		{"region=../accountId=111122223333/eventDay=20251201/", "region"},
		{"region=us-east-1/accountId=12/eventDay=20251201/", "accountId"},
		{"region=us-east-1/accountId=111122223333/eventDay=20251301/", "eventDay"},
		{"region=us-east-1/accountId=111122223333/eventDay=2025121/", "eventDay"},
	} {
		_, err := ParseSecurityLake(tt.in)
		var ke *KeyError
		if !errors.As(err, &ke) || ke.Field != tt.field {
			t.Errorf("ParseSecurityLake(%q) = %v, want a *KeyError for %s", tt.in, err, tt.field)
		}
	}
}

func TestHide(t *testing.T) {
	err := ValidateRegion("secret-region-value")
	h := Hide(err)
	if !errors.Is(h, ErrInvalidKey) || strings.Contains(h.Error(), "secret") || !strings.Contains(h.Error(), "region (19 bytes, not shown)") {
		t.Fatalf("Hide: %v", h)
	}
	if !strings.Contains(err.Error(), "secret-region-value") {
		t.Fatalf("the original error changed: %v", err)
	}
	other := errors.New("x")
	if Hide(other) != other || Hide(nil) != nil {
		t.Fatal("Hide changed an error that is no *KeyError")
	}
}

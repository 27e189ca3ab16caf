package securitylake

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/partition"
)

func fuzzSeeds(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 5))
	for i := range 4 {
		f.Add(genEvent(rng, i, i%2 == 0))
	}
	for _, s := range []string{
		`{}`, `[]`, `null`, `{"time":1,"time":2}`, `{"unmapped":{"a":1},"zz":[1,{"b":"\u00e9\ud83d\ude00"}]}`,
		`{"resources":[{"uid":"a","x":1},null,{}]}`, `{"actor":{"user":{"name":"\ud800"}}}`, `{"time":1e3,"risk_score":-0.5E-3}`,
		`{"time_dt":"2025-12-01T00:00:00.123456789+05:30"}`, `{"class_uid":6003,"time":1,"cloud":{"region":"us-east-1","account":{"uid":"111122223333"}}}`,
		"{\"message\":\"\xff\"}", `{"a":"\"}"}`, `{"api":{"request":{"data":[1,2,"x"]}}}`,
	} {
		f.Add([]byte(s))
	}
}

// FuzzConvert checks the converter against encoding/json: it never panics,
// accepts only valid JSON objects, keeps builders consistent, and writes
// valid JSON into unmapped.
func FuzzConvert(f *testing.F) {
	fuzzSeeds(f)
	schema := testSchema()
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := newConverter(schema)
		if err != nil {
			t.Fatal(err)
		}
		defer c.release()
		good := []byte(`{"time":5}`)
		rec, bad := c.convert([][]byte{good, data, good})
		if rec == nil {
			t.Fatal("the good rows must convert")
		}
		defer rec.Release()
		checkConsistent(t, rec)
		var obj map[string]json.RawMessage
		if len(bad) == 0 {
			if rec.NumRows() != 3 {
				t.Fatalf("%d rows", rec.NumRows())
			}
			if err := json.Unmarshal(data, &obj); err != nil {
				t.Fatalf("converter accepted what encoding/json rejects (%v): %q", err, data)
			}
			u := col(t, rec, "unmapped").(*array.String)
			if u.IsValid(1) && strings.HasPrefix(u.Value(1), "{") && !json.Valid([]byte(u.Value(1))) {
				t.Fatalf("unmapped is not valid JSON: %q", u.Value(1))
			}
			return
		}
		if rec.NumRows() != 2 || len(bad) != 1 || bad[0].i != 1 {
			t.Fatalf("want only row 1 rejected: %d rows, %v", rec.NumRows(), bad)
		}
	})
}

// FuzzPartition checks that Partition never panics and that every
// partition it returns is a valid Security Lake partition.
func FuzzPartition(f *testing.F) {
	fuzzSeeds(f)
	s, err := New(&discardStore{}, "s3://discard/ext/f/", 6003, func(o *Options) { o.Schema = testSchema() })
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := s.Partition(lakerelay.Record{Data: data})
		if err != nil {
			return
		}
		if _, err := partition.ParseSecurityLake(p); err != nil {
			t.Fatalf("Partition returned %q: %v", p, err)
		}
		if strings.Contains(p, "..") {
			t.Fatalf("unsafe partition %q", p)
		}
	})
}

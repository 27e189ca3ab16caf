package ocsf

import (
	"encoding/json"
	"sort"
	"testing"
)

func benchRecords(b *testing.B) ([][]byte, int64) {
	c := corpus(b)
	names := make([]string, 0, len(c))
	for n := range c {
		names = append(names, n)
	}
	sort.Strings(names)
	var recs [][]byte
	var size int64
	for _, n := range names {
		recs = append(recs, c[n])
		size += int64(len(c[n]))
	}
	return recs, size
}

// BenchmarkMapCloudTrail maps the whole corpus once per iteration.
func BenchmarkMapCloudTrail(b *testing.B) { benchMapper(b, MapCloudTrail) }

// BenchmarkMapCloudTrailReference maps the corpus with the first
// implementation on encoding/json (cloudtrail_ref_test.go): the "before" of
// MapCloudTrail, measured in the same run.
func BenchmarkMapCloudTrailReference(b *testing.B) { benchMapper(b, refMapCloudTrail) }

// BenchmarkAppendCloudTrail maps the corpus into one reused buffer.
func BenchmarkAppendCloudTrail(b *testing.B) {
	var buf []byte
	benchMapper(b, func(r []byte) ([]byte, error) {
		var err error
		buf, err = AppendCloudTrail(buf[:0], r)
		return buf, err
	})
}

func benchMapper(b *testing.B, m func([]byte) ([]byte, error)) {
	recs, size := benchRecords(b)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range recs {
			if _, err := m(r); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkJSONRoundTrip is the primitive: json.Unmarshal into a generic
// value and json.Marshal back, for the same records.
func BenchmarkJSONRoundTrip(b *testing.B) {
	recs, size := benchRecords(b)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range recs {
			var v any
			if err := json.Unmarshal(r, &v); err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkValidate validates the mapped corpus against the built-ins.
func BenchmarkValidate(b *testing.B) {
	recs, _ := benchRecords(b)
	var events [][]byte
	var size int64
	for _, r := range recs {
		out, err := MapCloudTrail(r)
		if err != nil {
			b.Fatal(err)
		}
		events = append(events, out)
		size += int64(len(out))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range events {
			if _, err := Validate(e); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "records/s")
}

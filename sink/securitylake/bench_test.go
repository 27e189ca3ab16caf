package securitylake

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/sink"
)

// discardStore is a narrow fake Store for benchmarks: Put reads the body to
// the end and keeps nothing.
type discardStore struct{ n int64 }

func (d *discardStore) Put(_ context.Context, _ string, body io.Reader, _ sink.PutOptions) error {
	n, err := io.Copy(io.Discard, body)
	d.n += n
	return err
}
func (d *discardStore) Get(context.Context, string) (io.ReadCloser, error) {
	return nil, sink.ErrNotFound
}
func (d *discardStore) List(context.Context, string, func(sink.ObjectInfo) error) error {
	return errors.New("discard store: no list")
}
func (d *discardStore) Delete(context.Context, string) error { return nil }
func (d *discardStore) Location(key string) string           { return "s3://discard/" + key }

// benchData returns one partition's worth of events as records and as
// NDJSON.
func benchData(b *testing.B, n int) ([]lakerelay.Record, []byte, int) {
	rng := rand.New(rand.NewPCG(7, 7))
	var recs []lakerelay.Record
	var nd bytes.Buffer
	for i := 0; len(recs) < n; i++ {
		if i%9 != 0 { // region 0, account 0 only: one partition per day
			continue
		}
		e := genEvent(rng, i, false)
		recs = append(recs, lakerelay.Record{Data: e})
		nd.Write(e)
		nd.WriteByte('\n')
	}
	return recs, nd.Bytes(), nd.Len()
}

const benchRecords = 20000

func BenchmarkOCSFToParquet(b *testing.B) {
	recs, nd, size := benchData(b, benchRecords)
	schema := testSchema()
	s, err := New(&discardStore{}, "s3://discard/ext/bench/", func(o *Options) {
		o.Class, o.Schema = 6003, schema
	})
	if err != nil {
		b.Fatal(err)
	}
	// The benchmark data spans several days; write all of it as one batch
	// of its first record's partition by pinning every record to one day.
	byPart := map[string][]lakerelay.Record{}
	for _, r := range recs {
		p, err := s.Partition(r)
		if err != nil {
			b.Fatal(err)
		}
		byPart[p] = append(byPart[p], r)
	}

	b.Run("lakerelay", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for b.Loop() {
			// Partition is part of the pipeline's cost per record.
			for _, r := range recs {
				if _, err := s.Partition(r); err != nil {
					b.Fatal(err)
				}
			}
			for p, rs := range byPart {
				if err := s.WriteBatch(context.Background(), p, rs); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("arrow-json-reader", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for b.Loop() {
			rd := array.NewJSONReader(bytes.NewReader(nd), schema, array.WithChunk(4096))
			fw, err := pqarrow.NewFileWriter(schema, io.Discard, s.props, s.aprops)
			if err != nil {
				b.Fatal(err)
			}
			for rd.Next() {
				if err := fw.WriteBuffered(rd.RecordBatch()); err != nil {
					b.Fatal(err)
				}
			}
			if rd.Err() != nil {
				b.Fatal(rd.Err())
			}
			rd.Release()
			if err := fw.Close(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("write-only", func(b *testing.B) {
		rd := array.NewJSONReader(bytes.NewReader(nd), schema, array.WithChunk(-1), array.WithAllocator(memory.DefaultAllocator))
		defer rd.Release()
		if !rd.Next() {
			b.Fatal(rd.Err())
		}
		rec := rd.RecordBatch()
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for b.Loop() {
			fw, err := pqarrow.NewFileWriter(schema, io.Discard, s.props, s.aprops)
			if err != nil {
				b.Fatal(err)
			}
			for off := int64(0); off < rec.NumRows(); off += 4096 {
				sl := rec.NewSlice(off, min(off+4096, rec.NumRows()))
				if err := fw.WriteBuffered(sl); err != nil {
					b.Fatal(err)
				}
				sl.Release()
			}
			if err := fw.Close(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
}

package securitylake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/ocsf"
	"github.com/lakerelay/lakerelay/sink"
)

// discardStore is a narrow fake Store for benchmarks: Put reads the body to
// the end and keeps nothing. It is safe for concurrent use.
type discardStore struct{ n atomic.Int64 }

func (d *discardStore) Put(_ context.Context, _ string, body io.Reader, _ sink.PutOptions) error {
	n, err := io.Copy(io.Discard, body)
	d.n.Add(n)
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

// BenchmarkOCSFToParquet measures OCSF JSON → zstd Parquet on the same data
// three ways: this package (Partition + WriteBatch, the whole sink path),
// arrow-go's generic JSON reader feeding the pqarrow writer with the same
// writer properties, and the writer alone on a pre-built record (the
// ceiling). It runs with a small hand-built schema and with the built-in
// OCSF 1.1.0 API Activity schema (431 leaf columns).
func BenchmarkOCSFToParquet(b *testing.B) {
	builtin, err := ocsf.ArrowSchema(6003)
	if err != nil {
		b.Fatal(err)
	}
	for _, sc := range []struct {
		name   string
		schema *arrow.Schema
	}{{"schema=small", testSchema()}, {"schema=ocsf-6003", builtin}} {
		b.Run(sc.name, func(b *testing.B) { benchOCSFToParquet(b, sc.schema) })
	}
}

// partitioned groups recs by their partition in s.
func partitioned(b *testing.B, s *Sink, recs []lakerelay.Record) map[string][]lakerelay.Record {
	byPart := map[string][]lakerelay.Record{}
	for _, r := range recs {
		p, err := s.Partition(r)
		if err != nil {
			b.Fatal(err)
		}
		byPart[p] = append(byPart[p], r)
	}
	return byPart
}

// benchPaths are the three ways of turning the same events into Parquet.
type benchPaths struct {
	size                        int
	records                     int
	lakerelay, generic, ceiling func() error
	release                     func()
}

func newBenchPaths(b *testing.B, schema *arrow.Schema) *benchPaths {
	recs, nd, size := benchData(b, benchRecords)
	s, err := New(&discardStore{}, "s3://discard/ext/bench/", 6003, func(o *Options) {
		o.Schema = schema
	})
	if err != nil {
		b.Fatal(err)
	}
	byPart := partitioned(b, s, recs)
	rd := array.NewJSONReader(bytes.NewReader(nd), schema, array.WithChunk(-1), array.WithAllocator(memory.DefaultAllocator))
	if !rd.Next() {
		b.Fatal(rd.Err())
	}
	prebuilt := rd.RecordBatch()
	return &benchPaths{
		size:    size,
		records: len(recs),
		release: rd.Release,
		// The sink path: Partition per record (the pipeline's cost), then
		// WriteBatch per partition.
		lakerelay: func() error {
			for _, r := range recs {
				if _, err := s.Partition(r); err != nil {
					return err
				}
			}
			for p, rs := range byPart {
				if err := s.WriteBatch(context.Background(), p, rs); err != nil {
					return err
				}
			}
			return nil
		},
		// arrow-go's generic JSON reader into the same Parquet writer.
		generic: func() error {
			rd := array.NewJSONReader(bytes.NewReader(nd), schema, array.WithChunk(4096))
			defer rd.Release()
			fw, err := pqarrow.NewFileWriter(schema, io.Discard, s.props, s.aprops)
			if err != nil {
				return err
			}
			for rd.Next() {
				if err := fw.WriteBuffered(rd.RecordBatch()); err != nil {
					return err
				}
			}
			if rd.Err() != nil {
				return rd.Err()
			}
			return fw.Close()
		},
		// The writer alone on a pre-built record: the ceiling.
		ceiling: func() error {
			fw, err := pqarrow.NewFileWriter(schema, io.Discard, s.props, s.aprops)
			if err != nil {
				return err
			}
			for off := int64(0); off < prebuilt.NumRows(); off += 4096 {
				sl := prebuilt.NewSlice(off, min(off+4096, prebuilt.NumRows()))
				err := fw.WriteBuffered(sl)
				sl.Release()
				if err != nil {
					return err
				}
			}
			return fw.Close()
		},
	}
}

func benchOCSFToParquet(b *testing.B, schema *arrow.Schema) {
	bp := newBenchPaths(b, schema)
	defer bp.release()
	for _, v := range []struct {
		name string
		f    func() error
	}{{"lakerelay", bp.lakerelay}, {"arrow-json-reader", bp.generic}, {"write-only", bp.ceiling}} {
		b.Run(v.name, func(b *testing.B) {
			b.SetBytes(int64(bp.size))
			b.ReportAllocs()
			for b.Loop() {
				if err := v.f(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(bp.records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
	// The three paths one after the other in every iteration, so that the
	// ratios hold on a machine whose load changes during the run.
	b.Run("interleaved", func(b *testing.B) {
		var tl, tg, tc time.Duration
		for b.Loop() {
			for _, v := range []struct {
				f func() error
				t *time.Duration
			}{{bp.lakerelay, &tl}, {bp.generic, &tg}, {bp.ceiling, &tc}} {
				start := time.Now()
				if err := v.f(); err != nil {
					b.Fatal(err)
				}
				*v.t += time.Since(start)
			}
		}
		b.ReportMetric(tg.Seconds()/tl.Seconds(), "x-vs-arrow-json-reader")
		b.ReportMetric(tc.Seconds()/tl.Seconds(), "fraction-of-write-only")
		b.ReportMetric(float64(bp.records)*float64(b.N)/tl.Seconds(), "lakerelay-records/s")
		b.ReportMetric(float64(bp.records)*float64(b.N)/tg.Seconds(), "arrow-records/s")
		b.ReportMetric(float64(bp.records)*float64(b.N)/tc.Seconds(), "write-only-records/s")
		b.ReportMetric(float64(bp.size)*float64(b.N)/tl.Seconds()/1e6, "lakerelay-MB/s")
	})
}

// BenchmarkZstdLevel writes the same events at zstd levels 1 (klauspost's
// SpeedFastest), 3 (SpeedDefault, arrow-go's default) and 7
// (SpeedBetterCompression), reporting the bytes of the objects beside the
// time, for the small schema and the built-in API Activity schema.
func BenchmarkZstdLevel(b *testing.B) {
	builtin, err := ocsf.ArrowSchema(6003)
	if err != nil {
		b.Fatal(err)
	}
	recs, _, size := benchData(b, benchRecords)
	for _, sc := range []struct {
		name   string
		schema *arrow.Schema
	}{{"schema=small", testSchema()}, {"schema=ocsf-6003", builtin}} {
		for _, level := range []int{1, 3, 7} {
			b.Run(fmt.Sprintf("%s/level=%d", sc.name, level), func(b *testing.B) {
				st := &discardStore{}
				s, err := New(st, "s3://discard/ext/bench/", 6003, func(o *Options) {
					o.Schema = sc.schema
					o.CompressionLevel = level
				})
				if err != nil {
					b.Fatal(err)
				}
				byPart := partitioned(b, s, recs)
				b.SetBytes(int64(size))
				b.ResetTimer()
				for range b.N {
					for p, rs := range byPart {
						if err := s.WriteBatch(context.Background(), p, rs); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(st.n.Load())/float64(b.N), "parquet-bytes")
			})
		}
	}
}

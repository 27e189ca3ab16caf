package batch

import (
	"context"
	"fmt"
	"testing"

	"github.com/lakerelay/lakerelay"
)

const benchRecordSize = 1024

func benchRecords(n int) []lakerelay.Record {
	recs := make([]lakerelay.Record, n)
	for i := range recs {
		data := make([]byte, benchRecordSize)
		for j := range data {
			data[j] = byte('a' + (i+j)%26)
		}
		recs[i] = lakerelay.Record{Data: data, Origin: lakerelay.Origin{Key: "bench", Index: int64(i)}}
	}
	return recs
}

func reportRecords(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkAppend is the bare primitive: appending the same 1 KiB records to
// a slice that is reset every DefaultMaxRecords, as a batch is.
func BenchmarkAppend(b *testing.B) {
	recs := benchRecords(1024)
	batch := make([]lakerelay.Record, 0, 256)
	b.SetBytes(benchRecordSize)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		batch = append(batch, recs[i%len(recs)])
		if len(batch) == DefaultMaxRecords {
			clear(batch)
			batch = batch[:0]
		}
	}
	reportRecords(b)
}

// BenchmarkBatcher sends 1 KiB records through a Batcher with the default
// limits into a sink that does nothing, from one goroutine, to 1 or 16
// partitions; and from GOMAXPROCS goroutines (parallel).
func BenchmarkBatcher(b *testing.B) {
	recs := benchRecords(1024)
	noop := lakerelay.SinkFunc(func(context.Context, string, []lakerelay.Record) error { return nil })
	for _, parts := range []int{1, 16} {
		names := make([]string, parts)
		for i := range names {
			names[i] = fmt.Sprintf("p%02d", i)
		}
		b.Run(fmt.Sprintf("partitions=%d", parts), func(b *testing.B) {
			bt, err := New(noop)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.SetBytes(benchRecordSize)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := bt.Add(ctx, names[i%parts], recs[i%len(recs)]); err != nil {
					b.Fatal(err)
				}
			}
			if err := bt.Close(ctx); err != nil {
				b.Fatal(err)
			}
			reportRecords(b)
		})
	}
	b.Run("parallel", func(b *testing.B) {
		bt, err := New(noop)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		b.SetBytes(benchRecordSize)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if err := bt.Add(ctx, "p", recs[i%len(recs)]); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
		if err := bt.Close(ctx); err != nil {
			b.Fatal(err)
		}
		reportRecords(b)
	})
}

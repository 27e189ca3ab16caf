package sink

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/partition"
)

// discardStore is a narrow Store for benchmarks: Put reads the body to the
// end and keeps nothing, so the benchmark measures the sink's own work.
type discardStore struct{}

func (discardStore) Put(_ context.Context, _ string, body io.Reader, _ PutOptions) error {
	_, err := io.Copy(io.Discard, body)
	return err
}
func (discardStore) Get(context.Context, string) (io.ReadCloser, error) { return nil, ErrNotFound }
func (discardStore) List(context.Context, string, func(ObjectInfo) error) error {
	return nil
}
func (discardStore) Delete(context.Context, string) error { return nil }
func (discardStore) Location(key string) string           { return "discard:" + key }

// benchRecords makes n CloudTrail-like JSON records of about 600 bytes with
// varied ids, addresses and times, so they compress like real logs.
func benchRecords(n int) ([]lakerelay.Record, []byte) {
	rng := rand.New(rand.NewPCG(1, 2))
	users := []string{"alice", "bob", "carol", "deploy-bot", "admin"}
	events := []string{"GetObject", "PutObject", "AssumeRole", "ListBuckets", "ConsoleLogin", "DescribeInstances"}
	rs := make([]lakerelay.Record, n)
	var joined []byte
	for i := range rs {
		rs[i].Data = fmt.Appendf(nil, `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA%016X","arn":"arn:aws:iam::123456789012:user/%s","accountId":"123456789012","userName":"%s"},"eventTime":"2026-12-01T%02d:%02d:%02dZ","eventSource":"s3.amazonaws.com","eventName":"%s","awsRegion":"us-east-1","sourceIPAddress":"%d.%d.%d.%d","userAgent":"aws-sdk-go-v2/1.30.0 os/linux lang/go#1.24","requestParameters":{"bucketName":"bucket-%d","key":"logs/%08x.json"},"responseElements":null,"requestID":"%016X","eventID":"%08x-%04x-%04x-%04x-%012x","readOnly":%t,"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"123456789012","time":%d}`,
			rng.Uint64(), users[rng.IntN(len(users))], users[rng.IntN(len(users))], rng.IntN(24), rng.IntN(60), rng.IntN(60),
			events[rng.IntN(len(events))], rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(20), rng.Uint32(),
			rng.Uint64(), rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint64()&0xffffffffffff,
			rng.IntN(2) == 0, 1764547200000+int64(i))
		joined = append(joined, rs[i].Data...)
		joined = append(joined, '\n')
	}
	return rs, joined
}

// BenchmarkJSONL compares the JSONL sink (validation, line encoding,
// compression, streaming into a store) with the bare klauspost compressor
// on the same bytes, in the same run. Throughput is of uncompressed JSONL.
func BenchmarkJSONL(b *testing.B) {
	rs, joined := benchRecords(10_000) // about 6 MB per batch
	ctx := context.Background()
	for _, c := range []Compression{Gzip, Zstd, None} {
		b.Run("sink/"+string(c), func(b *testing.B) {
			s, err := NewJSONL(discardStore{}, func(o *JSONLOptions) { o.Compression = c })
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(joined)))
			b.ReportAllocs()
			for b.Loop() {
				if err := s.WriteBatch(ctx, "", rs); err != nil {
					b.Fatal(err)
				}
			}
		})
		if c == None {
			continue // the sink's none case is the cost of validation and framing alone
		}
		b.Run("bare/"+string(c), func(b *testing.B) {
			var w interface {
				io.WriteCloser
				Reset(io.Writer)
			}
			if c == Gzip {
				w, _ = gzip.NewWriterLevel(io.Discard, gzip.DefaultCompression)
			} else {
				w, _ = zstd.NewWriter(io.Discard, zstd.WithEncoderConcurrency(1))
			}
			b.SetBytes(int64(len(joined)))
			b.ReportAllocs()
			for b.Loop() {
				w.Reset(io.Discard)
				if _, err := w.Write(joined); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkJSONLRatio alternates the sink and the bare compressor on the
// same batch within each iteration, so that load on a shared machine hits
// both alike, and reports sink MB/s, bare MB/s and their ratio.
func BenchmarkJSONLRatio(b *testing.B) {
	rs, joined := benchRecords(10_000)
	ctx := context.Background()
	for _, c := range []Compression{Gzip, Zstd} {
		b.Run(string(c), func(b *testing.B) {
			s, err := NewJSONL(discardStore{}, func(o *JSONLOptions) { o.Compression = c })
			if err != nil {
				b.Fatal(err)
			}
			var w interface {
				io.WriteCloser
				Reset(io.Writer)
			}
			if c == Gzip {
				w, _ = gzip.NewWriterLevel(io.Discard, gzip.DefaultCompression)
			} else {
				w, _ = zstd.NewWriter(io.Discard, zstd.WithEncoderConcurrency(1))
			}
			var sinkTime, bareTime time.Duration
			b.SetBytes(int64(2 * len(joined)))
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				if err := s.WriteBatch(ctx, "", rs); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				w.Reset(io.Discard)
				if _, err := w.Write(joined); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				sinkTime += t1.Sub(t0)
				bareTime += time.Since(t1)
			}
			mb := float64(len(joined)) * float64(b.N) / 1e6
			b.ReportMetric(mb/sinkTime.Seconds(), "sink-MB/s")
			b.ReportMetric(mb/bareTime.Seconds(), "bare-MB/s")
			b.ReportMetric(bareTime.Seconds()/sinkTime.Seconds(), "ratio")
		})
	}
}

// BenchmarkPartition measures the vendor-layout Partition (top-level time
// scan, date formatting, key validation) per record, with the event type
// fixed and taken from a record field, next to only decoding the same
// records' top level with encoding/json.
func BenchmarkPartition(b *testing.B) {
	rs, joined := benchRecords(10_000)
	layout, err := partition.VendorTemplate().Bind(map[string]string{"vendor": "V", "event_type": "e", "account": "a"})
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewJSONL(discardStore{}, func(o *JSONLOptions) { o.Layout = layout })
	if err != nil {
		b.Fatal(err)
	}
	b.Run("sink", func(b *testing.B) {
		b.SetBytes(int64(len(joined)))
		b.ReportAllocs()
		for b.Loop() {
			for _, r := range rs {
				if _, err := s.Partition(r); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	// The event type from each record's eventName field as well: one scan
	// for both fields.
	byName, err := partition.VendorTemplate().Bind(map[string]string{"vendor": "V", "account": "a"})
	if err != nil {
		b.Fatal(err)
	}
	fs, err := NewJSONL(discardStore{}, func(o *JSONLOptions) {
		o.Layout = byName
		o.RecordFields = map[string]string{"event_type": "eventName"}
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("sink-record-field", func(b *testing.B) {
		b.SetBytes(int64(len(joined)))
		b.ReportAllocs()
		for b.Loop() {
			for _, r := range rs {
				if _, err := fs.Partition(r); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("encoding-json-map", func(b *testing.B) {
		b.SetBytes(int64(len(joined)))
		b.ReportAllocs()
		for b.Loop() {
			for _, r := range rs {
				var m map[string]json.RawMessage
				if err := json.Unmarshal(r.Data, &m); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

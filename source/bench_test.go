package source

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/klauspost/compress/gzip"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/benchprograms"
	"github.com/lakerelay/lakerelay/internal/testenv"
	"github.com/lakerelay/lakerelay/metrics"
)

// cloudTrailRecord appends one CloudTrail-like event of about 1.4 KiB (the
// generator the program benchmark uses too).
func cloudTrailRecord(dst []byte, i int, r *rand.Rand) []byte {
	return benchprograms.CloudTrailRecord(dst, i, r)
}

// genNDJSON writes CloudTrail-like events, one per line, until size bytes.
func genNDJSON(w io.Writer, size int64) (records int, err error) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 0, 64<<10)
	var n int64
	for n < size {
		buf = cloudTrailRecord(buf, records, r)
		buf = append(buf, '\n')
		records++
		if len(buf) > 60<<10 {
			m, err := w.Write(buf)
			n += int64(m)
			if err != nil {
				return records, err
			}
			buf = buf[:0]
		}
	}
	_, err = w.Write(buf)
	return records, err
}

// genCloudTrail writes {"Records":[...]} documents of 1000 events each.
func genCloudTrail(w io.Writer, size int64) (records int, err error) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 0, 64<<10)
	var n int64
	for n < size {
		buf = append(buf, `{"Records":[`...)
		for j := 0; j < 1000; j++ {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = cloudTrailRecord(buf, records, r)
			records++
			if len(buf) > 60<<10 {
				m, err := w.Write(buf)
				n += int64(m)
				if err != nil {
					return records, err
				}
				buf = buf[:0]
			}
		}
		buf = append(buf, "]}\n"...)
	}
	_, err = w.Write(buf)
	return records, err
}

type benchData struct {
	raw, gz []byte
	records int
}

var (
	benchOnce               sync.Once
	benchNDJSON, benchTrail benchData
)

const benchSize = 64 << 20

func loadBench(b *testing.B) {
	benchOnce.Do(func() {
		for _, x := range []struct {
			d   *benchData
			gen func(io.Writer, int64) (int, error)
		}{{&benchNDJSON, genNDJSON}, {&benchTrail, genCloudTrail}} {
			var raw bytes.Buffer
			n, _ := x.gen(&raw, benchSize)
			var z bytes.Buffer
			w, _ := gzip.NewWriterLevel(&z, gzip.DefaultCompression)
			w.Write(raw.Bytes())
			w.Close()
			*x.d = benchData{raw: raw.Bytes(), gz: z.Bytes(), records: n}
		}
	})
}

// BenchmarkBaselineGzipLines is the bare primitive: klauspost gzip
// decompression and bufio line splitting of the same bytes.
func BenchmarkBaselineGzipLines(b *testing.B) {
	loadBench(b)
	for _, d := range []struct {
		name string
		data benchData
	}{{"ndjson", benchNDJSON}, {"cloudtrail", benchTrail}} {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(int64(len(d.data.raw)))
			b.ReportAllocs()
			for b.Loop() {
				zr, err := gzip.NewReader(bytes.NewReader(d.data.gz))
				if err != nil {
					b.Fatal(err)
				}
				sc := bufio.NewScanner(zr)
				sc.Buffer(make([]byte, 128<<10), 2<<20)
				lines := 0
				for sc.Scan() {
					lines++
				}
				if sc.Err() != nil || lines == 0 {
					b.Fatal(sc.Err())
				}
			}
			b.ReportMetric(float64(d.data.records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkDecode measures the decoders (decompression, splitting,
// validation, an owned copy per record) through a Reader.
func BenchmarkDecode(b *testing.B) {
	loadBench(b)
	for _, tt := range []struct {
		name string
		data benchData
		opts DecodeOptions
	}{
		{"gzip-ndjson", benchNDJSON, DecodeOptions{StreamType: NDJSON}},
		{"gzip-ndjson-auto", benchNDJSON, DecodeOptions{}},
		{"gzip-lines", benchNDJSON, DecodeOptions{StreamType: Lines}},
		{"gzip-cloudtrail-records", benchTrail, DecodeOptions{}},
		{"gzip-ndjson-reuse", benchNDJSON, DecodeOptions{StreamType: NDJSON, ReuseData: true}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			b.SetBytes(int64(len(tt.data.raw)))
			b.ReportAllocs()
			for b.Loop() {
				decodeCount(b, tt.data.gz, tt.opts, tt.data.records)
			}
			b.ReportMetric(float64(tt.data.records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkSmallObjects decodes many small gzip NDJSON objects (8 KiB
// uncompressed, a few records each: the size of many CloudTrail and
// load-balancer log files) through a Reader each, next to the primitive on
// the same bytes: a gzip reader per object and line splitting. Here the
// cost per object (decompressor, read-ahead buffers) shows, not the cost
// per byte.
func BenchmarkSmallObjects(b *testing.B) {
	raw, small, n := smallObject(b)
	b.Run("primitive", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		buf := make([]byte, 32<<10)
		for b.Loop() {
			if lines := gunzipCountLines(b, bytes.NewReader(small), buf); lines != n {
				b.Fatalf("%d lines, want %d", lines, n)
			}
		}
	})
	b.Run("reader", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			decodeCount(b, small, DecodeOptions{StreamType: NDJSON}, n)
		}
	})
}

// BenchmarkListSmallObjects reads 400 small gzip NDJSON objects (the 8 KiB
// of BenchmarkSmallObjects, about 2 KiB compressed) from MinIO through a
// List, with and without read-ahead, next to the primitive: GetObject,
// gzip reader and line count of each object in turn. Against S3, where each
// GetObject waits tens of milliseconds instead of one, read-ahead gains more:
// the latency= runs add that wait to each GetObject (before MinIO answers)
// and read 100 of the objects.
func BenchmarkListSmallObjects(b *testing.B) {
	raw, small, perObject := smallObject(b)
	m := testenv.StartMinIO(b)
	s3c := m.S3(b)
	bucket := m.NewBucket(b)
	ctx := context.Background()
	const objects = 400
	for i := range objects {
		key := fmt.Sprintf("small/%04d.json.gz", i)
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(small)}); err != nil {
			b.Fatal(err)
		}
	}
	for _, lat := range []time.Duration{0, 20 * time.Millisecond} {
		var c S3API = s3c
		n, prefix := objects, "small/"
		if lat > 0 {
			c, n, prefix = slowS3{s3c, lat}, 100, "small/00"
		}
		name := fmt.Sprintf("latency=%v", lat)
		b.Run(name+"/primitive", func(b *testing.B) {
			b.SetBytes(int64(n * len(raw)))
			buf := make([]byte, 32<<10)
			for b.Loop() {
				lines := 0
				for i := range n {
					key := fmt.Sprintf("small/%04d.json.gz", i)
					out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
					if err != nil {
						b.Fatal(err)
					}
					lines += gunzipCountLines(b, out.Body, buf)
					io.Copy(io.Discard, out.Body) // the gzip trailer: the connection is reused
					out.Body.Close()
				}
				if lines != n*perObject {
					b.Fatalf("%d lines, want %d", lines, n*perObject)
				}
			}
		})
		for _, ra := range []struct {
			name string
			n    int
		}{{"list/read-ahead=none", -1}, {"list/read-ahead=default", 0}} {
			b.Run(name+"/"+ra.name, func(b *testing.B) {
				b.SetBytes(int64(n * len(raw)))
				for b.Loop() {
					l, err := NewList(c, bucket, prefix, func(o *ListOptions) {
						o.Decode.StreamType = NDJSON
						o.ReadAhead = ra.n
					})
					if err != nil {
						b.Fatal(err)
					}
					drainSource(b, l, n*perObject)
					l.Close()
				}
			})
		}
	}
}

// slowS3 waits before each GetObject, as S3 does before its first byte.
type slowS3 struct {
	S3API
	wait time.Duration
}

func (s slowS3) GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	time.Sleep(s.wait)
	return s.S3API.GetObject(ctx, in, optFns...)
}

// smallObject returns the small object of BenchmarkSmallObjects and
// BenchmarkListSmallObjects: 8 KiB of generated NDJSON, gzip, and its
// records.
func smallObject(b *testing.B) (raw, gz []byte, records int) {
	var gen bytes.Buffer
	if _, err := genNDJSON(&gen, 8<<10); err != nil {
		b.Fatal(err)
	}
	raw = gen.Bytes() // the generator writes 60 KiB at a time: cut
	raw = raw[:8<<10+bytes.IndexByte(raw[8<<10:], '\n')+1]
	var z bytes.Buffer
	w, _ := gzip.NewWriterLevel(&z, gzip.DefaultCompression)
	w.Write(raw)
	w.Close()
	return raw, z.Bytes(), bytes.Count(raw, []byte{'\n'})
}

// gunzipCountLines is the small-object primitive: a gzip reader on r and
// a count of the lines read through buf.
func gunzipCountLines(b *testing.B, r io.Reader, buf []byte) int {
	zr, err := gzip.NewReader(r)
	if err != nil {
		b.Fatal(err)
	}
	lines := 0
	for {
		m, err := zr.Read(buf)
		lines += bytes.Count(buf[:m], []byte{'\n'})
		if err == io.EOF {
			return lines
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// decodeCount reads data through a Reader to its end and fails b unless it
// gave want records.
func decodeCount(b *testing.B, data []byte, opts DecodeOptions, want int) {
	r, err := NewReader("bench", bytes.NewReader(data), func(o *ReaderOptions) { o.Decode = opts })
	if err != nil {
		b.Fatal(err)
	}
	drainSource(b, r, want)
}

// drainSource reads s until io.EOF, settling each record, and fails b
// unless it gave want records.
func drainSource(b *testing.B, s lakerelay.Source, want int) {
	ctx := context.Background()
	n := 0
	for {
		r, err := s.Read(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		r.Settle(nil)
		n++
	}
	if n != want {
		b.Fatalf("%d records, want %d", n, want)
	}
}

func TestBenchDataIsValid(t *testing.T) {
	var b bytes.Buffer
	n, _ := genNDJSON(&b, 1<<20)
	got, err := decodeAll(t, &b, DecodeOptions{StreamType: NDJSON})
	if err != nil || len(got) != n {
		t.Fatalf("%d of %d records: %v", len(got), n, err)
	}
	for _, r := range got {
		if r.Invalid {
			t.Fatalf("invalid generated record %s", r.Data)
		}
	}
	b.Reset()
	n, _ = genCloudTrail(&b, 1<<20)
	raw := b.Len()
	got, err = decodeAll(t, bytes.NewReader(gz(t, b.String())), DecodeOptions{})
	if err != nil || len(got) != n {
		t.Fatalf("%d of %d records: %v", len(got), n, err)
	}
	t.Logf("%d records, %d bytes, gzip ratio %.1f", n, raw, float64(raw)/float64(len(gz(t, b.String()))))
}

// BenchmarkMinIO reads gzip objects from MinIO: the bare primitive
// (GetObject, klauspost gzip, bufio lines) next to the List source and the
// SQS source (notification, fetch, decode, ack, delete) over the same object.
func BenchmarkMinIO(b *testing.B) {
	loadBench(b)
	m := testenv.StartMinIO(b)
	s3c := m.S3(b)
	bucket := m.NewBucket(b)
	q := testenv.StartSQS(b)
	sqsc := q.Client(b)
	ctx := context.Background()
	for _, d := range []struct {
		name string
		data benchData
	}{{"ndjson", benchNDJSON}, {"cloudtrail", benchTrail}} {
		key := "bench/" + d.name + ".json.gz"
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(d.data.gz)}); err != nil {
			b.Fatal(err)
		}
		b.Run(d.name+"/baseline-get-gunzip-lines", func(b *testing.B) {
			b.SetBytes(int64(len(d.data.raw)))
			b.ReportAllocs()
			for b.Loop() {
				out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
				if err != nil {
					b.Fatal(err)
				}
				zr, err := gzip.NewReader(out.Body)
				if err != nil {
					b.Fatal(err)
				}
				sc := bufio.NewScanner(zr)
				sc.Buffer(make([]byte, 128<<10), 2<<20)
				for sc.Scan() {
				}
				out.Body.Close()
				if sc.Err() != nil {
					b.Fatal(sc.Err())
				}
			}
			b.ReportMetric(float64(d.data.records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
		b.Run(d.name+"/list", func(b *testing.B) {
			b.SetBytes(int64(len(d.data.raw)))
			b.ReportAllocs()
			for b.Loop() {
				l, err := NewList(s3c, bucket, key)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					_, err := l.Read(ctx)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != d.data.records {
					b.Fatalf("%d records, want %d", n, d.data.records)
				}
			}
			b.ReportMetric(float64(d.data.records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
		b.Run(d.name+"/sqs", func(b *testing.B) {
			queue := q.NewQueue(b, testenv.QueueOptions{VisibilityTimeout: 60 * time.Second})
			s, err := NewSQS(s3c, sqsc, queue.URL, func(o *SQSOptions) { o.Workers = 1; o.WaitTime = time.Second })
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			body := s3Event(s3RecordUnversioned("ObjectCreated:Put", bucket, s3Key(key)))
			b.SetBytes(int64(len(d.data.raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := sqsc.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queue.URL, MessageBody: &body}); err != nil {
					b.Fatal(err)
				}
				for n := 0; n < d.data.records; n++ {
					r, err := s.Read(ctx)
					if err != nil {
						b.Fatal(err)
					}
					r.Settle(nil)
				}
			}
			b.ReportMetric(float64(d.data.records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkRatio interleaves the bare primitive (klauspost gzip + bufio
// lines) and the source's decoder on the same bytes in every iteration, so
// that both see the same load on a shared machine, and reports both speeds
// and their ratio (source / primitive; 1 means as fast). "memory" decodes
// from a byte slice, "minio" fetches the object from MinIO (GetObject for
// the primitive, the List source for the decoder), "minio-observed" the
// same with a metrics.Registry as Observer and a Logger at Info.
func BenchmarkRatio(b *testing.B) {
	loadBench(b)
	m := testenv.StartMinIO(b)
	s3c := m.S3(b)
	bucket := m.NewBucket(b)
	ctx := context.Background()
	// "minio-observed": the List reports to a metrics Registry and logs at
	// Info, as a program would.
	reg := metrics.NewRegistry()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	primitive := func(b *testing.B, r io.Reader) {
		zr, err := gzip.NewReader(r)
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(make([]byte, 128<<10), 2<<20)
		for sc.Scan() {
		}
		if sc.Err() != nil {
			b.Fatal(sc.Err())
		}
	}
	for _, d := range []struct {
		name string
		data benchData
	}{{"ndjson", benchNDJSON}, {"cloudtrail", benchTrail}} {
		key := "ratio/" + d.name + ".json.gz"
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(d.data.gz)}); err != nil {
			b.Fatal(err)
		}
		for _, where := range []string{"memory", "memory-reuse", "minio", "minio-observed"} {
			b.Run(d.name+"/"+where, func(b *testing.B) {
				b.SetBytes(2 * int64(len(d.data.raw))) // both runs
				b.ReportAllocs()
				var tPrim, tSrc time.Duration
				for b.Loop() {
					t0 := time.Now()
					if strings.HasPrefix(where, "memory") {
						primitive(b, bytes.NewReader(d.data.gz))
					} else {
						out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
						if err != nil {
							b.Fatal(err)
						}
						primitive(b, out.Body)
						out.Body.Close()
					}
					t1 := time.Now()
					if strings.HasPrefix(where, "memory") {
						r, _ := NewReader("bench", bytes.NewReader(d.data.gz), func(o *ReaderOptions) {
							o.Decode.ReuseData = where == "memory-reuse"
						})
						drainSource(b, r, d.data.records)
					} else {
						l, _ := NewList(s3c, bucket, key, func(o *ListOptions) {
							if where == "minio-observed" {
								o.Observer = reg
								o.Logger = logger
							}
						})
						drainSource(b, l, d.data.records)
					}
					t2 := time.Now()
					tPrim += t1.Sub(t0)
					tSrc += t2.Sub(t1)
				}
				mb := float64(len(d.data.raw)) * float64(b.N) / 1e6
				b.ReportMetric(mb/tPrim.Seconds(), "primitive-MB/s")
				b.ReportMetric(mb/tSrc.Seconds(), "source-MB/s")
				b.ReportMetric(float64(d.data.records)*float64(b.N)/tSrc.Seconds(), "source-records/s")
				b.ReportMetric(tPrim.Seconds()/tSrc.Seconds(), "ratio")
			})
		}
	}
}

package sink

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/gzip"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/internal/obstest"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

// TestMetricsMatchTheStore runs the batcher, the JSONL sink and the S3
// store against MinIO behind a proxy that answers the first PutObject with
// 503 SlowDown. The counts the Observer got equal what is in the bucket
// (records, and bytes as listed by MinIO), the failed attempt is counted
// once as a retry and once as a throttled error by the batcher and by the
// store, and the log shows the run without any record data.
func TestMetricsMatchTheStore(t *testing.T) {
	t.Parallel()
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	proxy := testenv.NewFaultProxy(t, m.Endpoint)
	rec := obstest.NewRecorder()
	var log obstest.Log
	store, err := NewS3(clientAt(m.Config(t), proxy.URL()), bucket, func(o *S3Options) {
		o.MaxAttempts = 1 // the batcher retries
		o.Logger, o.Observer = log.Logger(), rec
	})
	if err != nil {
		t.Fatal(err)
	}
	js, err := NewJSONL(store, func(o *JSONLOptions) {
		o.Prefix = "out/"
		o.Logger, o.Observer, o.PartitionLabel = log.Logger(), rec, true
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := batch.New(js, func(o *batch.Options) {
		o.MaxRecords = 50
		o.MaxRetries, o.RetryBackoff, o.MaxRetryBackoff = 2, 10*time.Millisecond, 10*time.Millisecond
		o.FlushConcurrency = 1
		o.Logger, o.Observer = log.Logger(), rec
	})
	if err != nil {
		t.Fatal(err)
	}
	proxy.FailNext(1, 503, "SlowDown")
	ctx := context.Background()
	const n = 120
	for i := range n {
		lt := "http"
		if i%3 == 0 {
			lt = "dns"
		}
		r := lakerelay.Record{Data: fmt.Appendf(nil, `{"n":%d,"secret":"s3kr1t-%d"}`, i, i), Origin: lakerelay.Origin{LogType: lt, Index: int64(i)}}
		if err := b.Add(ctx, "out/", r); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// What MinIO holds.
	client := m.S3(t)
	list, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	var objects, lines int
	var size int64
	for _, o := range list.Contents {
		objects++
		size += *o.Size
		obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(obj.Body)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		for sc.Scan() {
			lines++
		}
		obj.Body.Close()
	}
	if objects != 3 || lines != n {
		t.Fatalf("bucket holds %d objects with %d records, want 3 with %d", objects, lines, n)
	}

	out := lakerelay.Labels{Source: "jsonl"}
	if got := rec.Sum(lakerelay.MetricRecordsOut, out); got != n {
		t.Errorf("records out = %d, want %d (stored)", got, n)
	}
	if got := rec.Sum(lakerelay.MetricBytesOut, out); got != size {
		t.Errorf("bytes out = %d, want %d (sum of object sizes in MinIO)", got, size)
	}
	if got := rec.Sum(lakerelay.MetricRecordsOut, lakerelay.Labels{Source: "jsonl", LogType: "dns", Partition: "out/"}); got != n/3 {
		t.Errorf("dns records out = %d, want %d", got, n/3)
	}
	if got := rec.Sum(lakerelay.MetricRecordsOut, lakerelay.Labels{Source: "jsonl", LogType: "http", Partition: "out/"}); got != n-n/3 {
		t.Errorf("http records out = %d, want %d", got, n-n/3)
	}
	if got := rec.Sum(lakerelay.MetricFlushRetries, lakerelay.Labels{Source: "batch"}); got != 1 {
		t.Errorf("flush retries = %d, want 1", got)
	}
	for _, src := range []string{"batch", "s3"} {
		if got := rec.Sum(lakerelay.MetricErrors, lakerelay.Labels{Source: src, Class: lakerelay.ClassThrottled}); got != 1 {
			t.Errorf("%s throttled errors = %d, want 1", src, got)
		}
	}
	if got := rec.Sum(lakerelay.MetricErrors, lakerelay.Labels{}); got != 2 {
		t.Errorf("errors = %d, want 2 (one each from batch and s3)", got)
	}
	if got := rec.Observations(lakerelay.MetricFlushDuration, lakerelay.Labels{Source: "batch"}); got != 3 {
		t.Errorf("flush durations = %d, want 3", got)
	}

	retry := log.Find(t, "flush failed, will retry")
	if len(retry) != 1 || retry[0]["attempt"] != 1.0 || !strings.Contains(fmt.Sprint(retry[0]["error"]), "SlowDown") {
		t.Errorf("want one retry line at attempt 1 with the SlowDown error:\n%s", log.String())
	}
	if put := log.Find(t, "put failed"); len(put) != 1 || put[0]["level"] != "WARN" || put[0]["component"] != "s3" {
		t.Errorf("want one put failed line from the store:\n%s", log.String())
	}
	if w := log.Find(t, "object written"); len(w) != 3 {
		t.Errorf("want 3 object written lines:\n%s", log.String())
	}
	if s := log.Find(t, "object stored"); len(s) != 3 {
		t.Errorf("want 3 object stored lines:\n%s", log.String())
	}
	log.NotContains(t, "s3kr1t", `"n":`)
}

// A DirStore logs each object stored and counts a failed Put by class.
func TestDirStoreLogsAndMetrics(t *testing.T) {
	rec := obstest.NewRecorder()
	var log obstest.Log
	d, err := NewDir(t.TempDir(), func(o *DirOptions) { o.Logger, o.Observer, o.Name = log.Logger(), rec, "out" })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.Put(ctx, "a/b.json", strings.NewReader("s3kr1t"), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "a/../b.json", strings.NewReader("s3kr1t"), PutOptions{}); err == nil {
		t.Fatal("Put of an invalid key succeeded")
	}
	stored := log.Find(t, "object stored")
	if len(stored) != 1 || stored[0]["bytes"] != 6.0 || stored[0]["location"] != d.Location("a/b.json") || stored[0]["component"] != "out" {
		t.Errorf("want one object stored line with its size:\n%s", log.String())
	}
	if len(log.Find(t, "put failed")) != 1 || len(log.Find(t, "dir store opened")) != 1 {
		t.Errorf("want one put failed and one opened line:\n%s", log.String())
	}
	if got := rec.Sum(lakerelay.MetricErrors, lakerelay.Labels{Source: "out"}); got != 1 {
		t.Errorf("errors = %d, want 1", got)
	}
	log.NotContains(t, "s3kr1t")
}

package securitylake

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/internal/obstest"
	"github.com/lakerelay/lakerelay/internal/testenv"
	"github.com/lakerelay/lakerelay/sink"
)

// TestMetricsMatchTheLake runs the batcher and the sink against MinIO
// behind a proxy that fails the first upload with 503: the records and
// bytes out the Observer got equal Stats and the objects MinIO lists, the
// misfit is counted as quarantined (invalid), the failed attempt as one
// retry, and the log carries no record data.
func TestMetricsMatchTheLake(t *testing.T) {
	t.Parallel()
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	proxy := testenv.NewFaultProxy(t, m.Endpoint)
	client := s3.NewFromConfig(m.Config(t), func(o *s3.Options) {
		o.UsePathStyle = true
		o.BaseEndpoint = aws.String(proxy.URL())
	})
	store, err := sink.NewS3(client, bucket, func(o *sink.S3Options) { o.MaxAttempts = 1 })
	require.NoError(t, err)
	rec := obstest.NewRecorder()
	var log obstest.Log
	q := &quarantineLog{}
	s, err := New(store, "s3://"+bucket+"/ext/obs/", 6003, func(o *Options) {
		o.Quarantine = q.put
		o.Logger, o.Observer, o.PartitionLabel = log.Logger(), rec, true
	})
	require.NoError(t, err)
	b, err := batch.New(s, BatchOptions, func(o *batch.Options) {
		o.MaxRecords = 25
		o.MaxRetries, o.RetryBackoff, o.MaxRetryBackoff = 2, 10*time.Millisecond, 10*time.Millisecond
		o.FlushConcurrency = 1
		o.Logger, o.Observer = log.Logger(), rec
	})
	require.NoError(t, err)
	part, recs := onePartition(t, s, 60)
	for i := range recs {
		recs[i].Origin.LogType = "cloudtrail"
	}
	misfit := lakerelay.Record{Data: []byte(strings.Replace(string(recs[0].Data), `"severity_id":1`, `"severity_id":"high"`, 1)),
		Origin: lakerelay.Origin{Key: "bad", LogType: "cloudtrail"}}
	proxy.FailNext(1, 503, "SlowDown")
	ctx := context.Background()
	for _, r := range append(recs, misfit) {
		require.NoError(t, b.Add(ctx, part, r))
	}
	require.NoError(t, b.Close(ctx))

	list, err := m.S3(t).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
	require.NoError(t, err)
	var size int64
	for _, o := range list.Contents {
		size += *o.Size
	}
	st := s.Stats()
	assert.Equal(t, Stats{Objects: int64(len(list.Contents)), Records: 60, Bytes: size, Quarantined: 1}, st)
	assert.Len(t, list.Contents, 3)
	out := lakerelay.Labels{Source: "securitylake", LogType: "cloudtrail", Partition: part}
	assert.EqualValues(t, 60, rec.Sum(lakerelay.MetricRecordsOut, out))
	assert.Equal(t, size, rec.Sum(lakerelay.MetricBytesOut, out), "bytes out = sum of object sizes in MinIO")
	assert.EqualValues(t, 1, rec.Sum(lakerelay.MetricQuarantined, lakerelay.Labels{Source: "securitylake", LogType: "cloudtrail", Class: lakerelay.ClassInvalid}))
	assert.EqualValues(t, 1, rec.Sum(lakerelay.MetricFlushRetries, lakerelay.Labels{Source: "batch"}))
	assert.EqualValues(t, 1, rec.Sum(lakerelay.MetricErrors, lakerelay.Labels{Source: "batch", Class: lakerelay.ClassThrottled}))

	assert.Len(t, log.Find(t, "object stored"), 3, log.String())
	assert.Len(t, log.Find(t, "flush failed, will retry"), 1, log.String())
	assert.Len(t, log.Find(t, "security lake sink created"), 1)
	log.NotContains(t, "AIDA", "alice-", "s3.amazonaws.com called")
}

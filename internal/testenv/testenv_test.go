package testenv_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestMinIOPutGet(t *testing.T) {
	m := testenv.StartMinIO(t)
	ctx := context.Background()
	c := m.S3(t)
	bucket := m.NewBucket(t)
	key := "dir/with space/ünïcode+plus=eq.txt"
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader([]byte("hello"))})
	require.NoError(t, err)
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	require.NoError(t, err)
	b, err := io.ReadAll(out.Body)
	require.NoError(t, err)
	require.Equal(t, "hello", string(b))
}

func TestMinIORestrictedConfigEnforcesSessionPolicy(t *testing.T) {
	m := testenv.StartMinIO(t)
	ctx := context.Background()
	bucket := m.NewBucket(t)
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::` + bucket + `/*"]}]}`
	cfg := m.RestrictedConfig(t, policy)
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("k"), Body: bytes.NewReader([]byte("x"))})
	var api smithy.APIError
	require.ErrorAs(t, err, &api)
	require.Equal(t, "AccessDenied", api.ErrorCode())

	_, err = m.S3(t).PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("k"), Body: bytes.NewReader([]byte("x"))})
	require.NoError(t, err)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("k")})
	require.NoError(t, err)
}

func TestMinIOStopMeansDown(t *testing.T) {
	m := testenv.NewMinIO(t)
	c := m.S3(t)
	bucket := m.NewBucket(t)
	m.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket}, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	require.Error(t, err)
}

func TestFaultProxy(t *testing.T) {
	m := testenv.StartMinIO(t)
	ctx := context.Background()
	bucket := m.NewBucket(t)
	p := testenv.NewFaultProxy(t, m.Endpoint)
	cfg := m.Config(t)
	c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.BaseEndpoint = aws.String(p.URL())
		o.RetryMaxAttempts = 1
	})
	p.FailNext(1, 503, "SlowDown")
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("k"), Body: bytes.NewReader([]byte("x"))})
	var api smithy.APIError
	require.ErrorAs(t, err, &api)
	require.Equal(t, "SlowDown", api.ErrorCode())
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("k"), Body: bytes.NewReader([]byte("x"))})
	require.NoError(t, err, "after the injected fault the proxy passes requests through to MinIO")
	require.Equal(t, 2, p.Requests())
}

func TestSQSVisibilityAndDLQ(t *testing.T) {
	s := testenv.StartSQS(t)
	ctx := context.Background()
	c := s.Client(t)
	q := s.NewQueue(t, testenv.QueueOptions{VisibilityTimeout: 2 * time.Second, MaxReceiveCount: 2})
	_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &q.URL, MessageBody: aws.String(`{"hello":"world"}`)})
	require.NoError(t, err)

	receive := func(url string) *sqs.ReceiveMessageOutput {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		require.NoError(t, err)
		return out
	}
	first := receive(q.URL)
	require.Len(t, first.Messages, 1)
	require.Equal(t, `{"hello":"world"}`, aws.ToString(first.Messages[0].Body))
	// Invisible while the timeout runs.
	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &q.URL, MaxNumberOfMessages: 10})
	require.NoError(t, err)
	require.Empty(t, out.Messages)
	// Redelivered after it (second receive), then moved to the DLQ.
	time.Sleep(2100 * time.Millisecond)
	second := receive(q.URL)
	require.Len(t, second.Messages, 1)
	time.Sleep(2100 * time.Millisecond)
	require.Empty(t, receive(q.URL).Messages)
	dlq := receive(q.DLQURL)
	require.Len(t, dlq.Messages, 1)
	_, err = c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &q.DLQURL, ReceiptHandle: dlq.Messages[0].ReceiptHandle})
	require.NoError(t, err)
}

func TestDuckDBReadsArrowParquet(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.parquet")
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "time", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "msg", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 1 << 60}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"a", "b", "c"}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	f, err := os.Create(path)
	require.NoError(t, err)
	w, err := pqarrow.NewFileWriter(schema, f, parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd)), pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem)))
	require.NoError(t, err)
	require.NoError(t, w.Write(rec))
	require.NoError(t, w.Close())

	rows := testenv.DuckDB(t, "SELECT time, msg FROM read_parquet('"+path+"') ORDER BY time")
	require.Len(t, rows, 3)
	require.Equal(t, json.Number("1152921504606846976"), rows[2]["time"])
	require.Equal(t, "c", rows[2]["msg"])
	meta := testenv.DuckDB(t, "SELECT DISTINCT compression FROM parquet_metadata('"+path+"')")
	require.Equal(t, []map[string]any{{"compression": "ZSTD"}}, meta)

	_, err = testenv.QueryDuckDB("SELECT * FROM nope")
	var de *testenv.DuckDBError
	require.True(t, errors.As(err, &de))
}

package source

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakerelay/lakerelay/internal/testenv"
)

// BenchmarkSQSMessages measures the SQS source end to end on many small
// messages, where the SQS calls (receive, delete) and not the decoding
// dominate: each message names a one-record object on MinIO; every record
// is read and acknowledged, and the benchmark ends only when every message
// was deleted. One op is one message.
func BenchmarkSQSMessages(b *testing.B) {
	m := testenv.StartMinIO(b)
	s3c := m.S3(b)
	bucket := m.NewBucket(b)
	q := testenv.StartSQS(b)
	sqsc := q.Client(b)
	ctx := context.Background()
	key := "bench/one.json"
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(`{"a":1}` + "\n")}); err != nil {
		b.Fatal(err)
	}
	body := s3Event(s3RecordUnversioned("ObjectCreated:Put", bucket, s3Key(key)))
	queue := q.NewQueue(b, testenv.QueueOptions{VisibilityTimeout: 60 * time.Second})
	s, err := NewSQS(s3c, sqsc, queue.URL, func(o *SQSOptions) { o.WaitTime = time.Second })
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	b.ResetTimer()
	sent := 0
	for sent < b.N {
		n := min(10, b.N-sent)
		entries := make([]sqstypes.SendMessageBatchRequestEntry, n)
		for i := range entries {
			entries[i] = sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: &body}
		}
		out, err := sqsc.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &queue.URL, Entries: entries})
		if err != nil || len(out.Failed) > 0 {
			b.Fatalf("send: %v %v", err, out)
		}
		sent += n
	}
	for range b.N {
		r, err := s.Read(ctx)
		if err != nil {
			b.Fatal(err)
		}
		r.Settle(nil)
	}
	deadline := time.Now().Add(time.Minute)
	for s.Stats().Deleted < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d messages deleted", s.Stats().Deleted, b.N)
		}
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "messages/s")
}

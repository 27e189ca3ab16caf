package quarantine_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/internal/testenv"
	"github.com/lakerelay/lakerelay/quarantine"
	"github.com/lakerelay/lakerelay/sink"
	"github.com/lakerelay/lakerelay/source"
)

// byDay partitions by the record's "day" field and rejects records without
// one.
type byDay struct{}

func (byDay) Partition(r lakerelay.Record) (string, error) {
	var v struct{ Day string }
	if err := json.Unmarshal(r.Data, &v); err != nil || v.Day == "" {
		return "", fmt.Errorf("%w: %s: no day field", lakerelay.ErrInvalidRecord, r.Origin)
	}
	return "day=" + v.Day, nil
}

// ndjsonSink writes each batch as one NDJSON object under its partition.
func ndjsonSink(st sink.Store) lakerelay.Sink {
	return lakerelay.SinkFunc(func(ctx context.Context, partition string, records []lakerelay.Record) error {
		var b bytes.Buffer
		for _, r := range records {
			b.Write(r.Data)
			b.WriteByte('\n')
		}
		var id [8]byte
		_, _ = rand.Read(id[:])
		return st.Put(ctx, "out/"+partition+"/"+hex.EncodeToString(id[:])+".ndjson", &b, sink.PutOptions{})
	})
}

// lines counts the NDJSON lines under prefix, by line.
func lines(t *testing.T, st sink.Store, prefix string) map[string]int {
	t.Helper()
	out := map[string]int{}
	ctx := context.Background()
	err := st.List(ctx, prefix, func(o sink.ObjectInfo) error {
		rc, err := st.Get(ctx, o.Key)
		if err != nil {
			return err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			out[l]++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPipelineSQS runs batch.Run with the real SQS source (local-aws-sqs),
// objects and output on MinIO. Objects with records the partitioner rejects
// are, without a quarantine, nacked: their messages stay in the queue while
// the others are deleted. With a quarantine on S3, the rejected records are
// in it (acknowledged only once stored) and every message is deleted.
func TestPipelineSQS(t *testing.T) {
	t.Parallel()
	for _, withQuarantine := range []bool{false, true} {
		t.Run(fmt.Sprint("quarantine=", withQuarantine), func(t *testing.T) {
			t.Parallel()
			m := testenv.StartMinIO(t)
			s3c := m.S3(t)
			bucket := m.NewBucket(t)
			q := testenv.StartSQS(t)
			sqsc := q.Client(t)
			queue := q.NewQueue(t, testenv.QueueOptions{VisibilityTimeout: 2 * time.Second})
			ctx := context.Background()
			put := func(key, body string) {
				if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(body)}); err != nil {
					t.Fatal(err)
				}
				msg := fmt.Sprintf(`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":%q},"object":{"key":%q,"size":1}}}]}`, bucket, key)
				if _, err := sqsc.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queue.URL, MessageBody: &msg}); err != nil {
					t.Fatal(err)
				}
			}
			const objects, per = 12, 5
			want := map[string]int{}
			bad := 0
			for i := range objects {
				var b strings.Builder
				for j := range per {
					if i%4 == 3 && j == 2 {
						fmt.Fprintf(&b, `{"obj":%d,"rec":%d}`+"\n", i, j) // no day: rejected
						bad++
						continue
					}
					line := fmt.Sprintf(`{"obj":%d,"rec":%d,"day":"2026010%d"}`, i, j, i%3+1)
					// Without a quarantine, an object with a rejected record
					// is read again later: its records need not arrive yet.
					if withQuarantine || i%4 != 3 {
						want[line]++
					}
					b.WriteString(line + "\n")
				}
				put(fmt.Sprintf("in/%02d.json", i), b.String())
			}
			store, err := sink.NewS3(s3c, bucket)
			if err != nil {
				t.Fatal(err)
			}
			src, err := source.NewSQS(s3c, sqsc, queue.URL, func(o *source.SQSOptions) {
				o.WaitTime, o.VisibilityTimeout = time.Second, 2*time.Second
			})
			if err != nil {
				t.Fatal(err)
			}
			b, err := batch.New(ndjsonSink(store), func(o *batch.Options) { o.MaxRecords, o.MaxAge = 7, 300*time.Millisecond })
			if err != nil {
				t.Fatal(err)
			}
			var qw *quarantine.Writer
			if withQuarantine {
				if qw, err = quarantine.Open("s3://"+bucket+"/quarantine", s3c, func(o *quarantine.Options) { o.MaxAge = 100 * time.Millisecond }); err != nil {
					t.Fatal(err)
				}
			}
			runCtx, cancel := context.WithCancel(ctx)
			type result struct {
				tot batch.Totals
				err error
			}
			done := make(chan result, 1)
			go func() {
				tot, err := batch.Run(runCtx, src, b, byDay{}, func(o *batch.RunOptions) {
					if qw != nil {
						o.Quarantine = qw
					}
				})
				done <- result{tot, err}
			}()
			// Good messages are deleted; bad ones come back every 2 s.
			wantDeleted := int64(objects)
			if !withQuarantine {
				wantDeleted = objects - objects/4
			}
			deadline := time.Now().Add(30 * time.Second)
			for src.Stats().Deleted < wantDeleted {
				if time.Now().After(deadline) {
					t.Fatalf("timed out: source stats %+v", src.Stats())
				}
				time.Sleep(20 * time.Millisecond)
			}
			cancel()
			res := <-done
			if err := src.Close(); err != nil {
				t.Fatal(err)
			}
			if res.err != nil {
				t.Fatal(res.err)
			}
			tot := res.tot
			if tot.Unsettled != 0 || tot.In != tot.Delivered+tot.Quarantined+tot.Nacked {
				t.Fatalf("totals do not add up: %+v", tot)
			}
			got := lines(t, store, "out/")
			for l, n := range want {
				if got[l] < 1 {
					t.Fatalf("record %s not delivered", l)
				}
				if withQuarantine && n != got[l] {
					t.Fatalf("record %s delivered %d times", l, got[l])
				}
			}
			if withQuarantine {
				if err := qw.Close(ctx); err != nil {
					t.Fatal(err)
				}
				entries := lines(t, store, "quarantine/")
				if len(entries) != bad || tot.Quarantined != int64(bad) || tot.Nacked != 0 {
					t.Fatalf("%d quarantine entries, totals %+v; want %d quarantined", len(entries), tot, bad)
				}
				for l := range entries {
					var e quarantine.Entry
					if err := json.Unmarshal([]byte(l), &e); err != nil || !strings.Contains(e.Reason, "no day field") || e.Origin.Bucket != bucket {
						t.Fatalf("entry %s: %v", l, err)
					}
				}
			} else if tot.Nacked < int64(objects/4) || tot.Quarantined != 0 {
				t.Fatalf("totals %+v: want the rejected records nacked", tot)
			}
			// What is left in the queue: exactly the messages of objects
			// with a rejected record (none with a quarantine).
			left := map[string]bool{}
			end := time.Now().Add(4 * time.Second)
			for time.Now().Before(end) {
				out, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queue.URL, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60})
				if err != nil {
					t.Fatal(err)
				}
				for _, msg := range out.Messages {
					left[aws.ToString(msg.Body)[strings.Index(aws.ToString(msg.Body), "in/"):][:8]] = true
				}
			}
			wantLeft := map[string]bool{}
			if !withQuarantine {
				for i := 3; i < objects; i += 4 {
					wantLeft[fmt.Sprintf("in/%02d.js", i)] = true
				}
			}
			if fmt.Sprint(left) != fmt.Sprint(wantLeft) {
				t.Fatalf("left in the queue: %v, want %v", left, wantLeft)
			}
		})
	}
}

package securitylake

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/internal/testenv"
	"github.com/lakerelay/lakerelay/sink"
)

// acks collects the outcome of every record.
type acks struct {
	mu   sync.Mutex
	ok   int
	errs []error
}

func (a *acks) record(data []byte, i int) lakerelay.Record {
	return lakerelay.Record{Data: data, Origin: lakerelay.Origin{Key: "in", Index: int64(i)}, Ack: lakerelay.Once(func(err error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if err == nil {
			a.ok++
		} else {
			a.errs = append(a.errs, err)
		}
	})}
}

// pump partitions events and adds them to b; rejected records are
// quarantined by q and acknowledged.
func pump(t *testing.T, s *Sink, b *batch.Batcher, a *acks, q *quarantineLog, events [][]byte) {
	t.Helper()
	for i, e := range events {
		r := a.record(e, i)
		p, err := s.Partition(r)
		if err != nil {
			require.NoError(t, q.put(r, err))
			r.Settle(nil)
			continue
		}
		require.NoError(t, b.Add(context.Background(), p, r))
	}
}

func TestBatcherAcksAfterStore(t *testing.T) {
	t.Parallel() // among the slowest under the race detector: overlap them
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	store, err := sink.NewS3(m.S3(t), bucket)
	require.NoError(t, err)
	q := &quarantineLog{}
	s, err := New(store, "s3://"+bucket+"/ext/b/", 6003, func(o *Options) { o.Quarantine = q.put })
	require.NoError(t, err)
	b, err := batch.New(s, BatchOptions, func(o *batch.Options) { o.MaxRecords = 100 })
	require.NoError(t, err)
	events := genEvents(scaled(1000), 41)
	events = append(events, []byte(`{"class_uid":2004,"time":1}`), []byte(`{"class_uid":6003,"time":1764547200000,"cloud":{"region":"us-east-1","account":{"uid":"111122223333"}},"status_id":"x"}`))
	a := &acks{}
	pump(t, s, b, a, q, events)
	require.NoError(t, b.Close(context.Background()))
	assert.Equal(t, len(events), a.ok, "every record acknowledged: stored or quarantined")
	assert.Empty(t, a.errs)
	assert.Len(t, q.got, 2)
	rep, err := Lint(context.Background(), store, "s3://"+bucket+"/ext/b/")
	require.NoError(t, err)
	assert.Empty(t, rep.Findings)
	assert.Equal(t, len(events)-2, rep.Rows)
}

func TestBatcherNacksWhenStoreFails(t *testing.T) {
	t.Parallel() // among the slowest under the race detector: overlap them
	tests := []struct {
		name      string
		store     func(t *testing.T) (sink.Store, string)
		permanent bool
	}{
		{"server down", func(t *testing.T) (sink.Store, string) {
			m := testenv.NewMinIO(t)
			bucket := m.NewBucket(t)
			st, err := sink.NewS3(m.S3(t), bucket, func(o *sink.S3Options) { o.MaxAttempts, o.MaxBackoff = 1, time.Millisecond })
			require.NoError(t, err)
			m.Stop()
			return st, bucket
		}, false},
		{"access denied", func(t *testing.T) (sink.Store, string) {
			m := testenv.StartMinIO(t)
			bucket := m.NewBucket(t)
			policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::` + bucket + `"]}]}`
			client := s3.NewFromConfig(m.RestrictedConfig(t, policy), func(o *s3.Options) { o.UsePathStyle = true })
			st, err := sink.NewS3(client, bucket)
			require.NoError(t, err)
			return st, bucket
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, bucket := tt.store(t)
			s, err := New(store, "s3://"+bucket+"/ext/f/", 6003)
			require.NoError(t, err)
			var results []batch.FlushResult
			var mu sync.Mutex
			b, err := batch.New(s, BatchOptions, func(o *batch.Options) {
				o.MaxRetries, o.RetryBackoff, o.MaxRetryBackoff = 1, time.Millisecond, time.Millisecond
				o.OnFlush = func(r batch.FlushResult) { mu.Lock(); results = append(results, r); mu.Unlock() }
			})
			require.NoError(t, err)
			events := genEvents(scaled(200), 42)
			a := &acks{}
			pump(t, s, b, a, &quarantineLog{}, events)
			err = b.Close(context.Background())
			require.Error(t, err)
			assert.Zero(t, a.ok, "nothing acknowledged")
			require.Len(t, a.errs, len(events), "every record negatively acknowledged, so it stays redeliverable")
			for _, e := range a.errs {
				var fe *batch.FlushError
				require.True(t, errors.As(e, &fe), "%v", e)
				assert.Contains(t, e.Error(), "s3://"+bucket+"/ext/f/region=")
				assert.Equal(t, tt.permanent, lakerelay.IsPermanent(e), "%v", e)
			}
			for _, r := range results {
				if tt.permanent {
					assert.Equal(t, 1, r.Attempts, "permanent errors are not retried")
				} else {
					assert.Equal(t, 2, r.Attempts)
				}
			}
		})
	}
}

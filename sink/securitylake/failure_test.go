package securitylake

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/testenv"
	"github.com/lakerelay/lakerelay/sink"
)

// parquetFiles lists the Parquet files under dir.
func parquetFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			out = append(out, p)
		}
		return err
	}))
	return out
}

// onePartition returns n events of one partition and the partition.
func onePartition(t *testing.T, s *Sink, n int) (string, []lakerelay.Record) {
	t.Helper()
	return onePartitionOf(t, s, genEvents(n*30, 31), n)
}

// onePartitionOf returns the first n of events that fall in the partition
// of the first.
func onePartitionOf(t *testing.T, s *Sink, events [][]byte, n int) (string, []lakerelay.Record) {
	t.Helper()
	var part string
	var out []lakerelay.Record
	for i, e := range events {
		r := lakerelay.Record{Data: e, Origin: lakerelay.Origin{Key: "events.json", Index: int64(i)}}
		p, err := s.Partition(r)
		require.NoError(t, err)
		if part == "" {
			part = p
		}
		if p == part {
			out = append(out, r)
		}
		if len(out) == n {
			break
		}
	}
	require.Len(t, out, n)
	return part, out
}

// quarantineLog is a Quarantine that records what it gets.
type quarantineLog struct {
	mu      sync.Mutex
	got     []lakerelay.Record
	reasons []error
	fail    error
}

func (q *quarantineLog) put(r lakerelay.Record, reason error) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return q.fail
	}
	q.got = append(q.got, r)
	q.reasons = append(q.reasons, reason)
	return nil
}

func TestPartitionRejects(t *testing.T) {
	s := newDirSink(t, t.TempDir())
	tests := []struct {
		name, in string
		target   error
		path     string
	}{
		{"other class", `{"class_uid":3002,"time":1,"cloud":{"region":"us-east-1","account":{"uid":"111122223333"}}}`, ErrClass, ""},
		{"no class", `{"time":1,"cloud":{"region":"us-east-1","account":{"uid":"111122223333"}}}`, nil, "class_uid"},
		{"no time", `{"class_uid":6003,"cloud":{"region":"us-east-1","account":{"uid":"111122223333"}}}`, nil, "time"},
		{"time as string", `{"class_uid":6003,"time":"2025-01-01","cloud":{"region":"us-east-1","account":{"uid":"111122223333"}}}`, nil, "time"},
		{"no region, no default", `{"class_uid":6003,"time":1,"cloud":{"account":{"uid":"111122223333"}}}`, nil, "cloud.region"},
		{"bad account", `{"class_uid":6003,"time":1,"cloud":{"region":"us-east-1","account":{"uid":"../../etc"}}}`, nil, "cloud.account.uid"},
		{"bad region", `{"class_uid":6003,"time":1,"cloud":{"region":"us-east-1/../x","account":{"uid":"111122223333"}}}`, nil, "cloud.region"},
		{"not JSON", `not json`, errSyntax, ""},
		{"array", `[]`, errSyntax, ""},
		{"unterminated", `{"class_uid":6003,"time":1,"cloud":{"region":"us-east-1`, errSyntax, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Partition(lakerelay.Record{Data: []byte(tt.in), Origin: lakerelay.Origin{Key: "f.json", Index: 3}})
			require.Error(t, err)
			assert.ErrorIs(t, err, lakerelay.ErrInvalidRecord)
			assert.True(t, lakerelay.IsPermanent(err))
			assert.Contains(t, err.Error(), "f.json#3")
			if tt.target != nil {
				assert.ErrorIs(t, err, tt.target)
			}
			if tt.path != "" {
				var fe *FieldError
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, tt.path, fe.Path)
			}
		})
	}
}

func TestPartitionDefaults(t *testing.T) {
	s := newDirSink(t, t.TempDir(), func(o *Options) { o.Region, o.AccountID = "eu-central-1", "external_acme" })
	p, err := s.Partition(lakerelay.Record{Data: []byte(`{"class_uid":6003,"time":1764633599999}`)})
	require.NoError(t, err)
	assert.Equal(t, "region=eu-central-1/accountId=external_acme/eventDay=20251201/", p)
	p, err = s.Partition(lakerelay.Record{Data: []byte(`{"class_uid":6003,"time":1764633600000,"cloud":{"region":"us-west-2"}}`)})
	require.NoError(t, err)
	assert.Equal(t, "region=us-west-2/accountId=external_acme/eventDay=20251202/", p, "UTC day boundary")
	// The time in the other forms ocsf.EventTime reads.
	p, err = s.Partition(lakerelay.Record{Data: []byte(`{"class_uid":6003,"time":"2025-12-02T00:59:59.999+01:00"}`)})
	require.NoError(t, err)
	assert.Equal(t, "region=eu-central-1/accountId=external_acme/eventDay=20251201/", p, "RFC 3339 with an offset")
	p, err = s.Partition(lakerelay.Record{Data: []byte(`{"class_uid":6003.0,"time":1764633600000.5}`)})
	require.NoError(t, err)
	assert.Equal(t, "region=eu-central-1/accountId=external_acme/eventDay=20251202/", p, "fractional milliseconds")
}

func TestWriteBatchQuarantinesMisfits(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	dir := t.TempDir()
	q := &quarantineLog{}
	s := newDirSink(t, dir, func(o *Options) { o.Quarantine = q.put })
	part, recs := onePartition(t, s, 50)
	wrongType := lakerelay.Record{Data: []byte(strings.Replace(string(recs[0].Data), `"severity_id":1`, `"severity_id":"high"`, 1)), Origin: lakerelay.Origin{Key: "bad", Index: 1}}
	wrongClass := lakerelay.Record{Data: []byte(strings.Replace(string(recs[1].Data), `"class_uid":6003`, `"class_uid":3002`, 1)), Origin: lakerelay.Origin{Key: "bad", Index: 2}}
	otherPart := lakerelay.Record{Data: []byte(strings.Replace(string(recs[2].Data), `"region":"`, `"region":"sa-east-1","x":"`, 1)), Origin: lakerelay.Origin{Key: "bad", Index: 3}}
	batch := append([]lakerelay.Record{wrongType, wrongClass, otherPart}, recs...)
	require.NoError(t, s.WriteBatch(context.Background(), part, batch))

	require.Len(t, q.got, 3)
	byIndex := map[int64]error{}
	for i, r := range q.got {
		byIndex[r.Origin.Index] = q.reasons[i]
		assert.ErrorIs(t, q.reasons[i], lakerelay.ErrInvalidRecord)
	}
	var fe *FieldError
	require.ErrorAs(t, byIndex[1], &fe)
	assert.Equal(t, "severity_id", fe.Path)
	assert.ErrorIs(t, byIndex[2], ErrClass)
	assert.Contains(t, byIndex[3].Error(), "region=sa-east-1")

	files := parquetFiles(t, dir)
	require.Len(t, files, 1)
	rows := testenv.DuckDB(t, "SELECT count(*) AS n FROM read_parquet("+sqlGlob(dir)+")")
	assert.Equal(t, fmt.Sprint(len(recs)), fmt.Sprint(rows[0]["n"]))
}

func TestWriteBatchWithoutQuarantineFailsWholeBatch(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent()) // the upload goroutine is gone
	dir := t.TempDir()
	s := newDirSink(t, dir, func(o *Options) { o.ChunkBytes = 4 << 10 })
	part, recs := onePartition(t, s, 200)
	// The bad record sorts last, so that earlier chunks are already
	// streaming to the store when it is found.
	last := recs[0]
	for _, r := range recs {
		m, err := scanMeta(&scanner{}, r.Data)
		require.NoError(t, err)
		lm, _ := scanMeta(&scanner{}, last.Data)
		if m.time > lm.time {
			last = r
		}
	}
	bad := strings.Replace(string(last.Data), `"activity_id":`, `"activity_id":"one","x":`, 1)
	for i := range recs {
		if &recs[i].Data[0] == &last.Data[0] {
			recs[i] = lakerelay.Record{Data: []byte(bad), Origin: lakerelay.Origin{Key: "in.json", Index: 77}}
		}
	}
	err := s.WriteBatch(context.Background(), part, recs)
	require.Error(t, err)
	assert.ErrorIs(t, err, lakerelay.ErrInvalidRecord)
	assert.True(t, lakerelay.IsPermanent(err))
	assert.Contains(t, err.Error(), "in.json#77")
	assert.Contains(t, err.Error(), "activity_id")
	assert.Empty(t, parquetFiles(t, dir), "no partial object")
}

func TestWriteBatchQuarantineFailure(t *testing.T) {
	dir := t.TempDir()
	q := &quarantineLog{fail: errors.New("disk full")}
	s := newDirSink(t, dir, func(o *Options) { o.Quarantine = q.put })
	part, recs := onePartition(t, s, 10)
	recs[3] = lakerelay.Record{Data: []byte(`{"class_uid":3002,"time":1}`)}
	err := s.WriteBatch(context.Background(), part, recs)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "disk full")
	assert.False(t, lakerelay.IsPermanent(err), "a failed quarantine is retried")
}

func TestWriteBatchAllMisfitsWritesNothing(t *testing.T) {
	dir := t.TempDir()
	q := &quarantineLog{}
	s := newDirSink(t, dir, func(o *Options) { o.Quarantine = q.put })
	part, _ := onePartition(t, s, 1)
	require.NoError(t, s.WriteBatch(context.Background(), part, []lakerelay.Record{{Data: []byte(`{"time":"x"}`)}, {Data: []byte(`{`)}}))
	assert.Len(t, q.got, 2)
	assert.Empty(t, parquetFiles(t, dir))
}

func TestWriteBatchBadPartition(t *testing.T) {
	s := newDirSink(t, t.TempDir())
	for _, p := range []string{"", "region=us-east-1/", "region=../accountId=111122223333/eventDay=20250101/", "region=us-east-1/accountId=1/eventDay=20250101/", "region=us-east-1/accountId=111122223333/eventDay=20251341/"} {
		err := s.WriteBatch(context.Background(), p, []lakerelay.Record{{Data: []byte(`{}`)}})
		require.Error(t, err, p)
		assert.True(t, lakerelay.IsPermanent(err), p)
	}
}

func TestWriteBatchCancelled(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	store, err := sink.NewS3(m.S3(t), bucket)
	require.NoError(t, err)
	s, err := New(store, "s3://"+bucket+"/ext/c/", 6003, func(o *Options) { o.ChunkBytes = 8 << 10 })
	require.NoError(t, err)
	part, recs := onePartition(t, s, 300)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = s.WriteBatch(ctx, part, recs)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	n := 0
	require.NoError(t, store.List(context.Background(), "", func(sink.ObjectInfo) error { n++; return nil }))
	assert.Zero(t, n, "no object after a cancelled write")
}

func TestWriteBatchStoreDown(t *testing.T) {
	m := testenv.NewMinIO(t)
	bucket := m.NewBucket(t)
	client := s3.NewFromConfig(m.Config(t), func(o *s3.Options) { o.UsePathStyle = true })
	store, err := sink.NewS3(client, bucket, func(o *sink.S3Options) { o.MaxAttempts = 2; o.MaxBackoff = 50 * time.Millisecond })
	require.NoError(t, err)
	loc := "s3://" + bucket + "/ext/down/"
	s, err := New(store, loc, 6003)
	require.NoError(t, err)
	part, recs := onePartition(t, s, 20)
	m.Stop()
	err = s.WriteBatch(context.Background(), part, recs)
	require.Error(t, err)
	assert.Contains(t, err.Error(), loc+part, "the error names the object")
	assert.False(t, lakerelay.IsPermanent(err), "a server that is down may come back")
}

func TestWriteBatchAccessDenied(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::` + bucket + `","arn:aws:s3:::` + bucket + `/*"]}]}`
	client := s3.NewFromConfig(m.RestrictedConfig(t, policy), func(o *s3.Options) { o.UsePathStyle = true })
	store, err := sink.NewS3(client, bucket)
	require.NoError(t, err)
	s, err := New(store, "s3://"+bucket+"/ext/denied/", 6003)
	require.NoError(t, err)
	part, recs := onePartition(t, s, 20)
	err = s.WriteBatch(context.Background(), part, recs)
	require.Error(t, err)
	var api smithy.APIError
	require.ErrorAs(t, err, &api)
	assert.Equal(t, "AccessDenied", api.ErrorCode())
	assert.True(t, lakerelay.IsPermanent(err))
}

func TestWriteBatchThrottledThenStored(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	proxy := testenv.NewFaultProxy(t, m.Endpoint)
	cfg := m.Config(t)
	cfg.BaseEndpoint = aws.String(proxy.URL())
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	store, err := sink.NewS3(client, bucket, func(o *sink.S3Options) { o.MaxBackoff = 20 * time.Millisecond })
	require.NoError(t, err)
	s, err := New(store, "s3://"+bucket+"/ext/slow/", 6003)
	require.NoError(t, err)
	part, recs := onePartition(t, s, 20)
	proxy.FailNext(2, 503, "SlowDown")
	require.NoError(t, s.WriteBatch(context.Background(), part, recs))
	rep, err := Lint(context.Background(), store, "s3://"+bucket+"/ext/slow/")
	require.NoError(t, err)
	assert.Empty(t, rep.Findings)
	assert.Equal(t, 20, rep.Rows)
}

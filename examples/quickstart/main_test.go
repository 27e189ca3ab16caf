package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay/internal/program/programtest"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func setEnv(t *testing.T, env []string) {
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, v)
		}
	}
}

// TestQuickstartDeliversAndDeletes runs the quickstart pipeline against MinIO
// and local-aws-sqs: every event lands in Parquet under the Security Lake
// layout, the message is deleted, a record of another class is quarantined,
// and the object is kept unchanged in the --archive.
func TestQuickstartDeliversAndDeletes(t *testing.T) {
	m := testenv.StartMinIO(t)
	q := testenv.StartSQS(t)
	setEnv(t, append(q.Env(), m.Env()...))
	ctx := context.Background()
	in, lake := m.NewBucket(t), m.NewBucket(t)
	queue := q.NewQueue(t, testenv.QueueOptions{VisibilityTimeout: 30 * time.Second, MaxReceiveCount: 3})

	var body bytes.Buffer
	base := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 100; i++ {
		account := []string{"111122223333", "444455556666"}[i%2]
		fmt.Fprintf(&body, `{"class_uid":6003,"category_uid":6,"activity_id":2,"type_uid":600302,"severity_id":1,"time":%d,`+
			`"metadata":{"version":"1.1.0","product":{"name":"CloudTrail","vendor_name":"AWS"}},`+
			`"cloud":{"provider":"AWS","region":"eu-west-1","account":{"uid":%q}},"api":{"operation":"GetObject"}}`+"\n",
			base.Add(time.Duration(i)*time.Second).UnixMilli(), account)
	}
	body.WriteString(`{"class_uid":3002,"time":1,"cloud":{"region":"eu-west-1","account":{"uid":"111122223333"}}}` + "\n")
	key := "ocsf/api activity+1.json"
	_, err := m.S3(t).PutObject(ctx, &s3.PutObjectInput{Bucket: &in, Key: &key, Body: bytes.NewReader(body.Bytes())})
	require.NoError(t, err)
	q.Announce(t, queue.URL, in, key)

	var stderr bytes.Buffer
	archive := t.TempDir()
	// The two objects may still be being written when the program is
	// idle; they must be within --shutdown-timeout. Under the race
	// detector on a loaded machine that once took more than the default
	// 25 s (before securitylake kept its zstd encoders, each object took
	// 8 s), which left one unwritten; this test is about delivery, not
	// that deadline.
	code := run([]string{"--queue-url", queue.URL, "--source-location", "s3://" + lake + "/ext/quickstart/1.0/", "--exit-when-idle", "4s", "--quarantine", "s3://" + lake + "/quarantine/",
		"--archive", archive, "--shutdown-timeout", "3m"}, &stderr)
	require.Equal(t, 0, code, stderr.String())
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	var sum summary
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &sum), stderr.String())
	require.Equal(t, summary{Records: 101, Objects: 2, Quarantined: 1}, sum)

	archived, err := os.ReadFile(filepath.Join(archive, in, key))
	require.NoError(t, err)
	require.Equal(t, body.Bytes(), archived, "the archive holds the object unchanged")

	// The rejected record is in the quarantine, in quarantine's one format.
	entries := programtest.QuarantineEntries(t, m.S3(t), lake, "quarantine/")
	require.Len(t, entries, 1)
	require.Equal(t, key, entries[0].Origin.Key)
	require.Contains(t, entries[0].Reason, "class")

	// Download what was written and read it with DuckDB.
	dir := t.TempDir()
	out, err := m.S3(t).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &lake, Prefix: aws.String("ext/")})
	require.NoError(t, err)
	require.Len(t, out.Contents, 2)
	for _, o := range out.Contents {
		require.True(t, strings.HasPrefix(aws.ToString(o.Key), "ext/quickstart/1.0/region=eu-west-1/accountId="), aws.ToString(o.Key))
		g, err := m.S3(t).GetObject(ctx, &s3.GetObjectInput{Bucket: &lake, Key: o.Key})
		require.NoError(t, err)
		p := filepath.Join(dir, filepath.FromSlash(aws.ToString(o.Key)))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		b, err := io.ReadAll(g.Body)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(p, b, 0o644))
	}
	rows := testenv.DuckDB(t, "SELECT accountId, eventDay, count(*) AS n FROM read_parquet('"+dir+"/**/*.parquet', hive_partitioning=true) GROUP BY ALL ORDER BY ALL")
	require.Equal(t, []map[string]any{
		{"accountId": json.Number("111122223333"), "eventDay": json.Number("20261130"), "n": json.Number("50")},
		{"accountId": json.Number("444455556666"), "eventDay": json.Number("20261130"), "n": json.Number("50")},
	}, rows)

	// The message was deleted: nothing is left to receive.
	r, err := q.Client(t).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queue.URL, WaitTimeSeconds: 1})
	require.NoError(t, err)
	require.Empty(t, r.Messages)
}

func TestQuickstartBadUsage(t *testing.T) {
	var stderr bytes.Buffer
	require.Equal(t, 2, run([]string{"--queue-url", "http://x"}, &stderr))
	require.Contains(t, stderr.String(), "--source-location")
}

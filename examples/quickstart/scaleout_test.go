package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay/internal/testenv"
)

// TestThreeProcessesOneLocation runs three quickstart processes on one
// queue, all writing to one Security Lake location: every record is stored
// exactly once, and no object key collides (each process names its objects
// with its own unique ids, so the objects listed are as many as the three
// wrote together).
func TestThreeProcessesOneLocation(t *testing.T) {
	m := testenv.StartMinIO(t)
	q := testenv.StartSQS(t)
	ctx := context.Background()
	in, lake := m.NewBucket(t), m.NewBucket(t)
	queue := q.NewQueue(t, testenv.QueueOptions{VisibilityTimeout: 30 * time.Second})
	const objects, per = 24, 25
	base := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for o := range objects {
		var body bytes.Buffer
		for i := range per {
			fmt.Fprintf(&body, `{"class_uid":6003,"category_uid":6,"activity_id":2,"type_uid":600302,"severity_id":1,"time":%d,`+
				`"metadata":{"version":"1.1.0","product":{"name":"p","vendor_name":"v"}},"cloud":{"provider":"AWS","region":"eu-west-1","account":{"uid":"111122223333"}},"api":{"operation":"op-%d-%d"}}`+"\n",
				base.Add(time.Duration(i)*time.Second).UnixMilli(), o, i)
		}
		key := fmt.Sprintf("in/%02d.json", o)
		_, err := m.S3(t).PutObject(ctx, &s3.PutObjectInput{Bucket: &in, Key: &key, Body: bytes.NewReader(body.Bytes())})
		require.NoError(t, err)
	}
	bin := testenv.Program(t)
	env := append(append(os.Environ(), q.Env()...), m.Env()...)
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for range 3 {
		cmd := exec.Command(bin, "--queue-url", queue.URL, "--source-location", "s3://"+lake+"/ext/scale/", "--exit-when-idle", "4s")
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		cmds, outs = append(cmds, cmd), append(outs, &stderr)
	}
	for o := range objects {
		q.Announce(t, queue.URL, in, fmt.Sprintf("in/%02d.json", o))
	}
	var written, records int64
	for i, cmd := range cmds {
		require.NoError(t, cmd.Wait(), outs[i].String())
		lines := strings.Split(strings.TrimSpace(outs[i].String()), "\n")
		var sum summary
		require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &sum))
		t.Logf("process %d: %+v", i, sum)
		written += sum.Objects
		records += sum.Records
	}
	require.Equal(t, int64(objects*per), records, "every record read once")

	dir := t.TempDir()
	out, err := m.S3(t).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &lake})
	require.NoError(t, err)
	require.Len(t, out.Contents, int(written), "as many objects as the processes wrote: no key collided")
	for _, o := range out.Contents {
		g, err := m.S3(t).GetObject(ctx, &s3.GetObjectInput{Bucket: &lake, Key: o.Key})
		require.NoError(t, err)
		p := filepath.Join(dir, filepath.FromSlash(aws.ToString(o.Key)))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		var b bytes.Buffer
		_, err = b.ReadFrom(g.Body)
		g.Body.Close()
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(p, b.Bytes(), 0o644))
	}
	rows := testenv.DuckDB(t, "SELECT count(*) AS n, count(DISTINCT api.operation) AS d FROM read_parquet('"+dir+"/**/*.parquet', hive_partitioning=true)")
	require.Equal(t, []map[string]any{{"n": json.Number(fmt.Sprint(objects * per)), "d": json.Number(fmt.Sprint(objects * per))}}, rows)
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay/internal/program/programtest"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

// TestKilledAfterQuarantineLosesNothing kills the program (SIGKILL) right
// after records were quarantined to s3://…, while the other records of
// their objects still wait in open batches, then runs it again. Every
// quarantined record is in the quarantine store, as often as it was
// acknowledged (a record is acknowledged only once its entry is durable:
// the entries are those stored before the kill plus one per record the
// second run acknowledged), every record of the routed
// class is in Parquet, and every message was deleted only once all of its
// records were stored or quarantined.
func TestKilledAfterQuarantineLosesNothing(t *testing.T) {
	m := testenv.StartMinIO(t)
	client := m.S3(t)
	logs, lake, qb := m.NewBucket(t), m.NewBucket(t), m.NewBucket(t)
	q := testenv.StartSQS(t)
	queue := q.NewQueue(t, testenv.QueueOptions{VisibilityTimeout: 2 * time.Second})
	sqsc := q.Client(t)
	ctx := context.Background()

	const objects, perClass = 6, 10
	base := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC).UnixMilli()
	wantQuarantined := map[string]bool{} // key#index
	for o := range objects {
		var body bytes.Buffer
		key := fmt.Sprintf("ocsf/%d.json", o)
		for i := range 2 * perClass {
			if i%2 == 0 {
				fmt.Fprintf(&body, `{"class_uid":6003,"category_uid":6,"activity_id":2,"type_uid":600302,"severity_id":1,"time":%d,`+
					`"metadata":{"version":"1.1.0","product":{"name":"p","vendor_name":"v"}},"cloud":{"provider":"AWS","region":"eu-west-1","account":{"uid":"111122223333"}},"api":{"operation":"Op%d"}}`+"\n", base+int64(i), i)
				continue
			}
			fmt.Fprintf(&body, `{"class_uid":3002,"time":%d,"cloud":{"region":"eu-west-1","account":{"uid":"111122223333"}}}`+"\n", base+int64(i))
			wantQuarantined[fmt.Sprintf("%s#%d", key, i)] = true
		}
		_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &logs, Key: &key, Body: bytes.NewReader(body.Bytes())})
		require.NoError(t, err)
		q.Announce(t, queue.URL, logs, key)
	}
	env := append(append(os.Environ(), q.Env()...), m.Env()...)
	args := []string{"--queue-url", queue.URL, "--mapper", "none", "--source-location", "6003=s3://" + lake + "/ext/api/",
		"--quarantine", "s3://" + qb + "/quarantine/"}

	// First run: batches wait a minute, so no message can be deleted;
	// quarantined records are acknowledged as soon as their entries are
	// stored. Kill it as soon as the first entries are there.
	dir := t.TempDir()
	cmd := exec.Command(build(t), append(args, "--batch-age", "1m")...)
	cmd.Dir, cmd.Env = dir, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &qb})
		require.NoError(t, err)
		if len(out.Contents) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no quarantine entry after 30s\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Kill())
	cmd.Wait()
	firstRun := len(programtest.QuarantineEntries(t, client, qb, "quarantine/"))
	require.Positive(t, firstRun)

	// Second run, after the messages' visibility timeout: everything is
	// redelivered and delivered.
	res := runProg(t, dir, env, append(args, "--batch-age", "1s", "--exit-when-idle", "5s")...)
	require.Equal(t, 0, res.code, res.stderr)

	counts := map[string]int{}
	entries := programtest.QuarantineEntries(t, client, qb, "quarantine/")
	for _, e := range entries {
		assert.Equal(t, logs, e.Origin.Bucket)
		assert.Contains(t, e.Reason, "class_uid 3002 has no source location")
		counts[fmt.Sprintf("%s#%d", e.Origin.Key, e.Origin.Index)]++
	}
	for k := range wantQuarantined {
		assert.GreaterOrEqual(t, counts[k], 1, "quarantined record %s is in the quarantine", k)
	}
	assert.Len(t, counts, len(wantQuarantined), "only the records of the unrouted class are quarantined")
	// As often as acknowledged: the entries stored before the kill (each
	// acknowledged, if at all, only after it was stored) plus one per
	// record the second run quarantined and acknowledged.
	assert.Equal(t, firstRun+num(res.summary["quarantined"]), len(entries), "entries = first run's + second run's acknowledged")
	assert.GreaterOrEqual(t, num(res.summary["quarantined"]), len(wantQuarantined), "the second run quarantined every redelivered record")
	t.Logf("quarantine entries: %d after the kill, %d records quarantined at least once", firstRun, len(counts))

	local := t.TempDir()
	require.Positive(t, download(t, client, lake, "ext/api/", local))
	assert.Equal(t, objects*perClass, duckCount(t, filepath.Join(local, "ext/api/**/*.parquet")), "every routed record is stored exactly once")

	// Every message was deleted: nothing is left.
	attrs, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &queue.URL,
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	require.NoError(t, err)
	for name, v := range attrs.Attributes {
		assert.Equal(t, "0", v, name)
	}
}

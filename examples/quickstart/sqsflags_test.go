package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay/internal/program/programtest"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

// TestQuickstartMaxReceiveCount: with --max-receive-count 1, a message
// whose object keeps failing (it does not exist) is quarantined with the
// reason at its second receive, and the message is then deleted.
func TestQuickstartMaxReceiveCount(t *testing.T) {
	m := testenv.StartMinIO(t)
	q := testenv.StartSQS(t)
	setEnv(t, append(q.Env(), m.Env()...))
	in, lake := m.NewBucket(t), m.NewBucket(t)
	queue := q.NewQueue(t, testenv.QueueOptions{VisibilityTimeout: 5 * time.Second})
	q.Announce(t, queue.URL, in, "mr/missing.json")

	var stderr bytes.Buffer
	qfile := filepath.Join(t.TempDir(), "q.ndjson")
	code := run([]string{"--queue-url", queue.URL, "--source-location", "s3://" + lake + "/ext/quickstart/1.0/",
		"--max-receive-count", "1", "--quarantine", qfile, "--exit-when-idle", "9s"}, &stderr)
	// The failed fetch at the first receive is an error of the run (exit 1);
	// the second receive sets the message aside.
	require.Equal(t, 1, code, stderr.String())
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	var sum summary
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &sum), stderr.String())
	require.Equal(t, summary{Quarantined: 1, Errors: 1}, sum, stderr.String())

	f, err := os.Open(qfile)
	require.NoError(t, err)
	defer f.Close()
	programtest.SetAside(t, programtest.Decode(t, f, qfile), in, "mr/missing.json", testenv.S3Notification(in, "mr/missing.json"), 1)
	programtest.QueueEmpty(t, q.Client(t), queue.URL)
}

func TestQuickstartSQSFlagsBadUsage(t *testing.T) {
	const want = "quickstart: --max-receive-count needs --queue-url, --quarantine and a positive count"
	for _, args := range [][]string{
		{"--max-receive-count", "2"}, // no --quarantine
		{"--max-receive-count", "-1", "--quarantine", "q.ndjson"},
	} {
		var stderr bytes.Buffer
		args = append([]string{"--queue-url", "http://127.0.0.1:1/123456789012/q", "--source-location", "s3://b/ext/s/"}, args...)
		require.Equal(t, 2, run(args, &stderr), stderr.String())
		require.Contains(t, stderr.String(), want)
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		require.JSONEq(t, `{"records":0,"objects":0,"quarantined":0,"nacked":0,"errors":0,"drop_offs":0}`, lines[len(lines)-1], "the last line is the summary")
	}
}

// TestQuickstartOutsideLocation: a quarantine or archive under the source
// location is refused before anything runs.
func TestQuickstartOutsideLocation(t *testing.T) {
	for flag, loc := range map[string]string{"--quarantine": "s3://b/ext/s/quarantine/", "--archive": "s3://b/ext/s/raw"} {
		var stderr bytes.Buffer
		args := []string{"--queue-url", "http://127.0.0.1:1/123456789012/q", "--source-location", "s3://b/ext/s/", flag, loc}
		require.Equal(t, 2, run(args, &stderr), stderr.String())
		require.Contains(t, stderr.String(), "quickstart: "+flag+" "+loc+" is inside the source location s3://b/ext/s/")
	}
}

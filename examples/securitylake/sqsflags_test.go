package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay/internal/program/programtest"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

// TestMaxReceiveCount: with --max-receive-count 1, a message whose object
// keeps failing (it does not exist) is quarantined with the reason at its
// second receive, in the default quarantine, and the message is then
// deleted.
func TestMaxReceiveCount(t *testing.T) {
	m := testenv.StartMinIO(t)
	q := testenv.StartSQS(t)
	queue := q.NewQueue(t, testenv.QueueOptions{VisibilityTimeout: 5 * time.Second})
	logs := m.NewBucket(t)
	q.Announce(t, queue.URL, logs, "mr/missing.json.gz")

	// No --quarantine: the program's default quarantine file takes the
	// message's objects.
	dir := t.TempDir()
	qfile := filepath.Join(dir, defaultQuarantine)
	res := runProg(t, dir, append(q.Env(), m.Env()...), "--queue-url", queue.URL, "--max-receive-count", "1",
		"--out-dir", filepath.Join(dir, "lake"), "--exit-when-idle", "9s")
	// The failed fetch at the first receive is an error of the run (exit 1);
	// the second receive sets the message aside.
	assert.Equal(t, 1, res.code, res.stderr)
	assert.Equal(t, 1, num(res.summary["errors"]), res.stderr)
	assert.Equal(t, 1, num(res.summary["quarantined"]), res.stderr)
	assert.Equal(t, 0, num(res.summary["records"]), res.stderr)

	f, err := os.Open(qfile)
	require.NoError(t, err)
	defer f.Close()
	programtest.SetAside(t, programtest.Decode(t, f, qfile), logs, "mr/missing.json.gz", testenv.S3Notification(logs, "mr/missing.json.gz"), 1)
	programtest.QueueEmpty(t, q.Client(t), queue.URL)
}

func TestSQSFlagsBadUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-receive-count", "2"}, "--max-receive-count needs --queue-url, --quarantine and a positive count"},
		{[]string{"--queue-url", "https://sqs.us-east-1.amazonaws.com/123456789012/q", "--max-receive-count", "-1"}, "--max-receive-count needs --queue-url, --quarantine and a positive count"},
		{[]string{"--input", "x", "--confirm-subscriptions"}, "--confirm-subscriptions needs --queue-url"},
	} {
		res := runProg(t, dir, nil, tc.args...)
		assert.Equal(t, 2, res.code, "%v: %s", tc.args, res.stderr)
		assert.Contains(t, res.stderr, "securitylake: "+tc.want, tc.args)
		assert.Contains(t, res.summary["error"], tc.want, tc.args)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "bad usage writes nothing: %v", entries)
}

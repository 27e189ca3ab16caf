package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakerelay/lakerelay/internal/program/programtest"
)

// metricsAddr waits for the "serving metrics" log line and returns the
// address the program listens on (it was given 127.0.0.1:0).
func metricsAddr(t *testing.T, stderr *lockedBuffer) string {
	t.Helper()
	re := regexp.MustCompile(`msg="serving metrics" .*addr=(127\.0\.0\.1:\d+)`)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			return m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no metrics address logged:\n%s", stderr)
	return ""
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// until polls cond every 50 ms for up to d.
func until(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCollectMetricsAndHealth scrapes /metrics while collect reads a queue:
// 200 with the lakerelay_* series and records in counted; /healthz is 200
// while it runs and 503 once the queue was deleted (the source's receive
// fails for good), and the program exits 1.
func TestCollectMetricsAndHealth(t *testing.T) {
	e := newAWSEnv(t)
	cmd, stdout, stderr := start(t, e.env, "--queue-url", e.queue.URL, "--metrics-addr", "127.0.0.1:0", "--metrics-linger", "20s")
	addr := metricsAddr(t, stderr)
	for i := range 3 {
		key := fmt.Sprintf("m/%d.ndjson", i)
		e.put(t, key, []byte(fmt.Sprintf("{\"n\":%d}\n{\"n\":%d}\n", 2*i, 2*i+1)))
		e.notify(t, key)
	}
	until(t, 30*time.Second, "6 records out", func() bool { return strings.Count(stdout.String(), "\n") == 6 })
	code, body := get(t, "http://"+addr+"/metrics")
	if code != 200 || !strings.Contains(body, `lakerelay_records_in_total{source="collect"} 6`) ||
		!strings.Contains(body, `lakerelay_bytes_in_total{source="collect"} 42`) || !strings.Contains(body, `lakerelay_source_up{source="collect"} 1`) {
		t.Fatalf("/metrics %d:\n%s", code, body)
	}
	if code, body := get(t, "http://"+addr+"/healthz"); code != 200 {
		t.Fatalf("/healthz %d while running: %s", code, body)
	}

	if _, err := e.sqsc.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: &e.queue.URL}); err != nil {
		t.Fatal(err)
	}
	// The source's own failure makes /healthz 503 first ("source ... ended
	// with a fatal error"); the program adds the error itself once the run
	// has ended, which under load may take a moment longer.
	var health string
	until(t, 40*time.Second, "/healthz 503 naming the cause after the queue was deleted", func() bool {
		var c int
		c, health = get(t, "http://"+addr+"/healthz")
		return c == http.StatusServiceUnavailable && strings.Contains(health, "NonExistentQueue")
	})
	if _, body := get(t, "http://"+addr+"/metrics"); !strings.Contains(body, `lakerelay_source_up{source="collect"} 0`) {
		t.Errorf("/metrics after the failure:\n%s", body)
	}
	r := wait(t, cmd, stdout, stderr)
	if r.code != 1 || r.summary["records"] != 6 {
		t.Fatalf("exit %d summary %v\n%s", r.code, r.summary, r.stderr)
	}
}

// TestCollectDropOff: --drop-off 2s on an idle queue warns once the queue
// sent nothing for 2 s, says when records resume, and counts the drop-offs
// in the summary.
func TestCollectDropOff(t *testing.T) {
	e := newAWSEnv(t)
	cmd, stdout, stderr := start(t, e.env, "--queue-url", e.queue.URL, "--drop-off", "2s", "--exit-when-idle", "4s", "--log-format", "json")
	until(t, 20*time.Second, "drop-off warning", func() bool { return strings.Contains(stderr.String(), `"msg":"drop-off: no record"`) })
	e.put(t, "d/1.ndjson", []byte("{\"a\":1}\n"))
	e.notify(t, "d/1.ndjson")
	r := wait(t, cmd, stdout, stderr)
	if r.code != 0 || r.summary["records"] != 1 || r.summary["drop_offs"] < 1 {
		t.Fatalf("exit %d summary %v\n%s", r.code, r.summary, r.stderr)
	}
	for _, want := range []string{`"level":"WARN","msg":"drop-off: no record","program":"collect","source":"collect"`, `"level":"WARN","msg":"records resumed"`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %s:\n%s", want, r.stderr)
		}
	}
}

// TestCollectQuarantineS3 sends invalid records to --quarantine
// s3://bucket/prefix, in quarantine's format.
func TestCollectQuarantineS3(t *testing.T) {
	e := newAWSEnv(t)
	qb := e.minio.NewBucket(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.ndjson"), []byte("{\"a\":1}\nnot json\n{\"a\":2}\n"), 0o644)
	r := runCollect(t, append(os.Environ(), e.env...), "--dir", dir, "--stream-type", "ndjson", "--quarantine", "s3://"+qb+"/q/collect")
	if r.code != 0 || len(r.lines()) != 2 || r.summary["quarantined"] != 1 {
		t.Fatalf("exit %d summary %v\n%s", r.code, r.summary, r.stderr)
	}
	entries := programtest.QuarantineEntries(t, e.s3c, qb, "q/collect/")
	if len(entries) != 1 || string(entries[0].Data) != `"not json"` || entries[0].Origin.Index != 1 || entries[0].Origin.Key != filepath.Join(dir, "x.ndjson") {
		t.Fatalf("entries %+v", entries)
	}
}

// TestCollectThreeProcessesOneQueue runs three collect processes on one
// queue: every record arrives, exactly once (each message is taken by one
// process and deleted after its records were written).
func TestCollectThreeProcessesOneQueue(t *testing.T) {
	e := newAWSEnv(t)
	const objects, per = 30, 20
	var want []string
	for o := range objects {
		var b strings.Builder
		for i := range per {
			line := fmt.Sprintf(`{"o":%d,"i":%d}`, o, i)
			b.WriteString(line + "\n")
			want = append(want, line)
		}
		key := fmt.Sprintf("s/%02d.ndjson", o)
		e.put(t, key, []byte(b.String()))
	}
	type proc struct {
		cmd            *exec.Cmd
		stdout, stderr *lockedBuffer
	}
	var procs []proc
	for range 3 {
		c, o, er := start(t, e.env, "--queue-url", e.queue.URL, "--exit-when-idle", "4s", "--workers", "2")
		procs = append(procs, proc{c, o, er})
	}
	for o := range objects {
		e.notify(t, fmt.Sprintf("s/%02d.ndjson", o))
	}
	var got []string
	for i, p := range procs {
		r := wait(t, p.cmd, p.stdout, p.stderr)
		if r.code != 0 {
			t.Fatalf("process %d: exit %d\n%s", i, r.code, r.stderr)
		}
		t.Logf("process %d: %d messages, %d records", i, r.summary["messages"], r.summary["records"])
		got = append(got, r.lines()...)
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got %d records, want %d, each once", len(got), len(want))
	}
	if left := e.remaining(t, 2*time.Second); len(left) != 0 {
		t.Fatalf("messages left: %v", left)
	}
}

// TestCollectSQSLag scrapes lakerelay_sqs_lag_seconds while a message is
// held in flight (its records wait on a standard output nobody reads yet):
// the lag is positive and grows between two scrapes, and falls to 0 once
// the message was deleted.
func TestCollectSQSLag(t *testing.T) {
	e := newAWSEnv(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	cmd := exec.Command(build(t), "--queue-url", e.queue.URL, "--metrics-addr", "127.0.0.1:0", "--exit-when-idle", "3s")
	cmd.Env = e.env
	var stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = pw, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close() // the child holds the write end
	addr := metricsAddr(t, &stderr)
	// More than a pipe buffer of output: the program blocks writing it.
	var obj strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&obj, "{\"n\":%d,\"pad\":\"%s\"}\n", i, strings.Repeat("x", 40))
	}
	e.put(t, "lag/1.ndjson", []byte(obj.String()))
	e.notify(t, "lag/1.ndjson")

	re := regexp.MustCompile(`(?m)^lakerelay_sqs_lag_seconds\{source="collect"\} (\S+)$`)
	lag := func() float64 {
		_, body := get(t, "http://"+addr+"/metrics")
		m := re.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no lag gauge in /metrics:\n%s", body)
		}
		var v float64
		fmt.Sscan(m[1], &v)
		return v
	}
	var first float64
	until(t, 20*time.Second, "a positive lag", func() bool { first = lag(); return first > 0 })
	var second float64
	until(t, 20*time.Second, "a growing lag", func() bool { second = lag(); return second > first })
	t.Logf("lag %.2fs, then %.2fs", first, second)

	lines := make(chan int, 1)
	go func() {
		b, _ := io.ReadAll(pr)
		lines <- strings.Count(string(b), "\n")
	}()
	until(t, 30*time.Second, "lag back to 0", func() bool { return lag() == 0 })
	r := wait(t, cmd, new(lockedBuffer), &stderr) // standard output went to the pipe
	if n := <-lines; r.code != 0 || n != 20000 || r.summary["records"] != 20000 {
		t.Fatalf("exit %d, %d lines, summary %v\n%s", r.code, n, r.summary, r.stderr)
	}
}

// TestCollectArchive: with --archive every object read is copied, byte
// for byte, to {archive}/{bucket}/{key} (server-side to S3, streamed to a
// directory) before its message is deleted; an archive write that is
// denied fails the object, whose message stays in the queue.
func TestCollectArchive(t *testing.T) {
	build(t) // once, for the subtests
	e := newAWSEnv(t)
	objects := map[string][]byte{
		"arch/a.json.gz":       gzipped(t, "{\"n\":1}\n{\"n\":2}\n"),
		"arch/b c+d.ndjson":    []byte("{\"n\":3}\n"),
		"arch/trail/t.json.gz": gzipped(t, `{"Records":[{"eventName":"A"},{"eventName":"B"}]}`),
	}
	send := func() {
		for k, v := range objects {
			e.put(t, k, v)
			e.notify(t, k)
		}
	}
	ab := e.minio.NewBucket(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name, archive string
		read          func(t *testing.T, key string) []byte
	}{
		{"s3", "s3://" + ab + "/raw", func(t *testing.T, key string) []byte {
			k := "raw/" + e.bucket + "/" + key
			out, err := e.s3c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &ab, Key: &k})
			if err != nil {
				t.Fatalf("archive %s: %v", k, err)
			}
			defer out.Body.Close()
			b, _ := io.ReadAll(out.Body)
			return b
		}},
		{"dir", dir, func(t *testing.T, key string) []byte {
			b, err := os.ReadFile(filepath.Join(dir, e.bucket, key))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			send()
			r := runCollect(t, e.env, "--queue-url", e.queue.URL, "--archive", tc.archive, "--exit-when-idle", "3s")
			if r.code != 0 || len(r.lines()) != 5 || r.summary["errors"] != 0 {
				t.Fatalf("exit %d summary %v\n%s", r.code, r.summary, r.stderr)
			}
			for k, v := range objects {
				if got := tc.read(t, k); !bytes.Equal(got, v) {
					t.Errorf("archive of %s: %d bytes, want the %d bytes of the object", k, len(got), len(v))
				}
			}
			if left := e.remaining(t, 2*time.Second); len(left) != 0 {
				t.Errorf("%d messages left in the queue", len(left))
			}
		})
	}

	t.Run("denied", func(t *testing.T) {
		// Credentials that may read the objects but write nowhere.
		ak, sk, token := e.minio.AssumeRole(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::*"]}]}`)
		env := append(append([]string{}, e.env...), "AWS_ACCESS_KEY_ID="+ak, "AWS_SECRET_ACCESS_KEY="+sk, "AWS_SESSION_TOKEN="+token)
		e.put(t, "arch/denied.ndjson", []byte("{\"n\":9}\n"))
		e.notify(t, "arch/denied.ndjson")
		r := runCollect(t, env, "--queue-url", e.queue.URL, "--archive", "s3://"+ab+"/denied", "--exit-when-idle", "3s")
		if r.code != 1 || len(r.lines()) != 0 || r.summary["errors"] < 1 {
			t.Fatalf("exit %d summary %v\n%s", r.code, r.summary, r.stderr)
		}
		if !strings.Contains(r.stderr, "AccessDenied") || !strings.Contains(r.stderr, "arch/denied.ndjson") {
			t.Errorf("stderr does not name the object and the denial:\n%s", r.stderr)
		}
		left := e.remaining(t, 8*time.Second)
		if len(left) != 1 || !strings.Contains(left[0], "arch/denied.ndjson") {
			t.Fatalf("messages left %q, want the denied object's", left)
		}
	})
}

// TestCollectMaxReceiveCount: with --max-receive-count 1, a message whose
// object keeps failing (it does not exist) is quarantined with the reason
// at its second receive and deleted.
func TestCollectMaxReceiveCount(t *testing.T) {
	e := newAWSEnv(t)
	e.notify(t, "mr/missing.ndjson")
	qfile := filepath.Join(t.TempDir(), "q.ndjson")
	r := runCollect(t, e.env, "--queue-url", e.queue.URL, "--max-receive-count", "1", "--quarantine", qfile, "--exit-when-idle", "9s")
	// The first receive's failure to read the object is counted: exit 1,
	// as securitylake and quickstart.
	if r.code != 1 || len(r.lines()) != 0 || r.summary["quarantined"] != 1 || r.summary["errors"] < 1 {
		t.Fatalf("exit %d summary %v\n%s", r.code, r.summary, r.stderr)
	}
	data, err := os.ReadFile(qfile)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "\n"); n != 1 || !strings.Contains(string(data), "mr/missing.ndjson") || !strings.Contains(string(data), "receive") {
		t.Fatalf("quarantine:\n%s", data)
	}
	if left := e.remaining(t, 2*time.Second); len(left) != 0 {
		t.Fatalf("messages left: %q", left)
	}
	bad := runCollect(t, e.env, "--queue-url", e.queue.URL, "--max-receive-count", "2")
	if bad.code != 2 || !strings.Contains(bad.stderr, "--max-receive-count needs") {
		t.Fatalf("without --quarantine: exit %d\n%s", bad.code, bad.stderr)
	}
	if bad := runCollect(t, e.env, "--dir", t.TempDir(), "--confirm-subscriptions"); bad.code != 2 || !strings.Contains(bad.stderr, "--confirm-subscriptions needs --queue-url") {
		t.Fatalf("--confirm-subscriptions with --dir: exit %d\n%s", bad.code, bad.stderr)
	}
}

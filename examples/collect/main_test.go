package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/klauspost/compress/gzip"

	"github.com/lakerelay/lakerelay/internal/program/programtest"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var (
	buildMu sync.Mutex
	builds  = map[string]string{} // top-level test name → binary
)

// build compiles the program into the test's temporary directory, once per
// top-level test (subtests reuse their parent's binary).
func build(t *testing.T) string {
	t.Helper()
	top, _, _ := strings.Cut(t.Name(), "/")
	buildMu.Lock()
	defer buildMu.Unlock()
	if bin, ok := builds[top]; ok {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "collect")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	builds[top] = bin
	return bin
}

type runResult struct {
	code           int
	stdout, stderr string
	summary        map[string]int64
}

func (r runResult) lines() []string {
	s := strings.TrimSuffix(r.stdout, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// lockedBuffer is a bytes.Buffer safe to read while the child writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func start(t *testing.T, env []string, args ...string) (*exec.Cmd, *lockedBuffer, *lockedBuffer) {
	t.Helper()
	cmd := exec.Command(build(t), args...)
	cmd.Env = env
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stdout, &stderr
}

func wait(t *testing.T, cmd *exec.Cmd, stdout, stderr *lockedBuffer) runResult {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("collect did not exit; stderr:\n%s", stderr)
	}
	r := runResult{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
	errLines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	last := errLines[len(errLines)-1]
	if err := json.Unmarshal([]byte(last), &r.summary); err != nil {
		t.Fatalf("last stderr line is not a JSON summary: %q\n%s", last, r.stderr)
	}
	for _, k := range []string{"messages", "objects", "records", "skipped", "quarantined", "errors"} {
		if _, ok := r.summary[k]; !ok {
			t.Fatalf("summary %q lacks %s", last, k)
		}
	}
	return r
}

func runCollect(t *testing.T, env []string, args ...string) runResult {
	t.Helper()
	cmd, o, e := start(t, env, args...)
	return wait(t, cmd, o, e)
}

func gzipped(t *testing.T, s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func TestCollectDir(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "app"), 0o755)
	os.WriteFile(filepath.Join(dir, "app", "a.log"), []byte("plain <text> & \"quotes\"\n{\"json\": \"line\"}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "trail.json.gz"), gzipped(t, "{\n  \"Records\": [\n    {\"eventName\": \"GetObject\"},\n    {\"eventName\": \"PutObject\"}\n  ]\n}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "z.ndjson"), []byte("{\"a\":1}\nbroken line\n{\"b\":2}\n"), 0o644)
	qfile := filepath.Join(t.TempDir(), "quarantine.jsonl")

	r := runCollect(t, os.Environ(), "--dir", dir, "--log-type", "app/=application", "--quarantine", qfile)
	want := []string{`"plain <text> & \"quotes\""`, `{"json":"line"}`, `{"eventName":"GetObject"}`, `{"eventName":"PutObject"}`, `{"a":1}`, `{"b":2}`}
	if r.code != 0 || strings.Join(r.lines(), "\n") != strings.Join(want, "\n") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if r.summary["records"] != 6 || r.summary["objects"] != 3 || r.summary["quarantined"] != 1 || r.summary["errors"] != 0 {
		t.Fatalf("summary %v", r.summary)
	}
	q, err := os.Open(qfile)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	entries := programtest.Decode(t, q, qfile)
	if len(entries) != 1 || string(entries[0].Data) != `"broken line"` || entries[0].Origin.Index != 1 || entries[0].Origin.Offset != 8 ||
		entries[0].Origin.Key != filepath.Join(dir, "z.ndjson") || !strings.Contains(entries[0].Reason, "invalid") {
		t.Fatalf("quarantine entries %+v", entries)
	}

	r = runCollect(t, os.Environ(), "--dir", filepath.Join(dir, "app"), "--with-origin", "--log-type", "a.=application")
	lines := r.lines()
	wantKey := filepath.Join(dir, "app", "a.log")
	if r.code != 0 || len(lines) != 2 {
		t.Fatalf("exit %d stdout %s", r.code, r.stdout)
	}
	for i, l := range lines {
		var v map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatal(err)
		}
		exp := fmt.Sprintf(`{"bucket":"","key":%q,"index":%d,"log_type":"application","data":%s}`, wantKey, i, want[i])
		if l != exp {
			t.Fatalf("line %d\n got %s\nwant %s", i, l, exp)
		}
	}

	// Without a quarantine the invalid record is an error naming the file,
	// and the run fails.
	r = runCollect(t, os.Environ(), "--dir", filepath.Join(dir, "z.ndjson"))
	if r.code != 1 || r.summary["errors"] != 1 || !strings.Contains(r.stderr, filepath.Join(dir, "z.ndjson")) || len(r.lines()) != 2 {
		t.Fatalf("exit %d summary %v stderr %s", r.code, r.summary, r.stderr)
	}
}

func TestCollectUsage(t *testing.T) {
	build(t) // in the parent's directory, shared by the subtests
	for name, args := range map[string][]string{
		"no-source":        {},
		"two-sources":      {"--dir", ".", "--bucket", "b"},
		"bad-stream-type":  {"--dir", ".", "--stream-type", "csv"},
		"bad-log-type":     {"--dir", ".", "--log-type", "noequals"},
		"prefix-no-bucket": {"--dir", ".", "--prefix", "p"},
		"idle-no-queue":    {"--dir", ".", "--exit-when-idle", "1s"},
		"unknown-flag":     {"--nope"},
		"positional":       {"--dir", ".", "extra"},
		"expand-lines":     {"--dir", ".", "--stream-type", "lines", "--expand-field", "Records"},
		"bad-role":         {"--bucket", "b", "--role-arn", "nope"},
		"workers":          {"--queue-url", "http://x", "--workers", "0"},
		"bad-preset":       {"--dir", ".", "--preset", "splunk"},
	} {
		t.Run(name, func(t *testing.T) {
			r := runCollect(t, os.Environ(), args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2\n%s", r.code, r.stderr)
			}
		})
	}
}

type awsEnv struct {
	minio  *testenv.MinIO
	sqs    *testenv.SQS
	s3c    *s3.Client
	sqsc   *sqs.Client
	bucket string
	queue  testenv.Queue
	env    []string
}

func newAWSEnv(t *testing.T) *awsEnv {
	m := testenv.StartMinIO(t)
	q := testenv.StartSQS(t)
	e := &awsEnv{minio: m, sqs: q, s3c: m.S3(t), sqsc: q.Client(t), bucket: m.NewBucket(t),
		queue: q.NewQueue(t, testenv.QueueOptions{VisibilityTimeout: 5 * time.Second})}
	e.env = append(q.Env(), m.Env()...)
	return e
}

func (e *awsEnv) put(t *testing.T, key string, data []byte) {
	t.Helper()
	if _, err := e.s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &e.bucket, Key: &key, Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
}

func (e *awsEnv) notify(t *testing.T, key string) {
	t.Helper()
	k := strings.ReplaceAll(url.QueryEscape(key), "%2F", "/")
	body := `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"` + e.bucket + `"},"object":{"key":"` + k + `","size":1}}}]}`
	if _, err := e.sqsc.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &e.queue.URL, MessageBody: &body}); err != nil {
		t.Fatal(err)
	}
}

// remaining receives the messages that become visible within d.
func (e *awsEnv) remaining(t *testing.T, d time.Duration) []string {
	var bodies []string
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		out, err := e.sqsc.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &e.queue.URL, MaxNumberOfMessages: 1, WaitTimeSeconds: 1, VisibilityTimeout: 60})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
		}
	}
	return bodies
}

const cwData = `{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/f","logStream":"s1","subscriptionFilters":["f"],"logEvents":[{"id":"e1","timestamp":1700000000000,"message":"{\"level\": \"info\"}"},{"id":"e2","timestamp":1700000000001,"message":"plain message"}]}`

func TestCollectQueue(t *testing.T) {
	e := newAWSEnv(t)
	e.put(t, "app/a b+c=é.json.gz", gzipped(t, "{\"n\":1}\n{\"n\":2}\n"))
	e.put(t, "cw/firehose-1", gzipped(t, cwData))
	e.notify(t, "app/a b+c=é.json.gz")
	e.notify(t, "cw/firehose-1")
	e.notify(t, "app/missing.gz")

	r := runCollect(t, e.env, "--queue-url", e.queue.URL, "--with-origin", "--log-type", "app/=application", "--exit-when-idle", "3s", "--workers", "2")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (an object is missing)\n%s", r.code, r.stderr)
	}
	got := map[string]bool{}
	for _, l := range r.lines() {
		got[l] = true
	}
	for _, w := range []string{
		`{"bucket":"` + e.bucket + `","key":"app/a b+c=é.json.gz","index":0,"log_type":"application","data":{"n":1}}`,
		`{"bucket":"` + e.bucket + `","key":"app/a b+c=é.json.gz","index":1,"log_type":"application","data":{"n":2}}`,
		`{"bucket":"` + e.bucket + `","key":"cw/firehose-1","index":0,"cloudwatch":{"owner":"123456789012","log_group":"/aws/lambda/f","log_stream":"s1","id":"e1","timestamp":1700000000000},"data":{"level":"info"}}`,
		`{"bucket":"` + e.bucket + `","key":"cw/firehose-1","index":1,"cloudwatch":{"owner":"123456789012","log_group":"/aws/lambda/f","log_stream":"s1","id":"e2","timestamp":1700000000001},"data":"plain message"}`,
	} {
		if !got[w] {
			t.Errorf("missing line %s\nstdout:\n%s", w, r.stdout)
		}
	}
	if len(r.lines()) != 4 || r.summary["records"] != 4 || r.summary["objects"] != 2 || r.summary["errors"] < 1 || r.summary["messages"] < 3 {
		t.Fatalf("summary %v\nstderr:\n%s", r.summary, r.stderr)
	}
	if !strings.Contains(r.stderr, "s3://"+e.bucket+"/app/missing.gz") || !strings.Contains(r.stderr, "not found") {
		t.Fatalf("the missing object is not named on stderr:\n%s", r.stderr)
	}
	// The two good messages were deleted; the one naming a missing object
	// comes back after its visibility timeout. (A long poll the collector
	// left behind on exit may take it once more on the server side, hiding
	// it for a second visibility timeout, so wait for two.)
	left := e.remaining(t, 14*time.Second)
	if len(left) != 1 || !strings.Contains(left[0], "app/missing.gz") {
		t.Fatalf("messages left %q\n%s", left, r.stderr)
	}
}

// TestCollectPreset reads CrowdStrike FDR data announced by FDR's own SQS
// notice with --preset crowdstrike: every event comes out whole with the
// preset's tags, and the notice is deleted.
func TestCollectPreset(t *testing.T) {
	e := newAWSEnv(t)
	paths, err := filepath.Glob(filepath.Join("..", "..", "ocsf", "testdata", "crowdstrike", "*.json"))
	if err != nil || len(paths) < 2 {
		t.Fatalf("fixtures: %v %v", paths, err)
	}
	var events []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, strings.TrimSpace(string(b)))
	}
	key := "data/f0714ca5-3689-448d-b5cc-582a6f7a56b1/part-00000.gz"
	e.put(t, key, gzipped(t, strings.Join(events, "\n")+"\n"))
	notice := `{"cid":"1234567890abcdef1234567890abcdef","timestamp":1700038900123,"fileCount":1,"totalSize":1,"bucket":"` + e.bucket +
		`","pathPrefix":"data/f0714ca5-3689-448d-b5cc-582a6f7a56b1","files":[{"path":"` + key + `","size":1,"checksum":"69fe068d0d7b3fe6a0e5d84ab3dc2df8"}]}`
	if _, err := e.sqsc.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &e.queue.URL, MessageBody: &notice}); err != nil {
		t.Fatal(err)
	}

	r := runCollect(t, e.env, "--queue-url", e.queue.URL, "--preset", "crowdstrike", "--with-origin", "--exit-when-idle", "3s")
	if r.code != 0 || r.summary["records"] != int64(len(events)) || r.summary["errors"] != 0 {
		t.Fatalf("exit %d summary %v\n%s", r.code, r.summary, r.stderr)
	}
	lines := r.lines()
	if len(lines) != len(events) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(events), r.stdout)
	}
	for i, l := range lines {
		var got struct {
			Key, LogType, Vendor, Category string
			Index                          int
			Data                           json.RawMessage
		}
		if err := json.Unmarshal([]byte(l), &struct {
			Key      *string          `json:"key"`
			Index    *int             `json:"index"`
			LogType  *string          `json:"log_type"`
			Vendor   *string          `json:"vendor"`
			Category *string          `json:"category"`
			Data     *json.RawMessage `json:"data"`
		}{&got.Key, &got.Index, &got.LogType, &got.Vendor, &got.Category, &got.Data}); err != nil {
			t.Fatal(err)
		}
		if got.Key != key || got.Index != i || got.LogType != "generic_s3_crowdstrike_log" || got.Vendor != "CrowdStrike" || got.Category != "endpoint" {
			t.Errorf("line %d: %s", i, l)
		}
		if string(got.Data) != events[i] {
			t.Errorf("line %d data %s, want %s", i, got.Data, events[i])
		}
	}
	if left := e.remaining(t, 7*time.Second); len(left) != 0 {
		t.Errorf("messages left %q", left)
	}
}

func TestCollectSignal(t *testing.T) {
	e := newAWSEnv(t)
	var b strings.Builder
	for i := range 500 {
		fmt.Fprintf(&b, "{\"i\":%d}\n", i)
	}
	e.put(t, "s/obj", []byte(b.String()))
	e.notify(t, "s/obj")
	cmd, stdout, stderr := start(t, e.env, "--queue-url", e.queue.URL)
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(stdout.String(), "\n") < 500 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("records not written; stderr:\n%s", stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	r := wait(t, cmd, stdout, stderr)
	if r.code != 0 || len(r.lines()) != 500 || r.summary["records"] != 500 {
		t.Fatalf("exit %d lines %d summary %v", r.code, len(r.lines()), r.summary)
	}
	if left := e.remaining(t, 7*time.Second); len(left) != 0 {
		t.Fatalf("message not deleted: %q", left)
	}
}

func TestCollectBucket(t *testing.T) {
	e := newAWSEnv(t)
	e.put(t, "logs/1.gz", gzipped(t, `[{"a":1},{"a":2}]`))
	e.put(t, "logs/2", []byte("x\n"))
	e.put(t, "other/3", []byte("y\n"))
	r := runCollect(t, e.env, "--bucket", e.bucket, "--prefix", "logs/")
	if r.code != 0 || strings.Join(r.lines(), "|") != `{"a":1}|{"a":2}|"x"` || r.summary["objects"] != 2 {
		t.Fatalf("exit %d stdout %q summary %v\n%s", r.code, r.stdout, r.summary, r.stderr)
	}
	// A listing that fails is fatal.
	r = runCollect(t, e.env, "--bucket", "no-such-bucket-"+strings.ToLower(aws.ToString(aws.String("x"))))
	if r.code != 1 || !strings.Contains(r.stderr, "NoSuchBucket") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
}

// TestCollectKilledMidObject: the collector is killed (SIGKILL) half way
// through an object; a second run after the visibility timeout gets the
// message again and every record arrives.
func TestCollectKilledMidObject(t *testing.T) {
	e := newAWSEnv(t)
	const n = 50000
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "{\"i\":%d,\"pad\":\"%0200d\"}\n", i, i)
	}
	e.put(t, "big/obj.gz", gzipped(t, b.String()))
	e.notify(t, "big/obj.gz")

	cmd, stdout, stderr := start(t, e.env, "--queue-url", e.queue.URL, "--workers", "1")
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(stdout.String(), "\n") < 100 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no output; stderr:\n%s", stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	first := strings.Count(stdout.String(), "\n")
	if first >= n {
		t.Fatalf("the first run finished (%d records) before it was killed", first)
	}

	// The message is invisible for the rest of its visibility timeout (5s),
	// then delivered again.
	r := runCollect(t, e.env, "--queue-url", e.queue.URL, "--exit-when-idle", "8s")
	seen := make([]bool, n)
	for _, l := range r.lines() {
		var v struct{ I int }
		if err := json.Unmarshal([]byte(l), &v); err != nil || v.I < 0 || v.I >= n {
			t.Fatalf("bad line %q", l)
		}
		seen[v.I] = true
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("record %d lost (first run wrote %d records, second %d)", i, first, len(r.lines()))
		}
	}
	if r.code != 0 || r.summary["records"] != n {
		t.Fatalf("exit %d summary %v", r.code, r.summary)
	}
	if left := e.remaining(t, 7*time.Second); len(left) != 0 {
		t.Fatalf("message not deleted: %q", left)
	}
}

// TestCollectFatalQueueErrors: a queue error that waiting cannot heal ends
// the program with exit 1 and a message naming the queue URL and what to
// check, even with --exit-when-idle (which would otherwise exit 0).
func TestCollectFatalQueueErrors(t *testing.T) {
	e := newAWSEnv(t)
	build(t) // in the parent's temporary directory, shared by the subtests
	for _, tc := range []struct {
		name string
		code string // injected by a proxy in front of SQS; "" for a missing queue
		want string
	}{
		{"queue does not exist", "", "the queue must exist"},
		{"access denied", "AccessDenied", "sqs:ReceiveMessage"},
		{"invalid client token", "InvalidClientTokenId", "AWS credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, url := e.env, e.queue.URL
			if tc.code == "" {
				url += "-missing"
			} else {
				p := testenv.NewFaultProxy(t, e.sqs.Endpoint)
				p.FailNext(1, 403, tc.code)
				env = append(append([]string(nil), env...), "AWS_ENDPOINT_URL_SQS="+p.URL())
			}
			start := time.Now()
			r := runCollect(t, env, "--queue-url", url, "--exit-when-idle", "5s")
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
			}
			if time.Since(start) >= 5*time.Second {
				t.Fatalf("took %v: waited for idleness instead of failing", time.Since(start))
			}
			fatal := ""
			for _, l := range strings.Split(r.stderr, "\n") {
				if strings.Contains(l, "level=ERROR msg=fatal ") {
					fatal = l
				}
			}
			code := tc.code
			if code == "" {
				code = "NonExistentQueue"
			}
			if !strings.Contains(fatal, url) || !strings.Contains(fatal, code) || !strings.Contains(fatal, tc.want) {
				t.Fatalf("fatal line %q does not name %s, %s and %q\n%s", fatal, url, code, tc.want, r.stderr)
			}
			if r.summary["errors"] < 1 || r.summary["messages"] != 0 {
				t.Fatalf("summary %v", r.summary)
			}
		})
	}
}

// TestCollectStreamTypeAndProfiles covers the output path that copies
// records of the JSON stream types as they are (the decoder compacted
// them), and the profile flags.
func TestCollectStreamTypeAndProfiles(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "e.ndjson")
	os.WriteFile(in, []byte("{\"a\": [1, 2],\n \"s\": \"x y\"}\n{\"b\":\"<&>\"}\n\"str\"\n"), 0o644)
	cpu, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof")
	r := runCollect(t, os.Environ(), "--dir", in, "--stream-type", "ndjson", "--cpuprofile", cpu, "--memprofile", mem)
	want := []string{`{"a":[1,2],"s":"x y"}`, `{"b":"<&>"}`, `"str"`}
	if r.code != 0 || strings.Join(r.lines(), "\n") != strings.Join(want, "\n") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, p := range []string{cpu, mem} {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			t.Fatalf("profile %s not written: %v", p, err)
		}
	}

	bad := filepath.Join(dir, "missing", "cpu.pprof")
	r = runCollect(t, os.Environ(), "--dir", in, "--cpuprofile", bad)
	if r.code != 1 || !strings.Contains(r.stderr, "cpuprofile") || len(r.lines()) != 0 {
		t.Fatalf("unwritable --cpuprofile: exit %d stdout %q stderr %s", r.code, r.stdout, r.stderr)
	}
}

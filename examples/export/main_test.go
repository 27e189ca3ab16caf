package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/lakerelay/lakerelay/internal/program/programtest"
	"github.com/lakerelay/lakerelay/internal/testenv"
	"github.com/lakerelay/lakerelay/sink"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func build(t *testing.T) string { return testenv.Program(t) }

type result struct {
	code    int
	stderr  string
	summary summary
}

func runExport(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(build(t), args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
	var sum summary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("last stderr line is not the JSON summary: %v\n%s", err, stderr.String())
	}
	return result{code, stderr.String(), sum}
}

func decompress(t *testing.T, name string, b []byte) []string {
	t.Helper()
	var r io.Reader = bytes.NewReader(b)
	switch {
	case strings.HasSuffix(name, ".json.gz"):
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case strings.HasSuffix(name, ".json.zst"):
		zr, err := zstd.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}

// dirObjects returns relative path -> lines of every file under root.
func dirObjects(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.Walk(root, func(path string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		out[filepath.ToSlash(rel)] = decompress(t, path, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func s3Objects(t *testing.T, client *s3.Client, bucket string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	out := map[string][]string{}
	list, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range list.Contents {
		g, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(g.Body)
		g.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[aws.ToString(o.Key)] = decompress(t, aws.ToString(o.Key), b)
	}
	return out
}

const name = `\d{8}T\d{6}Z-[0-9a-f-]{36}`

var input = []string{
	`{"id":1,"time":1764547200000}`,
	`{"id":2,"time":"2025-12-02T10:00:00Z"}`,
	`plain text line`,
	`{"id":4,"nested":{"a":[1,2,3]}}`,
}

func TestExportDirConnector(t *testing.T) {
	out := t.TempDir()
	env := os.Environ()
	res := runExport(t, env, strings.Join(input, "\n")+"\n",
		"--out-dir", out, "--prefix", "exports/prod", "--connector-type", "s3", "--connector-id", "conn-1",
		"--run-id", "run-42", "--stream", "users")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	objs := dirObjects(t, out)
	if len(objs) != 1 {
		t.Fatalf("objects %v", objs)
	}
	want := slices.Clone(input)
	want[2] = `"plain text line"`
	for k, lines := range objs {
		if !regexp.MustCompile(`^exports/prod/s3/conn-1/run-42/users/` + name + `\.json\.gz$`).MatchString(k) {
			t.Errorf("key %q", k)
		}
		if !slices.Equal(lines, want) {
			t.Errorf("lines %q, want %q", lines, want)
		}
	}
	if s := res.summary; s.Records != 4 || s.Objects != 1 || s.Bytes == 0 || s.Errors != 0 || s.RunID != "run-42" {
		t.Fatalf("summary %+v", s)
	}
}

func TestExportDirInputFilesAndBatches(t *testing.T) {
	in := t.TempDir()
	plain := filepath.Join(in, "a.ndjson")
	if err := os.WriteFile(plain, []byte(strings.Join(input[:2], "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(strings.Join(input[2:], "\n") + "\n"))
	zw.Close()
	gzPath := filepath.Join(in, "b.ndjson.gz")
	if err := os.WriteFile(gzPath, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	res := runExport(t, os.Environ(), "",
		"--out-dir", out, "--layout", "template", "--key-template", "{+base}/{source}/dt={date:2006-01-02}/",
		"--field", "base=raw/v1", "--field", "source=app", "--compression", "zstd", "--batch-records", "1",
		"--input", plain, gzPath)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	objs := dirObjects(t, out)
	var all []string
	for k, lines := range objs {
		if !regexp.MustCompile(`^raw/v1/app/dt=\d{4}-\d{2}-\d{2}/` + name + `\.json\.zst$`).MatchString(k) {
			t.Errorf("key %q", k)
		}
		all = append(all, lines...)
	}
	if len(objs) != 4 || res.summary.Objects != 4 || len(all) != 4 {
		t.Fatalf("%d objects %v, summary %+v", len(objs), objs, res.summary)
	}
}

// TestExportManyBatchesOneStream exports 3 MB of records from two inputs
// in batches of 997 records, two written at a time, under one stream: the
// layout in which the source reuses the memory of settled records. Every
// record must arrive once, as it was read, whatever batch finished first.
func TestExportManyBatchesOneStream(t *testing.T) {
	in := t.TempDir()
	var want []string
	var files []string
	for f := range 2 {
		var lines []string
		for i := range 10000 {
			var l string
			switch {
			case i%1000 == 999:
				l = fmt.Sprintf(`{"file":%d,"i":%d,"big":%q}`, f, i, strings.Repeat("b", 20<<10)) // over the 16 KiB a block takes
			case i%7 == 3:
				l = fmt.Sprintf("text line %d of file %d", i, f)
				want = append(want, strconv.Quote(l))
				lines = append(lines, l)
				continue
			default:
				l = fmt.Sprintf(`{"file":%d,"i":%d,"pad":%q}`, f, i, strings.Repeat("x", i%300))
			}
			want = append(want, l)
			lines = append(lines, l)
		}
		body := []byte(strings.Join(lines, "\n") + "\n")
		path := filepath.Join(in, fmt.Sprintf("%d.ndjson", f))
		if f == 1 {
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			zw.Write(body)
			zw.Close()
			body, path = gz.Bytes(), path+".gz"
		}
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
	}
	out := t.TempDir()
	res := runExport(t, os.Environ(), "", append([]string{"--out-dir", out, "--connector-type", "s3", "--connector-id", "c",
		"--run-id", "r", "--stream", "s", "--batch-records", "997", "--input"}, files...)...)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	var got []string
	for _, lines := range dirObjects(t, out) {
		got = append(got, lines...)
	}
	if res.summary.Records != int64(len(want)) || len(got) != len(want) {
		t.Fatalf("%d lines in the objects, summary %+v; want %d", len(got), res.summary, len(want))
	}
	slices.Sort(got)
	slices.Sort(want)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("line %d of the sorted output:\n got %.200q\nwant %.200q", i, got[i], want[i])
		}
	}
}

func TestExportS3Vendor(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	res := runExport(t, m.Env(), strings.Join(input, "\n")+"\n",
		"--bucket", bucket, "--layout", "vendor", "--vendor", "Acme", "--event-type", "findings",
		"--account", "123456789012", "--acl", "bucket-owner-full-control",
		"--role-arn", "arn:aws:iam::123456789012:role/exporter", "--external-id", "ext-123")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	got := map[string][]string{}
	for k, lines := range s3Objects(t, m.S3(t), bucket) {
		sm := regexp.MustCompile(`^(Acme/findings/(\d{4}-\d{2}-\d{2})/123456789012/)` + name + `\.json\.gz$`).FindStringSubmatch(k)
		if sm == nil {
			t.Fatalf("key %q does not follow the vendor layout", k)
		}
		if sm[2] != "2025-12-01" && sm[2] != "2025-12-02" {
			sm[1] = "today"
		}
		got[sm[1]] = lines
	}
	want := map[string][]string{
		"Acme/findings/2025-12-01/123456789012/": {input[0]},
		"Acme/findings/2025-12-02/123456789012/": {input[1]},
		"today":                                  {`"plain text line"`, input[3]},
	}
	if len(got) != len(want) {
		t.Fatalf("objects %q, want %q", got, want)
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
	if s := res.summary; s.Records != 4 || s.Objects != 3 || s.Errors != 0 || s.Destination != "s3://"+bucket+"/" {
		t.Fatalf("summary %+v", s)
	}
}

func TestExportS3Failure(t *testing.T) {
	m := testenv.StartMinIO(t)
	res := runExport(t, m.Env(), strings.Join(input, "\n")+"\n",
		"--bucket", "lr-missing-bucket", "--connector-type", "s3", "--connector-id", "c", "--stream", "s")
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", res.code, res.stderr)
	}
	if s := res.summary; s.Errors == 0 || s.Failed != 4 || s.Objects != 0 {
		t.Fatalf("summary %+v", s)
	}
	if !strings.Contains(res.stderr, "s3://lr-missing-bucket/s3/c/") || !strings.Contains(res.stderr, "NoSuchBucket") {
		t.Fatalf("stderr does not name the bucket/key and cause:\n%s", res.stderr)
	}
}

func TestExportTestConnection(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	conn := []string{"--connector-type", "s3", "--connector-id", "c", "--stream", "s", "--test-connection"}
	withEnv := func(env []string, kv ...string) []string {
		out := slices.Clone(env)
		for _, e := range kv {
			k, _, _ := strings.Cut(e, "=")
			out = slices.DeleteFunc(out, func(s string) bool { return strings.HasPrefix(s, k+"=") })
			out = append(out, e)
		}
		return out
	}
	ak, sk, tok := m.AssumeRole(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::*"]}]}`)
	proxy := testenv.NewFaultProxy(t, m.Endpoint)
	proxy.FailNext(1000, 503, "SlowDown")
	tests := []struct {
		name       string
		env        []string
		bucket     string
		code       int
		connection string
		mention    string
	}{
		{"ok", m.Env(), bucket, 0, "ok", "wrote and removed"},
		{"missing bucket", m.Env(), "lr-nope-nope", 1, "no-bucket", `bucket "lr-nope-nope" does not exist`},
		{"access denied", withEnv(m.Env(), "AWS_ACCESS_KEY_ID="+ak, "AWS_SECRET_ACCESS_KEY="+sk, "AWS_SESSION_TOKEN="+tok), bucket, 1, "access-denied", "s3:PutObject"},
		{"bad credentials", withEnv(m.Env(), "AWS_ACCESS_KEY_ID=AKIAWRONGWRONGWRONG0"), bucket, 1, "bad-credentials", "credentials were rejected"},
		{"unreachable", withEnv(m.Env(), "AWS_ENDPOINT_URL_S3="+testenv.ClosedEndpoint(t)), bucket, 1, "unreachable", "cannot be reached"},
		{"throttled", withEnv(m.Env(), "AWS_ENDPOINT_URL_S3="+proxy.URL()), bucket, 1, "throttled", "SlowDown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runExport(t, tt.env, "", append([]string{"--bucket", tt.bucket}, conn...)...)
			if res.code != tt.code || res.summary.Connection != tt.connection || !strings.Contains(res.stderr, tt.mention) {
				t.Fatalf("exit %d, connection %q; want %d, %q mentioning %q\n%s", res.code, res.summary.Connection, tt.code, tt.connection, tt.mention, res.stderr)
			}
		})
	}
	if objs := s3Objects(t, m.S3(t), bucket); len(objs) != 0 {
		t.Fatalf("test objects left: %v", objs)
	}
}

// TestExportTestConnectionDestinationOnly: --test-connection needs no
// connector flags (a user tests access before a connector exists); the test
// object goes under --prefix, or the bucket's root.
func TestExportTestConnectionDestinationOnly(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	for _, tt := range []struct {
		args []string
		at   string
	}{
		{[]string{"--prefix", "/lakerelay/tests/"}, "s3://" + bucket + "/lakerelay/tests/" + sink.ConnectionTestPrefix},
		{nil, "s3://" + bucket + "/" + sink.ConnectionTestPrefix},
		{[]string{"--connector-type", "s3", "--prefix", "p"}, "s3://" + bucket + "/p/" + sink.ConnectionTestPrefix},
		{[]string{"--layout", "vendor", "--acl", "bucket-owner-full-control"}, "s3://" + bucket + "/" + sink.ConnectionTestPrefix},
	} {
		res := runExport(t, m.Env(), "", append([]string{"--bucket", bucket, "--test-connection"}, tt.args...)...)
		if res.code != 0 || res.summary.Connection != "ok" || !strings.Contains(res.stderr, "wrote and removed "+tt.at) {
			t.Fatalf("%q: exit %d, connection %q; want the test object at %s\n%s", tt.args, res.code, res.summary.Connection, tt.at, res.stderr)
		}
	}
	// Without --test-connection the connector flags are still required.
	if res := runExport(t, m.Env(), "", "--bucket", bucket); res.code != 2 || !strings.Contains(res.stderr, "--connector-type") {
		t.Fatalf("export without connector flags: exit %d\n%s", res.code, res.stderr)
	}
	// A bad prefix is a usage error naming it.
	if res := runExport(t, m.Env(), "", "--bucket", bucket, "--test-connection", "--prefix", "a/../b"); res.code != 2 || !strings.Contains(res.stderr, "prefix") {
		t.Fatalf("bad prefix: exit %d\n%s", res.code, res.stderr)
	}
	if objs := s3Objects(t, m.S3(t), bucket); len(objs) != 0 {
		t.Fatalf("test objects left: %v", objs)
	}
}

func TestExportUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{},
		{"--bucket", "b", "--out-dir", dir},
		{"--out-dir", dir}, // connector flags missing
		{"--out-dir", dir, "--layout", "vendor", "--vendor", "V"}, // vendor flags missing
		{"--out-dir", dir, "--layout", "nope"},
		{"--out-dir", dir, "--layout", "template"},
		{"--out-dir", dir, "--layout", "template", "--key-template", "{a}/{b}/", "--field", "a=x"},
		{"--out-dir", dir, "--layout", "template", "--key-template", "{a}/", "--field", "a=../x"},
		{"--out-dir", dir, "--layout", "template", "--key-template", "{a", "--field", "a=x"},
		{"--out-dir", dir, "--connector-type", "t", "--connector-id", "i", "--stream", "s", "--compression", "lz4"},
		{"--out-dir", dir, "--connector-type", "t", "--connector-id", "i", "--stream", "s", "--acl", "private"},
		{"--out-dir", dir, "--connector-type", "t", "--connector-id", "i", "--stream", "s", "--vendor", "v"},
		{"--out-dir", dir, "--connector-type", "t", "--connector-id", "i", "--stream", "s", "--batch-records", "0"},
		{"--bucket", "b", "--connector-type", "t", "--connector-id", "i", "--stream", "s", "--sse", "rot13"},
		{"--bucket", "b", "--connector-type", "t", "--connector-id", "i", "--stream", "s", "--sse-kms-key-id", "k"},
		{"--bucket", "b", "--connector-type", "t", "--connector-id", "i", "--stream", "s", "--role-arn", "not-an-arn"},
		{"--out-dir", dir, "--connector-type", "t", "--connector-id", "i"}, // neither --stream nor --stream-field
		{"--out-dir", dir, "--connector-type", "t", "--connector-id", "i", "--stream", "s", "--stream-field", "f"},
		{"--out-dir", dir, "--layout", "vendor", "--vendor", "V", "--account", "1", "--event-type", "e", "--event-type-field", "f"},
		{"--out-dir", dir, "--layout", "vendor", "--vendor", "V", "--account", "1", "--stream-field", "f"},
		{"--out-dir", dir, "--connector-type", "t", "--connector-id", "i", "--stream", "s", "--prefix", "/a//b/"},
		{"--no-such-flag"},
		{"--out-dir", dir, "stray-arg"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			res := runExport(t, os.Environ(), "", args...)
			if res.code != 2 || res.summary.Errors != 1 {
				t.Fatalf("exit %d, summary %+v; want 2\n%s", res.code, res.summary, res.stderr)
			}
		})
	}
}

// TestExportBadInput shows input that cannot be read ending the run with
// exit 1 and an error naming the file, while what was read before is
// stored.
func TestExportBadInput(t *testing.T) {
	in := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(strings.Repeat(`{"ok":1}`+"\n", 1000)))
	zw.Close()
	corrupt := gz.Bytes()[:gz.Len()/2] // truncated gzip
	good := filepath.Join(in, "good.ndjson")
	bad := filepath.Join(in, "bad.ndjson.gz")
	huge := filepath.Join(in, "huge.ndjson")
	os.WriteFile(good, []byte(`{"id":1}`+"\n"), 0o644)
	os.WriteFile(bad, corrupt, 0o644)
	os.WriteFile(huge, []byte(`{"big":"`+strings.Repeat("x", 2<<20)+`"}`+"\n"), 0o644)
	for _, tt := range []struct{ file, mention string }{{bad, "bad.ndjson.gz"}, {huge, "huge.ndjson"}, {filepath.Join(in, "missing"), "missing"}} {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			out := t.TempDir()
			res := runExport(t, os.Environ(), "", "--out-dir", out, "--connector-type", "t", "--connector-id", "i", "--stream", "s",
				"--input", good, tt.file)
			if res.code != 1 || res.summary.Errors == 0 || !strings.Contains(res.summary.Error, tt.mention) {
				t.Fatalf("exit %d, summary %+v; want 1 naming %s\n%s", res.code, res.summary, tt.mention, res.stderr)
			}
			if res.summary.Objects != 1 || len(dirObjects(t, out)) != 1 {
				t.Fatalf("the records read before the failure were not stored: %+v", res.summary)
			}
		})
	}
}

// TestExportInterrupt sends SIGINT while standard input is still open: the
// run ends, stores what it read, and reports the interruption.
func TestExportInterrupt(t *testing.T) {
	out := t.TempDir()
	cmd := exec.Command(build(t), "--out-dir", out, "--connector-type", "t", "--connector-id", "i", "--stream", "s")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	io.WriteString(stdin, `{"a":1}`+"\n"+`{"a":2}`+"\n")
	time.Sleep(time.Second) // let it read the two lines; stdin stays open
	cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("export did not stop on SIGINT")
	}
	if cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("exit %d, want 1\n%s", cmd.ProcessState.ExitCode(), stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	var sum summary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Records != 2 || sum.Objects != 1 || !strings.Contains(sum.Error, "interrupted") {
		t.Fatalf("summary %+v", sum)
	}
	if objs := dirObjects(t, out); len(objs) != 1 {
		t.Fatalf("objects %v", objs)
	}
}

// TestExportEventTypeField writes records of three event types with one run:
// each lands under its own vendor-layout prefix (read back from MinIO);
// records whose type cannot be a key segment are not stored, counted, and
// named by record and field in the errors, without their values.
func TestExportEventTypeField(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	good := []string{
		`{"type":"finding","id":1,"time":"2026-12-01T10:00:00Z"}`,
		`{"type":"audit","id":2,"time":"2026-12-01T11:00:00Z"}`,
		`{"type":"login","id":3,"time":"2026-12-02T00:00:00Z"}`,
		`{"type":"finding","id":4,"time":"2026-12-01T12:00:00Z"}`,
	}
	bad := []string{`{"type":"../../etc","id":5}`, `{"id":6}`}
	stdin := strings.Join([]string{good[0], bad[0], good[1], good[2], bad[1], good[3]}, "\n") + "\n"
	res := runExport(t, m.Env(), stdin, "--bucket", bucket, "--layout", "vendor", "--vendor", "Acme",
		"--account", "123456789012", "--event-type-field", "type")
	if res.code != 1 {
		t.Fatalf("exit %d, want 1 (two records rejected)\n%s", res.code, res.stderr)
	}
	got := map[string][]string{}
	for k, lines := range s3Objects(t, m.S3(t), bucket) {
		sm := regexp.MustCompile(`^(Acme/[a-z]+/\d{4}-\d{2}-\d{2}/123456789012/)` + name + `\.json\.gz$`).FindStringSubmatch(k)
		if sm == nil {
			t.Fatalf("key %q does not follow the vendor layout", k)
		}
		got[sm[1]] = append(got[sm[1]], lines...)
	}
	want := map[string][]string{
		"Acme/finding/2026-12-01/123456789012/": {good[0], good[3]},
		"Acme/audit/2026-12-01/123456789012/":   {good[1]},
		"Acme/login/2026-12-02/123456789012/":   {good[2]},
	}
	if len(got) != len(want) {
		t.Fatalf("objects %q, want %q", got, want)
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
	if s := res.summary; s.Records != 6 || s.Objects != 3 || s.Failed != 2 || s.Errors != 1 || !strings.Contains(s.Error, "2 records") {
		t.Fatalf("summary %+v", s)
	}
	for _, mention := range []string{`stdin#1: record field \"type\" (for layout field {event_type}): contains \"/\"`, `stdin#4: record field \"type\" (for layout field {event_type}): missing`} {
		if !strings.Contains(res.stderr, mention) {
			t.Errorf("stderr does not say %q:\n%s", mention, res.stderr)
		}
	}
	if strings.Contains(res.stderr, "etc") {
		t.Errorf("stderr shows record contents:\n%s", res.stderr)
	}
}

// TestExportStreamFieldAndPrefix takes the connector layout's stream from
// each record, and trims the leading "/" of --prefix, saying so.
func TestExportStreamFieldAndPrefix(t *testing.T) {
	out := t.TempDir()
	in := []string{`{"stream":"users","id":1}`, `{"stream":"orders","id":2}`, `{"id":3,"stream":"users"}`}
	res := runExport(t, os.Environ(), strings.Join(in, "\n")+"\n", "--out-dir", out, "--prefix", "/connector-syncs/",
		"--connector-type", "s3", "--connector-id", "c1", "--run-id", "r1", "--stream-field", "stream")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	got := map[string][]string{}
	for k, lines := range dirObjects(t, out) {
		sm := regexp.MustCompile(`^(connector-syncs/s3/c1/r1/[a-z]+/)` + name + `\.json\.gz$`).FindStringSubmatch(k)
		if sm == nil {
			t.Fatalf("key %q does not follow the connector layout", k)
		}
		got[sm[1]] = lines
	}
	want := map[string][]string{"connector-syncs/s3/c1/r1/users/": {in[0], in[2]}, "connector-syncs/s3/c1/r1/orders/": {in[1]}}
	if len(got) != 2 || !slices.Equal(got["connector-syncs/s3/c1/r1/users/"], want["connector-syncs/s3/c1/r1/users/"]) || !slices.Equal(got["connector-syncs/s3/c1/r1/orders/"], want["connector-syncs/s3/c1/r1/orders/"]) {
		t.Fatalf("objects %q, want %q", got, want)
	}
	if res.summary.Prefix != "connector-syncs" || !strings.Contains(res.stderr, `--prefix "/connector-syncs/" used as "connector-syncs"`) {
		t.Fatalf("the trimmed prefix is not shown: summary %+v\n%s", res.summary, res.stderr)
	}

	// The {+prefix} field of a template is trimmed the same way.
	out = t.TempDir()
	res = runExport(t, os.Environ(), in[0]+"\n", "--out-dir", out, "--layout", "template",
		"--key-template", "{+base}/{source}/", "--field", "base=/connector-syncs/raw/", "--field", "source=app")
	if res.code != 0 || !strings.Contains(res.stderr, `--field base="/connector-syncs/raw/" used as "connector-syncs/raw"`) {
		t.Fatalf("exit %d, the trimmed field is not shown:\n%s", res.code, res.stderr)
	}
	for k := range dirObjects(t, out) {
		if !strings.HasPrefix(k, "connector-syncs/raw/app/") {
			t.Fatalf("key %q", k)
		}
	}
}

// TestExportQuarantineS3 sends the records the layout rejects to
// --quarantine s3://bucket/prefix: they are entries in quarantine's format
// (origin and reason), the run succeeds, and nothing else is lost.
func TestExportQuarantineS3(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket, qbucket := m.NewBucket(t), m.NewBucket(t)
	stdin := `{"type":"finding","id":1}` + "\n" + `{"id":2}` + "\n" + `{"type":"a/b","id":3}` + "\n"
	res := runExport(t, m.Env(), stdin, "--bucket", bucket, "--layout", "vendor", "--vendor", "Acme",
		"--account", "123456789012", "--event-type-field", "type", "--quarantine", "s3://"+qbucket+"/q/export")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if s := res.summary; s.Records != 3 || s.Objects != 1 || s.Quarantined != 2 || s.Failed != 0 {
		t.Fatalf("summary %+v", s)
	}
	entries := programtest.QuarantineEntries(t, m.S3(t), qbucket, "q/export/")
	if len(entries) != 2 {
		t.Fatalf("entries %+v", entries)
	}
	for i, e := range entries {
		if e.Origin.Key != "stdin" || !strings.Contains(e.Reason, `record field "type"`) || e.Time.IsZero() {
			t.Errorf("entry %d: %+v", i, e)
		}
	}
	if string(entries[0].Data)+string(entries[1].Data) != `{"id":2}{"type":"a/b","id":3}` {
		t.Errorf("data %s %s", entries[0].Data, entries[1].Data)
	}
}

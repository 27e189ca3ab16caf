package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

// recorder is an Observer that keeps every count (summed), the last and the
// largest value of every gauge.
type recorder struct {
	mu     sync.Mutex
	counts map[metricKey]int64
	gauges map[metricKey]float64
	peaks  map[metricKey]float64
}

type metricKey struct {
	name string
	l    lakerelay.Labels
}

func newRecorder() *recorder {
	return &recorder{counts: map[metricKey]int64{}, gauges: map[metricKey]float64{}, peaks: map[metricKey]float64{}}
}

func (r *recorder) Count(name string, n int64, l lakerelay.Labels) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n < 0 {
		panic("negative count")
	}
	r.counts[metricKey{name, l}] += n
}

func (r *recorder) Gauge(name string, v float64, l lakerelay.Labels) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := metricKey{name, l}
	r.gauges[k] = v
	r.peaks[k] = max(r.peaks[k], v)
}

func (r *recorder) Duration(string, time.Duration, lakerelay.Labels) {}

func (r *recorder) count(name string, l lakerelay.Labels) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[metricKey{name, l}]
}

// sum adds the counts of name over every label set with the given source.
func (r *recorder) sum(name, source string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n int64
	for k, v := range r.counts {
		if k.name == name && k.l.Source == source {
			n += v
		}
	}
	return n
}

func (r *recorder) gauge(name string, l lakerelay.Labels) (v float64, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok = r.gauges[metricKey{name, l}]
	return v, ok
}

func (r *recorder) peak(name string, l lakerelay.Labels) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peaks[metricKey{name, l}]
}

// TestSQSMetrics runs the SQS source against local-aws-sqs and MinIO and
// checks that what the Observer heard matches the run: records and bytes in
// per log type, quarantined records, messages received, deleted and
// redelivered, visibility extensions, the lag while a message is held and
// source_up once the queue is deleted.
func TestSQSMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.QueueOptions{})
	e.put("alpha/1.json", ndjson("a", 3))
	e.put("beta/1.json", append(ndjson("b", 2), "not json\n"...))
	rec := newRecorder()
	var quarantined []lakerelay.Record
	var qmu sync.Mutex
	s, c := e.source(func(o *SQSOptions) {
		o.Name = "cloudtrail-queue"
		o.Observer = rec
		o.LogTypes = map[string]string{"alpha/": "alpha", "beta/": "beta"}
		o.Quarantine = func(r lakerelay.Record, _ error) error {
			qmu.Lock()
			quarantined = append(quarantined, r)
			qmu.Unlock()
			return nil
		}
	})
	src := lakerelay.Labels{Source: "cloudtrail-queue"}
	if v, ok := rec.gauge(lakerelay.MetricSourceUp, src); !ok || v != 1 {
		t.Fatalf("source_up %v %v at start", v, ok)
	}
	e.notify("alpha/1.json")
	e.notify("beta/1.json")
	recs := read(t, s, 5, 20*time.Second, nil)
	waitFor(t, 10*time.Second, "2 deletions", func() bool { return s.Stats().Deleted == 2 })

	bytesOf := map[string]int64{}
	n := map[string]int64{}
	for _, r := range recs {
		bytesOf[r.Origin.LogType] += int64(len(r.Data))
		n[r.Origin.LogType]++
	}
	for _, lt := range []string{"alpha", "beta"} {
		l := lakerelay.Labels{Source: "cloudtrail-queue", LogType: lt}
		if got := rec.count(lakerelay.MetricRecordsIn, l); got != n[lt] {
			t.Errorf("records_in{%s} %d, read %d", lt, got, n[lt])
		}
		if got := rec.count(lakerelay.MetricBytesIn, l); got != bytesOf[lt] {
			t.Errorf("bytes_in{%s} %d, read %d", lt, got, bytesOf[lt])
		}
	}
	if got := rec.count(lakerelay.MetricQuarantined, lakerelay.Labels{Source: "cloudtrail-queue", LogType: "beta", Class: lakerelay.ClassInvalid}); got != 1 || len(quarantined) != 1 {
		t.Errorf("quarantined %d, quarantine got %d", got, len(quarantined))
	}
	if got := rec.count(lakerelay.MetricSQSReceived, src); got != 2 {
		t.Errorf("received %d, want 2", got)
	}
	if got := rec.count(lakerelay.MetricSQSDeleted, src); got != 2 {
		t.Errorf("deleted %d, want 2", got)
	}
	waitFor(t, 5*time.Second, "lag 0", func() bool { v, ok := rec.gauge(lakerelay.MetricSQSLag, src); return ok && v == 0 })

	// A held record: the lag grows above 0 and the visibility is
	// extended; a nack brings the message back, counted as redelivered.
	e.notify("alpha/1.json")
	held := read(t, s, 1, 20*time.Second, nil) // settled at once
	_ = held
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r2, err := s.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "a visibility extension", func() bool { return rec.count(lakerelay.MetricSQSVisibilityExtended, src) > 0 })
	if lag, _ := rec.gauge(lakerelay.MetricSQSLag, src); lag <= 0 {
		t.Errorf("lag %v while a message is held", lag)
	}
	r2.Settle(errors.New("downstream failed"))
	r3, err := s.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r3.Settle(nil) // the third record of the nacked message, read already
	redelivered := read(t, s, 3, 20*time.Second, nil)
	if redelivered[0].Origin.Key != "alpha/1.json" {
		t.Fatalf("redelivered %v", redelivered[0].Origin)
	}
	waitFor(t, 10*time.Second, "3 deletions", func() bool { return s.Stats().Deleted == 3 })
	if got := rec.count(lakerelay.MetricSQSRedelivered, src); got != 1 {
		t.Errorf("redelivered %d, want 1", got)
	}
	if got, st := rec.count(lakerelay.MetricSQSReceived, src), s.Stats(); got != 4 || st.Messages != 4 {
		t.Errorf("received %d, stats %d, want 4", got, st.Messages)
	}
	if got, want := rec.sum(lakerelay.MetricRecordsIn, "cloudtrail-queue"), s.Stats().Records; got != want || want != 11 {
		t.Errorf("records_in %d, Stats.Records %d, want 11", got, want)
	}
	if got := rec.count(lakerelay.MetricErrors, lakerelay.Labels{Source: "cloudtrail-queue", Class: lakerelay.ClassOther}); got != 1 {
		t.Errorf("errors{other} %d, want 1 (the nack): %v", got, c.errors())
	}
	waitFor(t, 5*time.Second, "lag 0", func() bool { v, _ := rec.gauge(lakerelay.MetricSQSLag, src); return v == 0 })
	if rec.peak(lakerelay.MetricSQSLag, src) <= 0 {
		t.Error("lag never above 0")
	}

	// The queue is deleted: the source ends with a fatal error.
	if _, err := e.sqsc.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: &e.queue.URL}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "source_up 0", func() bool { v, _ := rec.gauge(lakerelay.MetricSourceUp, src); return v == 0 })
	if s.Err() == nil {
		t.Fatal("source_up 0 but no fatal error")
	}
	if got := rec.count(lakerelay.MetricErrors, lakerelay.Labels{Source: "cloudtrail-queue", Class: lakerelay.ClassAccess}); got < 1 {
		t.Errorf("errors{access} %d after the queue was deleted", got)
	}
}

// logLine is one line of a JSON slog handler.
type logLine map[string]any

func parseLog(t *testing.T, b *bytes.Buffer) []logLine {
	t.Helper()
	var out []logLine
	for line := range strings.SplitSeq(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var l logLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, l)
		t.Log(line)
	}
	return out
}

// find returns the lines with message msg.
func find(lines []logLine, msg string) []logLine {
	var out []logLine
	for _, l := range lines {
		if l["msg"] == msg {
			out = append(out, l)
		}
	}
	return out
}

// safeBuffer is a bytes.Buffer for a slog handler used by several
// goroutines.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) buffer() *bytes.Buffer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.NewBuffer(append([]byte(nil), s.b.Bytes()...))
}

// TestSQSLogs shows the log lines of a run with one good object (and an
// invalid record quarantined) and one failing object, at Debug, and that no
// record data and no credentials appear in them.
func TestSQSLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.QueueOptions{})
	e.put("logs/good.json", []byte("{\"secret\":\"SECRET-1\"}\n{\"secret\":\"SECRET-2\"}\nSECRET-3 not json\n"))
	e.put("logs/bad.json.gz", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 'S', 'E', 'C', 'R', 'E', 'T'})
	var buf safeBuffer
	s, c := e.source(func(o *SQSOptions) {
		o.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		o.Quarantine = func(lakerelay.Record, error) error { return nil }
	})
	e.notify("logs/good.json")
	e.notify("logs/bad.json.gz")
	read(t, s, 2, 20*time.Second, nil)
	waitFor(t, 10*time.Second, "the deletion and the failure", func() bool { return s.Stats().Deleted == 1 && len(c.errors()) >= 1 })
	s.Close()

	out := buf.buffer()
	lines := parseLog(t, out)
	if strings.Contains(out.String(), "SECRET") {
		t.Fatal("record data in the log")
	}
	creds, err := e.minio.Config(t).Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), creds.SecretAccessKey) || strings.Contains(out.String(), creds.AccessKeyID) {
		t.Fatal("credentials in the log")
	}
	want := []struct {
		msg, level string
		attrs      map[string]any
	}{
		{"sqs source started", "INFO", map[string]any{"source": "sqs", "queue_url": e.queue.URL}},
		{"message received", "DEBUG", nil},
		{"record quarantined", "DEBUG", map[string]any{"bucket": e.bucket, "key": "logs/good.json", "index": 2.0, "class": "invalid"}},
		{"object read", "DEBUG", map[string]any{"bucket": e.bucket, "key": "logs/good.json", "records": 2.0}},
		{"message deleted", "DEBUG", nil},
		{"object failed, message left in the queue", "WARN", map[string]any{"bucket": e.bucket, "key": "logs/bad.json.gz", "class": "decode"}},
		{"sqs source stopped", "INFO", map[string]any{"deleted": 1.0, "records": 2.0}},
	}
	for _, w := range want {
		got := find(lines, w.msg)
		if len(got) == 0 {
			t.Errorf("no line %q", w.msg)
			continue
		}
		l := got[0]
		if l["level"] != w.level {
			t.Errorf("%q at %v, want %s", w.msg, l["level"], w.level)
		}
		for k, v := range w.attrs {
			if l[k] != v {
				t.Errorf("%q: %s = %v, want %v", w.msg, k, l[k], v)
			}
		}
	}
	if got := find(lines, "message received"); len(got) < 2 || got[0]["message_id"] == "" {
		t.Errorf("message received lines: %v", got)
	}
	failed := find(lines, "object failed, message left in the queue")
	if len(failed) != 1 || !strings.Contains(failed[0]["error"].(string), "logs/bad.json.gz") || failed[0]["message_id"] == nil {
		t.Errorf("failure lines %v", failed)
	}
}

// TestListDirMetricsAndLogs: the List and Dir sources report records and
// bytes per log type, quarantined records and errors by class, log their
// start, end and failures, and a denied listing turns source_up to 0.
func TestListDirMetricsAndLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.QueueOptions{})
	e.put("l/a.json", append(ndjson("a", 4), "oops\n"...))
	e.put("l/b.gz", []byte{0x1f, 0x8b, 8, 0, 9, 9, 9})
	rec := newRecorder()
	var buf safeBuffer
	l, err := NewList(e.s3c, e.bucket, "l/", func(o *ListOptions) {
		o.Observer = rec
		o.Logger = slog.New(slog.NewJSONHandler(&buf, nil))
		o.LogTypes = map[string]string{"l/": "app"}
		o.Quarantine = func(lakerelay.Record, error) error { return nil }
	})
	if err != nil {
		t.Fatal(err)
	}
	recs, errs := readAll(t, l)
	l.Close()
	app := lakerelay.Labels{Source: "list", LogType: "app"}
	var size int64
	for _, r := range recs {
		size += int64(len(r.Data))
	}
	if len(recs) != 4 || len(errs) != 1 || rec.count(lakerelay.MetricRecordsIn, app) != 4 || rec.count(lakerelay.MetricBytesIn, app) != size {
		t.Fatalf("%d records, errors %v; observed %d records, %d bytes", len(recs), errs, rec.count(lakerelay.MetricRecordsIn, app), rec.count(lakerelay.MetricBytesIn, app))
	}
	if got := rec.count(lakerelay.MetricQuarantined, lakerelay.Labels{Source: "list", LogType: "app", Class: lakerelay.ClassInvalid}); got != 1 {
		t.Errorf("quarantined %d", got)
	}
	if got := rec.count(lakerelay.MetricErrors, lakerelay.Labels{Source: "list", Class: lakerelay.ClassDecode}); got != 1 {
		t.Errorf("errors{decode} %d", got)
	}
	lines := parseLog(t, buf.buffer())
	for _, m := range []string{"list source started", "object failed", "list source finished", "list source stopped"} {
		if len(find(lines, m)) != 1 {
			t.Errorf("%d lines %q", len(find(lines, m)), m)
		}
	}
	if got := find(lines, "object failed"); len(got) == 1 && (got[0]["key"] != "l/b.gz" || got[0]["bucket"] != e.bucket || got[0]["level"] != "WARN") {
		t.Errorf("failure line %v", got[0])
	}
	if strings.Contains(buf.buffer().String(), "oops") {
		t.Error("record data in the log")
	}

	// A listing denied: source_up 0 until a listing succeeds.
	cfg := e.minio.RestrictedConfig(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::*"]}]}`)
	denied, _ := NewList(s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), e.bucket, "", func(o *ListOptions) {
		o.Observer = rec
		o.Name = "denied"
	})
	if _, err := denied.Read(context.Background()); err == nil {
		t.Fatal("listing not denied")
	}
	if v, _ := rec.gauge(lakerelay.MetricSourceUp, lakerelay.Labels{Source: "denied"}); v != 0 {
		t.Errorf("source_up %v after a denied listing", v)
	}
	if got := rec.count(lakerelay.MetricErrors, lakerelay.Labels{Source: "denied", Class: lakerelay.ClassAccess}); got != 1 {
		t.Errorf("errors{access} %d", got)
	}

	// Dir: records per log type, and a file that disappeared.
	dir := t.TempDir()
	writeFile(t, dir+"/x/1.log", "one\ntwo\n")
	writeFile(t, dir+"/y/2.log", "three\n")
	d, err := NewDir(dir, func(o *DirOptions) {
		o.Observer = rec
		o.LogTypes = map[string]string{"x/": "x", "y/": "y"}
	})
	if err != nil {
		t.Fatal(err)
	}
	recs, errs = readAll(t, d)
	if len(recs) != 3 || len(errs) != 0 || rec.count(lakerelay.MetricRecordsIn, lakerelay.Labels{Source: "dir", LogType: "x"}) != 2 ||
		rec.count(lakerelay.MetricBytesIn, lakerelay.Labels{Source: "dir", LogType: "y"}) != 5 {
		t.Fatalf("dir: %d records %v, counts %v", len(recs), errs, rec.counts)
	}
	if v, _ := rec.gauge(lakerelay.MetricSourceUp, lakerelay.Labels{Source: "dir"}); v != 1 {
		t.Errorf("dir source_up %v", v)
	}
}

func TestReaderMetrics(t *testing.T) {
	rec := newRecorder()
	var quarantined int
	rd, err := NewReader("stdin", strings.NewReader("{\"a\":1}\nnot json\n{\"b\":2}\n"), func(o *ReaderOptions) {
		o.Observer, o.Name, o.LogType = rec, "export", "app"
		o.Decode.StreamType = NDJSON
		o.Quarantine = func(lakerelay.Record, error) error { quarantined++; return nil }
	})
	if err != nil {
		t.Fatal(err)
	}
	recs, errs := readAll(t, rd)
	l := lakerelay.Labels{Source: "export", LogType: "app"}
	if len(recs) != 2 || len(errs) != 0 || quarantined != 1 || rec.count(lakerelay.MetricRecordsIn, l) != 2 ||
		rec.count(lakerelay.MetricBytesIn, l) != 14 || rec.sum(lakerelay.MetricQuarantined, "export") != 1 {
		t.Fatalf("reader: %d records %v, %d quarantined, counts %v", len(recs), errs, quarantined, rec.counts)
	}
}

func TestProblemClass(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&ObjectError{Offset: 3, Index: -1, Err: invalidf("bad")}, lakerelay.ClassInvalid},
		{&ObjectError{Offset: 3, Index: -1, Err: errors.New("gzip: invalid header")}, lakerelay.ClassDecode},
		{&ObjectError{Offset: -1, Index: -1, Err: errors.New("get object: boom")}, lakerelay.ClassOther},
		{&ObjectError{Offset: -1, Index: -1, Err: ErrNotFound}, lakerelay.ClassAccess},
		{&ObjectError{Offset: 0, Index: -1, Err: &tooLargeError{limit: 1}}, lakerelay.ClassTooLarge},
		{&MessageError{Err: ErrInvalidNotification}, lakerelay.ClassDecode},
		{&MessageError{Err: ErrMaxReceiveCount}, lakerelay.ClassMaxReceive},
		{&MessageError{Err: &BatchEntryError{Code: "InternalError"}}, lakerelay.ClassTransient},
		{&MessageError{Err: &BatchEntryError{Code: "ReceiptHandleIsInvalid", SenderFault: true}}, lakerelay.ClassOther},
		{&ObjectError{Offset: 5, Index: 1, Err: &quarantineError{reason: invalidf("x"), err: &BatchEntryError{Code: "SlowDown"}}}, lakerelay.ClassThrottled},
	} {
		if got := problemClass(tc.err); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.err, got, tc.want)
		}
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

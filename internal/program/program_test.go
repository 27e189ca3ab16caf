package program

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/quarantine"
	"github.com/lakerelay/lakerelay/sink"
	"github.com/lakerelay/lakerelay/source"
)

func parseFlags(t *testing.T, args ...string) (Flags, error) {
	t.Helper()
	var f Flags
	fs := flag.NewFlagSet("p", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.Register(fs)
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	return f, f.Validate()
}

func TestFlags(t *testing.T) {
	f, err := parseFlags(t)
	require.NoError(t, err)
	require.Equal(t, Flags{LogFormat: "text", LogLevel: "info", ShutdownTimeout: batch.DefaultShutdownTimeout}, f)

	_, err = parseFlags(t, "--log-format", "xml", "--log-level", "loud", "--drop-off", "-1s", "--metrics-linger", "-1s", "--shutdown-timeout", "0s")
	for _, want := range []string{`--log-format "xml"`, `--log-level "loud"`, "--drop-off -1s", "--metrics-linger -1s", "--shutdown-timeout 0s"} {
		require.ErrorContains(t, err, want)
	}
}

func TestLoggerFormatAndLevel(t *testing.T) {
	var buf bytes.Buffer
	f, err := parseFlags(t, "--log-format", "json", "--log-level", "warn")
	require.NoError(t, err)
	env, err := Start("prog", f, &buf)
	require.NoError(t, err)
	env.Logger.Info("hidden")
	env.Logger.Warn("shown", "k", 1)
	require.NoError(t, env.Close())
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line), buf.String())
	require.Equal(t, "shown", line["msg"])
	require.Equal(t, "prog", line["program"])
	require.Equal(t, "WARN", line["level"])
}

func TestMetricsServedAndHealth(t *testing.T) {
	var buf LockedWriter
	var out bytes.Buffer
	buf.W = &out
	f, err := parseFlags(t, "--metrics-addr", "127.0.0.1:0")
	require.NoError(t, err)
	env, err := Start("prog", f, &buf)
	require.NoError(t, err)
	defer env.Close()
	src, err := source.NewReader("in", strings.NewReader("a\nbb\n"), env.Reader, func(o *source.ReaderOptions) { o.Decode.StreamType = source.Lines })
	require.NoError(t, err)
	w := env.Watch(src)
	for {
		if _, err := w.Read(context.Background()); err != nil {
			break
		}
	}
	require.Equal(t, int64(2), w.Records())
	var sb strings.Builder
	require.NoError(t, env.Registry.WritePrometheus(&sb))
	require.Contains(t, sb.String(), `lakerelay_records_in_total{source="prog"} 2`)
	require.Contains(t, sb.String(), `lakerelay_bytes_in_total{source="prog"} 3`)
	require.Contains(t, sb.String(), `lakerelay_source_up{source="prog"} 1`)
	ok, _ := env.Registry.Healthy()
	require.True(t, ok)

	env.Fatal(errors.New("queue gone"))
	ok, reason := env.Registry.Healthy()
	require.False(t, ok)
	require.Contains(t, reason, "queue gone")
	require.Contains(t, out.String(), "msg=\"serving metrics\"")
	require.Contains(t, out.String(), `level=ERROR msg=fatal program=prog err="queue gone"`)
}

func TestStartRefusesAddressInUse(t *testing.T) {
	f, err := parseFlags(t, "--metrics-addr", "127.0.0.1:0")
	require.NoError(t, err)
	first, err := Start("a", f, io.Discard)
	require.NoError(t, err)
	defer first.Close()
	f.MetricsAddr = "256.0.0.1:1"
	_, err = Start("b", f, io.Discard)
	require.ErrorContains(t, err, "--metrics-addr")
}

// TestDropOff: with --drop-off the alarm fires when no record arrives, is
// logged at Warn and counted, and is logged again when records resume.
func TestDropOff(t *testing.T) {
	var out bytes.Buffer
	lw := &LockedWriter{W: &out}
	f, err := parseFlags(t, "--drop-off", "100ms")
	require.NoError(t, err)
	env, err := Start("prog", f, lw)
	require.NoError(t, err)
	// A slow stream, as standard input fed a line at a time: the source
	// reports each record before it waits for the next bytes.
	pr, pw := io.Pipe()
	src, err := source.NewReader("stdin", pr, env.Reader, func(o *source.ReaderOptions) { o.Decode.StreamType = source.Lines })
	require.NoError(t, err)
	w := env.Watch(src)
	read := make(chan error, 1)
	go func() {
		for {
			if _, err := w.Read(context.Background()); err != nil {
				read <- err
				return
			}
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for env.DropOffs() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	require.Equal(t, int64(1), env.DropOffs())
	_, err = pw.Write([]byte("a first line\n"))
	require.NoError(t, err)
	deadline = time.Now().Add(5 * time.Second)
	for !strings.Contains(lw.String(), "records resumed") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	pw.Close()
	require.ErrorIs(t, <-read, io.EOF)
	require.Equal(t, int64(1), w.Records())
	require.NoError(t, env.Close())
	log := lw.String()
	require.Contains(t, log, `level=WARN msg="drop-off: no record" program=prog source=prog`)
	require.Contains(t, log, `level=WARN msg="records resumed" program=prog source=prog`)
}

func (l *LockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.W.(*bytes.Buffer).String()
}

func TestStopWhenIdle(t *testing.T) {
	env, err := Start("prog", Flags{LogFormat: "text", LogLevel: "info", ShutdownTimeout: time.Second}, io.Discard)
	require.NoError(t, err)
	defer env.Close()
	w := env.Watch(chanSource(make(chan lakerelay.Record)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var busy sync.Mutex
	isBusy := true
	start := time.Now()
	go func() { time.Sleep(150 * time.Millisecond); busy.Lock(); isBusy = false; busy.Unlock() }()
	w.StopWhenIdle(ctx, 50*time.Millisecond, func() bool { busy.Lock(); defer busy.Unlock(); return isBusy }, cancel)
	require.Error(t, ctx.Err(), "stopped")
	require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond, "not while busy")
}

// A record read while the idle time runs starts it again: the stop comes
// idle after the last record, not idle after the start.
func TestStopWhenIdleAfterLastRecord(t *testing.T) {
	env, err := Start("prog", Flags{LogFormat: "text", LogLevel: "info", ShutdownTimeout: time.Second}, io.Discard)
	require.NoError(t, err)
	defer env.Close()
	c := make(chan lakerelay.Record, 1)
	w := env.Watch(chanSource(c))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const idle = 300 * time.Millisecond
	var sent atomic.Int64 // before the record is read
	go func() {
		time.Sleep(60 * time.Millisecond)
		sent.Store(time.Now().UnixNano())
		c <- lakerelay.Record{Data: []byte("x")}
		w.Read(ctx)
	}()
	w.StopWhenIdle(ctx, idle, nil, cancel)
	stopped := time.Now()
	require.Error(t, ctx.Err(), "stopped")
	require.Equal(t, int64(1), w.Records(), "the record was read before the stop")
	require.GreaterOrEqual(t, stopped.Sub(time.Unix(0, sent.Load())), idle, "stopped less than idle after the last record")
}

// TestQuarantineOpensOnFirstUse: nothing is created until a record is
// quarantined; then entries are durable before the record is acknowledged.
func TestQuarantineOpensOnFirstUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "q.ndjson")
	q, err := NewQuarantine(path, nil)
	require.NoError(t, err)
	require.NoError(t, q.Flush(context.Background()))
	require.Equal(t, int64(0), q.Entries())
	_, err = os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist)

	acked := make(chan error, 1)
	q.Quarantine(lakerelay.Record{Data: []byte(`{"a":1}`), Origin: lakerelay.Origin{Bucket: "b", Key: "k", Index: 3}, Ack: func(err error) { acked <- err }}, errors.New("bad"))
	require.NoError(t, q.Put(lakerelay.Record{Data: []byte("text")}, errors.New("worse")))
	require.NoError(t, <-acked)
	require.NoError(t, q.Close(context.Background()))
	require.Equal(t, int64(2), q.Entries())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Len(t, lines, 2)
	var e quarantine.Entry
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &e))
	require.Equal(t, "bad", e.Reason)
	require.Equal(t, quarantine.Origin{Bucket: "b", Key: "k", Index: 3}, e.Origin)
	require.Error(t, q.Put(lakerelay.Record{Data: []byte("x")}, errors.New("after close")), "closed")

	var none *Quarantine
	require.Nil(t, none.Quarantiner())
	require.Nil(t, none.Func())
	require.NoError(t, none.Close(context.Background()))
}

func TestQuarantineLocations(t *testing.T) {
	for loc, want := range map[string]string{
		"s3://":          "no bucket",
		"s3://b/p":       "needs AWS settings",
		"ftp://host/x":   "want a path or s3://bucket/prefix",
		"https://host/x": "want a path or s3://bucket/prefix",
	} {
		_, err := NewQuarantine(loc, nil)
		require.ErrorContains(t, err, want, loc)
	}
	q, err := NewQuarantine("", nil)
	require.NoError(t, err)
	require.Nil(t, q)

	// A location that cannot be opened fails the record, which stays
	// redeliverable, with the reason.
	blocker := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o600))
	q, err = NewQuarantine(filepath.Join(blocker, "q.ndjson"), nil)
	require.NoError(t, err)
	var got error
	q.Quarantine(lakerelay.Record{Data: []byte("x"), Ack: func(err error) { got = err }}, errors.New("bad"))
	require.ErrorContains(t, got, "quarantine")
}

func TestPrintSummary(t *testing.T) {
	var b bytes.Buffer
	PrintSummary(&b, struct {
		N int `json:"n"`
	}{3})
	require.Equal(t, "{\"n\":3}\n", b.String())
}

// chanSource yields the records sent on it.
type chanSource chan lakerelay.Record

func (c chanSource) Read(ctx context.Context) (lakerelay.Record, error) {
	select {
	case r := <-c:
		return r, nil
	case <-ctx.Done():
		return lakerelay.Record{}, ctx.Err()
	}
}

func (c chanSource) Close() error { return nil }

// TestDropOffPerLogType: with --drop-off each log type is watched from its
// first record on, besides the whole source.
func TestDropOffPerLogType(t *testing.T) {
	var out bytes.Buffer
	lw := &LockedWriter{W: &out}
	f, err := parseFlags(t, "--drop-off", "150ms")
	require.NoError(t, err)
	env, err := Start("prog", f, lw)
	require.NoError(t, err)
	pr, pw := io.Pipe()
	src, err := source.NewReader("stdin", pr, env.Reader, func(o *source.ReaderOptions) {
		o.Decode.StreamType, o.LogType = source.Lines, "app"
	})
	require.NoError(t, err)
	go func() {
		for {
			if _, err := src.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	_, err = pw.Write([]byte("a first line\n"))
	require.NoError(t, err)
	want := `level=WARN msg="drop-off: no record" program=prog source=prog log_type=app`
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(lw.String(), want) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	pw.Close()
	require.NoError(t, env.Close())
	require.Contains(t, lw.String(), want)
	require.GreaterOrEqual(t, env.DropOffs(), int64(1))
}

// TestComponentsReportToTheProgram runs a reader, the batcher and the JSONL
// sink built with the Env's option functions: records in are counted under
// the program's name, records out under the sink's, and with
// --metrics-partitions the records out carry their partition (the sink's
// own layout, which batch.Run partitions by).
func TestComponentsReportToTheProgram(t *testing.T) {
	for _, partitions := range []bool{false, true} {
		args := []string{}
		if partitions {
			args = append(args, "--metrics-partitions")
		}
		f, err := parseFlags(t, args...)
		require.NoError(t, err)
		var out bytes.Buffer
		env, err := Start("prog", f, &LockedWriter{W: &out})
		require.NoError(t, err)
		dir, err := sink.NewDir(t.TempDir(), env.DirStore)
		require.NoError(t, err)
		s, err := sink.NewJSONL(dir, env.JSONL, func(o *sink.JSONLOptions) { o.Compression, o.Prefix = sink.None, "p/" })
		require.NoError(t, err)
		b, err := batch.New(s, env.Batch)
		require.NoError(t, err)
		src, err := source.NewReader("in", strings.NewReader("{\"a\":1}\n{\"a\":2}\n"), env.Reader, func(o *source.ReaderOptions) {
			o.Decode.StreamType, o.LogType = source.NDJSON, "app"
		})
		require.NoError(t, err)
		tot, err := batch.Run(context.Background(), src, b, s, env.RunOptions(nil))
		require.NoError(t, err)
		require.Equal(t, int64(2), tot.In)
		var sb strings.Builder
		require.NoError(t, env.Registry.WritePrometheus(&sb))
		require.NoError(t, env.Close())
		m := sb.String()
		require.Contains(t, m, `lakerelay_records_in_total{log_type="app",source="prog"} 2`)
		if partitions {
			require.Regexp(t, `lakerelay_records_out_total\{log_type="app",partition="[^"]+",source="jsonl"\} 2`, m)
		} else {
			require.Contains(t, m, `lakerelay_records_out_total{log_type="app",source="jsonl"} 2`)
		}
		require.Contains(t, out.String(), `msg="jsonl sink created"`, "the sink logs through the program's logger")
	}
}

func TestStatus(t *testing.T) {
	require.Equal(t, 0, Status(nil, 0))
	require.Equal(t, 1, Status(nil, 1), "a failure counted, even one whose data stays redeliverable")
	require.Equal(t, 1, Status(errors.New("fatal"), 0))
	require.Equal(t, 1, Status(errors.New("fatal"), 3))
}

// TestGCPercent: the program's target applies unless GOGC is set; then GOGC's
// stays.
func TestGCPercent(t *testing.T) {
	was := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(was) })

	t.Setenv("GOGC", "")
	GCPercent(50)
	require.Equal(t, 50, debug.SetGCPercent(100), "the target without GOGC")

	t.Setenv("GOGC", "200")
	debug.SetGCPercent(200) // as the runtime read it at start
	GCPercent(50)
	require.Equal(t, 200, debug.SetGCPercent(100), "GOGC's target stays")
}

// TestOutside: a quarantine or archive under a source location is refused,
// whatever the spelling of the two; one beside it is not.
func TestOutside(t *testing.T) {
	wd, err := os.Getwd()
	require.NoError(t, err)
	for _, c := range []struct {
		out, loc string
		inside   bool
	}{
		{"out", "out/q.ndjson", true},
		{"out/", "./out/sub/q/", true},
		{"out", "out", true},
		{filepath.Join(wd, "out"), "out/q.ndjson", true},
		{"out", "out2/q.ndjson", false},
		{"out", "q.ndjson", false},
		{"out/region", "out", false},
		{"a/../out", "out/x", true},
		{"s3://lake/ext/src/", "s3://lake/ext/src/quarantine/", true},
		{"s3://lake/ext/src", "s3://lake/ext/src", true},
		{"s3://lake/", "s3://lake/quarantine", true},
		{"s3://lake/ext/src/", "s3://lake/ext/src2/", false},
		{"s3://lake/ext/src/", "s3://other/ext/src/q/", false},
		{"s3://lake/ext/src/", "ext/src/q.ndjson", false},
		{"out", "s3://out/q/", false},
	} {
		err := Outside([]string{"elsewhere", c.out}, "--quarantine", c.loc)
		if c.inside {
			require.ErrorContains(t, err, "--quarantine "+c.loc+" is inside the source location "+c.out, "%+v", c)
		} else {
			require.NoError(t, err, "%+v", c)
		}
	}
	require.NoError(t, Outside([]string{"out"}, "--archive", ""))
}

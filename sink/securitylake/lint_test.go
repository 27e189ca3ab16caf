package securitylake

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lakerelay/lakerelay"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay/internal/testenv"
	"github.com/lakerelay/lakerelay/sink"
)

func codes(r *LintReport) map[string]int {
	m := map[string]int{}
	for _, f := range r.Findings {
		m[f.Code]++
	}
	return m
}

// parquetFile writes rows (JSON) with schema and props to a Parquet file in
// memory, through the converter.
func parquetFile(t testing.TB, schema *arrow.Schema, props *parquet.WriterProperties, rows ...string) []byte {
	t.Helper()
	c, err := newConverter(schema)
	require.NoError(t, err)
	defer c.release()
	rec, bad := convertAll(t, c, rows...)
	require.Empty(t, bad)
	defer rec.Release()
	var buf bytes.Buffer
	fw, err := pqarrow.NewFileWriter(schema, &buf, props, pqarrow.DefaultWriterProps())
	require.NoError(t, err)
	require.NoError(t, fw.Write(rec))
	require.NoError(t, fw.Close())
	return buf.Bytes()
}

func TestLintCleanLocation(t *testing.T) {
	t.Parallel() // among the slowest under the race detector: overlap them
	dir := t.TempDir()
	s := newDirSink(t, dir)
	events := genEvents(scaled(500), 21)
	writeAll(t, s, events, 200)
	store, err := sink.NewDir(dir)
	require.NoError(t, err)
	rep, err := Lint(context.Background(), store, dir)
	require.NoError(t, err)
	assert.Empty(t, rep.Findings)
	assert.Equal(t, len(events), rep.Rows)
	assert.Equal(t, 6003, rep.Class)
	assert.Greater(t, rep.Files, 9)
	assert.Equal(t, rep.Files, rep.Partitions, "one file per partition here")
}

func TestLintFindsProblems(t *testing.T) {
	good := `{"class_uid":6003,"time":1764626400000,"cloud":{"region":"us-east-1","account":{"uid":"111122223333"}}}`
	okPath := "region=us-east-1/accountId=111122223333/eventDay=20251201/"
	zstd := writerProperties(memory.DefaultAllocator, 0)
	tests := []struct {
		name string
		path string
		data func(t *testing.T) []byte
		want string
		sev  lakerelay.Severity
	}{
		{"not parquet", okPath + "x.json", func(*testing.T) []byte { return []byte("{}") }, CodeLayout, lakerelay.SeverityError},
		{"bad layout", "region=us-east-1/eventDay=20251201/x.parquet", func(t *testing.T) []byte {
			return parquetFile(t, testSchema(), zstd, good)
		}, CodeLayout, lakerelay.SeverityError},
		{"lower-case keys", "region=us-east-1/accountid=111122223333/eventday=20251201/x.parquet", func(t *testing.T) []byte {
			return parquetFile(t, testSchema(), zstd, good)
		}, CodeLayout, lakerelay.SeverityError},
		{"truncated", okPath + "x.parquet", func(t *testing.T) []byte {
			b := parquetFile(t, testSchema(), zstd, good)
			return b[:len(b)/2]
		}, CodeUnreadable, lakerelay.SeverityError},
		{"snappy", okPath + "x.parquet", func(t *testing.T) []byte {
			return parquetFile(t, testSchema(), parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy)), good)
		}, CodeCodec, lakerelay.SeverityError},
		{"wrong day", "region=us-east-1/accountId=111122223333/eventDay=20251130/x.parquet", func(t *testing.T) []byte {
			return parquetFile(t, testSchema(), zstd, good)
		}, CodePartition, lakerelay.SeverityError},
		{"wrong account", "region=us-east-1/accountId=444455556666/eventDay=20251201/x.parquet", func(t *testing.T) []byte {
			return parquetFile(t, testSchema(), zstd, good)
		}, CodePartition, lakerelay.SeverityError},
		{"two classes", okPath + "x.parquet", func(t *testing.T) []byte {
			return parquetFile(t, testSchema(), zstd, good, strings.Replace(good, "6003", "3002", 1))
		}, CodeClass, lakerelay.SeverityError},
		{"unsorted", okPath + "x.parquet", func(t *testing.T) []byte {
			return parquetFile(t, testSchema(), zstd, good, strings.Replace(good, "1764626400000", "1764626300000", 1))
		}, CodeSort, lakerelay.SeverityWarning},
		{"other schema", okPath + "x.parquet", func(t *testing.T) []byte {
			s := arrow.NewSchema(append(testSchema().Fields(), arrow.Field{Name: "zzz", Type: arrow.BinaryTypes.String, Nullable: true}), nil)
			return parquetFile(t, s, zstd, good)
		}, CodeSchema, lakerelay.SeverityError},
		// Written by arrow-go v18.5.0 (this package's writer before v18.9.0):
		// min > max statistics for a chunk of empty lists, which DuckDB
		// rejects. Newer writers no longer produce such files; Lint still
		// finds them in locations written earlier or by other tools.
		{"statistics of empty lists", okPath + "x.parquet", func(t *testing.T) []byte {
			b, err := os.ReadFile("testdata/empty-list-statistics.parquet")
			require.NoError(t, err)
			return b
		}, CodeStatistics, lakerelay.SeverityError},
		{"nanosecond timestamps", okPath + "x.parquet", func(t *testing.T) []byte {
			s := arrow.NewSchema(append(testSchema().Fields(), arrow.Field{Name: "zzz", Type: arrow.FixedWidthTypes.Timestamp_ns, Nullable: true}), nil)
			return parquetFile(t, s, zstd, good)
		}, CodeTimestamp, lakerelay.SeverityError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			// A good file first, so that schema and class comparisons have a
			// reference.
			ref := filepath.Join(dir, okPath, "0-ref.parquet")
			require.NoError(t, os.MkdirAll(filepath.Dir(ref), 0o755))
			require.NoError(t, os.WriteFile(ref, parquetFile(t, testSchema(), zstd, good), 0o644))
			p := filepath.Join(dir, filepath.FromSlash(tt.path))
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, tt.data(t), 0o644))

			store, err := sink.NewDir(dir)
			require.NoError(t, err)
			rep, err := Lint(context.Background(), store, dir)
			require.NoError(t, err)
			require.NotEmpty(t, rep.Findings)
			var hit *Finding
			for i, f := range rep.Findings {
				assert.Equal(t, p, f.Path, "findings name the offending file: %v", f)
				if f.Code == tt.want {
					hit = &rep.Findings[i]
				}
			}
			require.NotNil(t, hit, "want %s in %v", tt.want, rep.Findings)
			assert.Equal(t, tt.sev, hit.Severity)
		})
	}
}

// heldStore holds back the Get of one key until others were fetched: the
// objects of a location are checked concurrently, and a check that ends
// last still reports first.
type heldStore struct {
	sink.Store
	held    string
	others  atomic.Int32
	release chan struct{}
}

func (s *heldStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if key == s.held {
		select {
		case <-s.release:
		case <-time.After(10 * time.Second):
			return nil, errors.New("the other objects were not fetched while this one waited")
		}
	} else if s.others.Add(1) == 3 {
		close(s.release)
	}
	return s.Store.Get(ctx, key)
}

// TestLintConcurrentKeyOrder checks a location of many objects: the
// report lists findings in key order, a file's findings in the order of
// the checks (its schema before its timestamps, its class after them),
// the schema and class comparisons against the first file in key order,
// and is the same on every run whatever order the checks end in.
func TestLintConcurrentKeyOrder(t *testing.T) {
	good := `{"class_uid":6003,"time":1764626400000,"cloud":{"region":"us-east-1","account":{"uid":"111122223333"}}}`
	okPath := "region=us-east-1/accountId=111122223333/eventDay=20251201/"
	zstd := writerProperties(memory.DefaultAllocator, 0)
	nanos := arrow.NewSchema(append(testSchema().Fields(), arrow.Field{Name: "zzz", Type: arrow.FixedWidthTypes.Timestamp_ns, Nullable: true}), nil)
	files := map[string][]byte{
		"00-ref.parquet":  parquetFile(t, testSchema(), zstd, good),
		"01.parquet":      parquetFile(t, testSchema(), zstd, good, good),
		"02-bad.parquet":  parquetFile(t, nanos, zstd, strings.Replace(good, "6003", "3002", 1)),
		"03.json":         []byte("{}"),
		"04.parquet":      parquetFile(t, testSchema(), zstd, good),
		"05-3002.parquet": parquetFile(t, testSchema(), zstd, strings.Replace(good, "6003", "3002", 1)),
		"06.parquet":      parquetFile(t, testSchema(), zstd, good),
		"07.parquet":      parquetFile(t, testSchema(), zstd, good),
	}
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, okPath), 0o755))
	for name, b := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, okPath, name), b, 0o644))
	}
	loc := func(name string) string { return filepath.Join(dir, okPath, name) }
	want := []struct{ path, code string }{
		{loc("02-bad.parquet"), CodeSchema},
		{loc("02-bad.parquet"), CodeTimestamp},
		{loc("02-bad.parquet"), CodeClass},
		{loc("03.json"), CodeLayout},
		{loc("05-3002.parquet"), CodeClass},
	}
	dirStore, err := sink.NewDir(dir)
	require.NoError(t, err)
	var first *LintReport
	for run := range 4 {
		store := &heldStore{Store: dirStore, held: okPath + "00-ref.parquet", release: make(chan struct{})}
		rep, err := Lint(context.Background(), store, dir)
		require.NoError(t, err)
		var got []struct{ path, code string }
		for _, f := range rep.Findings {
			got = append(got, struct{ path, code string }{f.Path, f.Code})
		}
		require.Equal(t, want, got, "run %d: %v", run, rep.Findings)
		assert.Contains(t, rep.Findings[2].Message, "class_uid 3002, but the location's first file has 6003")
		assert.Contains(t, rep.Findings[0].Message, "schema differs from that of "+loc("00-ref.parquet"))
		assert.Equal(t, 7, rep.Files)
		assert.Equal(t, 8, rep.Rows)
		assert.Equal(t, 1, rep.Partitions)
		assert.Equal(t, 6003, rep.Class)
		if first == nil {
			first = rep
		} else {
			assert.Equal(t, first, rep, "run %d", run)
		}
	}

	// A cancelled check reports the context's error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Lint(ctx, dirStore, dir)
	require.ErrorIs(t, err, context.Canceled)
}

func TestLintEmptyLocation(t *testing.T) {
	dir := t.TempDir()
	store, err := sink.NewDir(dir)
	require.NoError(t, err)
	rep, err := Lint(context.Background(), store, dir)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{CodeEmpty: 1}, codes(rep))
}

func TestLintMinIO(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	store, err := sink.NewS3(m.S3(t), bucket)
	require.NoError(t, err)
	loc := "s3://" + bucket + "/ext/lint/"
	s, err := New(store, loc, 6003)
	require.NoError(t, err)
	events := genEvents(scaled(300), 22)
	writeAll(t, s, events, 1000)
	rep, err := Lint(context.Background(), store, loc)
	require.NoError(t, err)
	assert.Empty(t, rep.Findings)
	assert.Equal(t, len(events), rep.Rows)

	// A second source location in the same bucket is not mixed in.
	_, err = Lint(context.Background(), store, "s3://other-bucket/ext/lint/")
	require.Error(t, err)
}

var _ memory.Allocator = (*recycler)(nil)

// TestRecycler checks the linter's allocator: buffers come zeroed, a freed
// buffer is handed out again, Reallocate keeps the contents and zeroes what
// it adds, and buffers it did not allocate are left alone.
func TestRecycler(t *testing.T) {
	var r recycler
	a := r.Allocate(100)
	require.Len(t, a, 100)
	assert.Equal(t, 128, cap(a))
	for i := range a {
		a[i] = 0xff
	}
	r.Free(a)
	b := r.Allocate(70) // same class: a again, zeroed
	assert.Same(t, &a[0], &b[0], "freed buffer reused")
	assert.Equal(t, make([]byte, 70), b)

	copy(b, "hello")
	b = r.Reallocate(120, b) // fits the capacity: in place
	assert.Same(t, &a[0], &b[0])
	assert.Equal(t, append([]byte("hello"), make([]byte, 115)...), b)
	c := r.Reallocate(1000, b) // grows: copied, the old one freed
	assert.Len(t, c, 1000)
	assert.Equal(t, append([]byte("hello"), make([]byte, 995)...), c)
	d := r.Allocate(128)
	assert.Same(t, &a[0], &d[0], "the buffer Reallocate left was freed")

	r.Free(make([]byte, 100)) // not a power-of-two capacity: not ours
	e := r.Allocate(100)
	assert.Equal(t, 128, cap(e))
}

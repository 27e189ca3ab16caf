package securitylake

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/testenv"
	"github.com/lakerelay/lakerelay/ocsf"
	"github.com/lakerelay/lakerelay/sink"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// genEvents returns n events spread over regions, accounts and days.
func genEvents(n int, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	out := make([][]byte, n)
	for i := range out {
		out[i] = genEvent(rng, i, true)
	}
	return out
}

// largestPartition partitions events with s and returns the partition with
// the most of them, and its records in event order.
func largestPartition(t *testing.T, s *Sink, events [][]byte) (string, []lakerelay.Record) {
	t.Helper()
	parts := map[string][]lakerelay.Record{}
	largest := ""
	for i, e := range events {
		r := lakerelay.Record{Data: e, Origin: lakerelay.Origin{Key: "gen", Index: int64(i)}}
		p, err := s.Partition(r)
		require.NoError(t, err)
		parts[p] = append(parts[p], r)
		if len(parts[p]) > len(parts[largest]) {
			largest = p
		}
	}
	return largest, parts[largest]
}

// writeAll partitions events and writes one batch per partition, several
// batches for big partitions. It returns the record count per partition.
func writeAll(t *testing.T, s *Sink, events [][]byte, perBatch int) map[string]int {
	t.Helper()
	parts := map[string][]lakerelay.Record{}
	for i, e := range events {
		r := lakerelay.Record{Data: e, Origin: lakerelay.Origin{Key: "gen", Index: int64(i)}}
		p, err := s.Partition(r)
		require.NoError(t, err)
		parts[p] = append(parts[p], r)
	}
	counts := map[string]int{}
	for p, rs := range parts {
		for len(rs) > 0 {
			n := min(perBatch, len(rs))
			require.NoError(t, s.WriteBatch(context.Background(), p, rs[:n]))
			rs = rs[n:]
			counts[p] += n
		}
	}
	return counts
}

// sqlGlob is the DuckDB glob over every Parquet file under dir.
func sqlGlob(dir string) string {
	return "'" + strings.ReplaceAll(filepath.ToSlash(dir), "'", "''") + "/**/*.parquet'"
}

// verifyLake checks, with DuckDB, every Parquet file under dir against the
// events that were written there.
func verifyLake(t *testing.T, dir string, events [][]byte) {
	t.Helper()
	g := sqlGlob(dir)
	src := "read_parquet(" + g + ", hive_partitioning=true, hive_types_autocast=false, filename=true, file_row_number=true)"

	// Row count and identity: every input event once.
	rows := testenv.DuckDB(t, "SELECT metadata.uid AS uid FROM "+src)
	require.Len(t, rows, len(events))
	var want, got []string
	for _, e := range events {
		var v struct {
			Metadata struct{ UID string } `json:"metadata"`
		}
		require.NoError(t, json.Unmarshal(e, &v))
		want = append(want, v.Metadata.UID)
	}
	for _, r := range rows {
		got = append(got, r["uid"].(string))
	}
	sort.Strings(want)
	sort.Strings(got)
	require.Equal(t, want, got)

	// Partition columns equal each row's region, account and UTC day.
	bad := testenv.DuckDB(t, `SELECT count(*) AS n FROM `+src+` WHERE region IS DISTINCT FROM cloud.region
		OR accountId IS DISTINCT FROM cloud.account.uid
		OR eventDay IS DISTINCT FROM strftime(make_timestamp(time * 1000), '%Y%m%d')
		OR eventDay IS DISTINCT FROM strftime(time_dt AT TIME ZONE 'UTC', '%Y%m%d')`)
	assert.Equal(t, json.Number("0"), bad[0]["n"], "rows whose partition disagrees with their fields")

	// ZSTD on every column chunk.
	codecs := testenv.DuckDB(t, "SELECT DISTINCT compression FROM parquet_metadata("+g+")")
	assert.Equal(t, []map[string]any{{"compression": "ZSTD"}}, codecs)

	// No nanosecond timestamps, no exotic encodings.
	enc := testenv.DuckDB(t, "SELECT DISTINCT unnest(string_split(encodings, ',')) AS e FROM parquet_metadata("+g+") ORDER BY e")
	for _, r := range enc {
		assert.Contains(t, []string{"PLAIN", "RLE", "BIT_PACKED"}, strings.TrimSpace(r["e"].(string)))
	}
	ts := testenv.DuckDB(t, "SELECT DISTINCT type, converted_type, logical_type FROM parquet_schema("+g+") WHERE logical_type LIKE 'TimestampType%' OR type = 'INT96'")
	for _, r := range ts {
		assert.Equal(t, "INT64", r["type"])
		assert.Equal(t, "TIMESTAMP_MILLIS", r["converted_type"])
		assert.Contains(t, r["logical_type"], "isAdjustedToUTC=1, unit=TimeUnit(MILLIS=MilliSeconds(), MICROS=<null>, NANOS=<null>)")
	}
	assert.NotEmpty(t, ts, "time_dt is a timestamp column")

	// One schema across files.
	schemas := testenv.DuckDB(t, `SELECT count(DISTINCT s) AS n, count(*) AS files FROM (
		SELECT file_name, string_agg(concat_ws(':', name, type, repetition_type, logical_type, num_children), ',' ORDER BY column_id) AS s
		FROM parquet_schema(`+g+`) GROUP BY file_name)`)
	assert.Equal(t, json.Number("1"), schemas[0]["n"], "distinct schemas")

	// time sorted within each file.
	unsorted := testenv.DuckDB(t, `SELECT count(*) AS n FROM (
		SELECT time, lag(time) OVER (PARTITION BY filename ORDER BY file_row_number) AS prev FROM `+src+`) WHERE prev > time`)
	assert.Equal(t, json.Number("0"), unsorted[0]["n"], "rows out of time order")

	// Data pages at most 1 MiB uncompressed and row groups at most 256 MiB.
	pages, err := maxPageSizes(dir)
	require.NoError(t, err)
	assert.LessOrEqual(t, pages.maxPage, int64(MaxDataPageBytes))
	assert.LessOrEqual(t, pages.maxRowGroup, int64(MaxRowGroupBytes))
}

func newDirSink(t *testing.T, dir string, opts ...func(*Options)) *Sink {
	t.Helper()
	store, err := sink.NewDir(dir)
	require.NoError(t, err)
	s, err := New(store, dir, 6003, opts...)
	require.NoError(t, err)
	return s
}

func TestWriteDirReadByDuckDB(t *testing.T) {
	t.Parallel() // among the slowest under the race detector: overlap them
	for _, tt := range []struct {
		name   string
		schema func(t *testing.T) *arrow.Schema
	}{
		{"builtin OCSF 1.1.0 schema", func(t *testing.T) *arrow.Schema { return nil }},
		{"hand-built schema", func(t *testing.T) *arrow.Schema { return testSchema() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			events := genEvents(scaled(3000), 11)
			mem := checked(t)
			s := newDirSink(t, dir, func(o *Options) {
				o.Schema = tt.schema(t)
				o.Allocator = mem
				o.ChunkBytes = 64 << 10 // several record batches per object
			})
			counts := writeAll(t, s, events, 400)
			assert.Greater(t, len(counts), 9, "events span several partitions")
			verifyLake(t, dir, events)
		})
	}
}

// maxPageSizes reads every page header of every file under dir.
func maxPageSizes(dir string) (pageStats, error) {
	var st pageStats
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".parquet") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		s, err := filePageStats(f)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		st.maxPage = max(st.maxPage, s.maxPage)
		st.maxRowGroup = max(st.maxRowGroup, s.maxRowGroup)
		return nil
	})
	return st, err
}

func TestWriteMinIOReadByDuckDB(t *testing.T) {
	t.Parallel() // among the slowest under the race detector: overlap them
	m := testenv.StartMinIO(t)
	client := m.S3(t)
	bucket := m.NewBucket(t)
	store, err := sink.NewS3(client, bucket)
	require.NoError(t, err)
	location := "s3://" + bucket + "/ext/lakerelay-test/1.0/"
	s, err := New(store, location, 6003)
	require.NoError(t, err)
	events := genEvents(scaled(2000), 12)
	writeAll(t, s, events, 700)

	// Download every object, keys as paths, and let DuckDB read them.
	dir := t.TempDir()
	n := 0
	require.NoError(t, store.List(context.Background(), "ext/lakerelay-test/1.0/", func(oi sink.ObjectInfo) error {
		require.True(t, strings.HasPrefix(oi.Key, "ext/lakerelay-test/1.0/region="), oi.Key)
		out, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(oi.Key)})
		require.NoError(t, err)
		defer out.Body.Close()
		path := filepath.Join(dir, filepath.FromSlash(oi.Key))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		f, err := os.Create(path)
		require.NoError(t, err)
		_, err = io.Copy(f, out.Body)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		n++
		return nil
	}))
	require.Greater(t, n, 9)
	verifyLake(t, filepath.Join(dir, "ext", "lakerelay-test", "1.0"), events)
}

// issueTagSchema is the tag-format schema of the Security Lake issue,
// extended with nested groups and lists (MAP groups are not supported by
// the converter).
const issueTagSchema = `{"Tag":"name=my_schema, repetitiontype=REQUIRED","Fields":[
 {"Tag":"name=Activity_id, type=INT64, convertedtype=INT_64, repetitiontype=OPTIONAL"},
 {"Tag":"name=class_uid, type=INT32, repetitiontype=OPTIONAL"},
 {"Tag":"name=time, type=INT64, convertedtype=TIMESTAMP_MILLIS, repetitiontype=OPTIONAL"},
 {"Tag":"name=message, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"},
 {"Tag":"name=cloud, repetitiontype=OPTIONAL","Fields":[
   {"Tag":"name=region, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"},
   {"Tag":"name=account, repetitiontype=OPTIONAL","Fields":[
     {"Tag":"name=uid, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"}]}]},
 {"Tag":"name=actor, repetitiontype=OPTIONAL","Fields":[
   {"Tag":"name=user, repetitiontype=OPTIONAL","Fields":[
     {"Tag":"name=uid, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"},
     {"Tag":"name=is_admin, type=BOOLEAN, repetitiontype=OPTIONAL"}]}]},
 {"Tag":"name=labels, type=LIST, repetitiontype=OPTIONAL","Fields":[
   {"Tag":"name=element, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=REQUIRED"}]},
 {"Tag":"name=resources, convertedtype=LIST, repetitiontype=OPTIONAL","Fields":[
   {"Tag":"name=list, repetitiontype=REPEATED","Fields":[
     {"Tag":"name=element, repetitiontype=OPTIONAL","Fields":[
       {"Tag":"name=uid, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"},
       {"Tag":"name=size, type=INT32, repetitiontype=OPTIONAL"}]}]}]},
 {"Tag":"name=ports, type=INT32, repetitiontype=REPEATED"},
 {"Tag":"name=unmapped, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"}
]}`

func TestTagSchemaWritesReadableParquet(t *testing.T) {
	schema, err := ocsf.ParseTagSchema([]byte(issueTagSchema))
	require.NoError(t, err)
	dir := t.TempDir()
	q := &quarantineLog{}
	s := newDirSink(t, dir, func(o *Options) { o.Schema, o.Quarantine = schema, q.put })
	var events [][]byte
	for i := range 60 {
		ports := ""
		if i%2 == 0 {
			ports = fmt.Sprintf(`,"ports":[443,%d]`, 1024+i)
		}
		events = append(events, fmt.Appendf(nil, `{"activity_id":%d,"class_uid":6003,"time":%d,"message":"m","cloud":{"region":"%s","account":{"uid":"111122223333"}},`+
			`"actor":{"user":{"uid":"u%d","is_admin":%t}},"labels":["a","b"],"resources":[{"uid":"r","size":%d},null]%s,"severity_id":1}`,
			i%5, 1764547200000+int64(i)*3600_000, testRegions[i%3], i, i%3 == 0, i, ports))
	}
	writeAll(t, s, events, 25)
	require.Empty(t, q.got)
	g := sqlGlob(dir)
	src := "read_parquet(" + g + ", hive_partitioning=true, hive_types_autocast=false)"
	rows := testenv.DuckDB(t, `SELECT count(*) AS n, sum(Activity_id) AS a, sum(len(ports)) AS p, sum(len(labels)) AS l, count(unmapped) AS u,
		count(*) FILTER (WHERE region <> cloud.region OR eventDay <> strftime(time AT TIME ZONE 'UTC', '%Y%m%d')) AS bad FROM `+src)
	assert.Equal(t, map[string]any{"n": json.Number("60"), "a": json.Number("120"), "p": json.Number("60"), "l": json.Number("120"), "u": json.Number("60"), "bad": json.Number("0")}, rows[0])
	store, err := sink.NewDir(dir)
	require.NoError(t, err)
	rep, err := Lint(context.Background(), store, dir)
	require.NoError(t, err)
	assert.Empty(t, rep.Findings)
}

// TestListStatisticsReadByDuckDB writes columns inside lists, with
// statistics, for chunks of empty and null lists and for lists with values;
// DuckDB must read and filter them (older arrow-go wrote min > max there,
// which DuckDB refused).
func TestListStatisticsReadByDuckDB(t *testing.T) {
	dir := t.TempDir()
	schema := arrow.NewSchema(append(testSchema().Fields(), arrow.Field{Name: "zzz", Nullable: true, Type: arrow.ListOf(arrow.StructOf(
		arrow.Field{Name: "at_dt", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, Nullable: true}))}), nil)
	s := newDirSink(t, dir, func(o *Options) { o.Schema = schema })
	events := genEvents(6, 13)
	for i := range events {
		list := []string{`[]`, `null`, `[{"at_dt":1764626400000}]`}[i%3]
		events[i] = []byte(strings.Replace(string(events[i]), "{", `{"zzz":`+list+`,`, 1))
	}
	writeAll(t, s, events, 6)
	g := sqlGlob(dir)
	stats := testenv.DuckDB(t, "SELECT count(*) AS n FROM parquet_metadata("+g+") WHERE path_in_schema LIKE '%at_dt%' AND stats_null_count IS NOT NULL")
	assert.NotEqual(t, json.Number("0"), stats[0]["n"], "statistics written for the column inside the list")
	rows := testenv.DuckDB(t, "SELECT count(*) AS n FROM read_parquet("+g+"), unnest(zzz) AS u(e) WHERE e.at_dt >= TIMESTAMPTZ '2025-12-01 00:00:00+00'")
	assert.Equal(t, json.Number("2"), rows[0]["n"])
	empty := testenv.DuckDB(t, "SELECT count(*) AS n FROM read_parquet("+g+") WHERE zzz IS NULL OR len(zzz) = 0")
	assert.Equal(t, json.Number("4"), empty[0]["n"])
}

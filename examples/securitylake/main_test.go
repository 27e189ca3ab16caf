package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay/internal/program/programtest"
	"github.com/lakerelay/lakerelay/internal/testenv"
	"github.com/lakerelay/lakerelay/ocsf"
	"github.com/lakerelay/lakerelay/quarantine"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func build(t *testing.T) string { return testenv.Program(t) }

type result struct {
	code           int
	stdout, stderr string
	summary        map[string]any
}

// run runs the program in dir with env and args.
func runProg(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(build(t), args...)
	cmd.Dir = dir
	cmd.Env = env
	if env == nil {
		cmd.Env = append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true")
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	lines := strings.Split(strings.TrimRight(res.stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	require.NoError(t, json.Unmarshal([]byte(last), &res.summary), "the last line on stderr is the JSON summary: %q\nstderr:\n%s", last, res.stderr)
	return res
}

func num(v any) int { f, _ := v.(float64); return int(f) }

// sampleRecords counts the CloudTrail records of the bundled sample.
func sampleRecords(t *testing.T) (n int) {
	t.Helper()
	require.NoError(t, fs.WalkDir(sampleFS, "sample", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, _ := sampleFS.Open(p)
		defer f.Close()
		zr, err := gzip.NewReader(f)
		require.NoError(t, err)
		var doc struct{ Records []json.RawMessage }
		require.NoError(t, json.NewDecoder(zr).Decode(&doc))
		n += len(doc.Records)
		return nil
	}))
	return n
}

func duckCount(t *testing.T, glob string) int {
	rows := testenv.DuckDB(t, "SELECT count(*) AS n FROM read_parquet('"+glob+"', hive_partitioning=true)")
	var n int
	fmt.Sscan(fmt.Sprint(rows[0]["n"]), &n)
	return n
}

// checkPartitions asserts that every row's partition columns match its
// fields.
func checkPartitions(t *testing.T, glob string) {
	t.Helper()
	rows := testenv.DuckDB(t, `SELECT count(*) AS n FROM read_parquet('`+glob+`', hive_partitioning=true, hive_types_autocast=false)
		WHERE region IS DISTINCT FROM cloud.region OR accountId IS DISTINCT FROM cloud.account.uid
		OR eventDay IS DISTINCT FROM strftime(make_timestamp(time * 1000), '%Y%m%d')`)
	assert.Equal(t, "0", fmt.Sprint(rows[0]["n"]))
	codecs := testenv.DuckDB(t, "SELECT DISTINCT compression FROM parquet_metadata('"+glob+"')")
	assert.Equal(t, []map[string]any{{"compression": "ZSTD"}}, codecs)
}

func TestNoFlagsWritesTheSample(t *testing.T) {
	dir := t.TempDir()
	res := runProg(t, dir, nil)
	require.Equal(t, 0, res.code, res.stderr)
	want := sampleRecords(t)
	assert.Equal(t, want, num(res.summary["records"]))
	assert.Equal(t, 0, num(res.summary["quarantined"]))
	assert.Equal(t, 0, num(res.summary["errors"]))
	assert.Greater(t, num(res.summary["partitions"]), 20)
	assert.Equal(t, num(res.summary["partitions"]), num(res.summary["objects"]), "one file per partition")

	out := filepath.Join(dir, defaultOutDir)
	classes, err := os.ReadDir(out)
	require.NoError(t, err)
	var names []string
	total := 0
	for _, c := range classes {
		names = append(names, c.Name())
		glob := filepath.Join(out, c.Name()) + "/**/*.parquet"
		total += duckCount(t, glob)
		checkPartitions(t, glob)
		one := testenv.DuckDB(t, "SELECT DISTINCT class_name FROM read_parquet('"+glob+"')")
		assert.Len(t, one, 1, "one class per source location")
	}
	assert.Equal(t, []string{"account_change", "api_activity", "authentication"}, names)
	assert.Equal(t, want, total, "every sample record is in the lake")
	assert.Contains(t, res.stdout, "PARTITION")
	assert.Contains(t, res.stdout, "read_parquet('securitylake-out/api_activity/**/*.parquet', hive_partitioning=true")
	assert.Contains(t, res.stdout, "lint securitylake-out/api_activity:")
	assert.Contains(t, res.stdout, ", 0 findings")
	_, err = os.Stat(filepath.Join(dir, defaultQuarantine))
	assert.ErrorIs(t, err, os.ErrNotExist, "no quarantine file when nothing is quarantined")

	// The run's output lints clean through --lint as well.
	lint := runProg(t, dir, nil, "--lint", filepath.Join(out, "api_activity"))
	assert.Equal(t, 0, lint.code, lint.stdout+lint.stderr)
	assert.Equal(t, 0, num(lint.summary["findings"]))
}

func TestOCSFInputOneClassQuarantinesTheRest(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	require.NoError(t, os.MkdirAll(filepath.Join(in, "sub"), 0o755))
	var good []string
	for i := range 40 {
		ts := time.Date(2026, 11, 29, 23, 50, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute).UnixMilli()
		good = append(good, fmt.Sprintf(`{"class_uid":6003,"category_uid":6,"activity_id":2,"type_uid":600302,"severity_id":1,"time":%d,"metadata":{"version":"1.1.0","product":{"name":"x","vendor_name":"y"}},"cloud":{"provider":"AWS","region":"us-west-2","account":{"uid":"123456789012"}},"api":{"operation":"GetObject"},"custom_field":%d}`, ts, i))
	}
	lines := append([]string{}, good...)
	lines = append(lines,
		`{"class_uid":3002,"time":1764460800000,"cloud":{"region":"us-west-2","account":{"uid":"123456789012"}}}`,
		`this is not json`,
		`{"class_uid":6003,"time":"yesterday"}`,
	)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(strings.Join(lines[20:], "\n") + "\n"))
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(filepath.Join(in, "a.ndjson"), []byte(strings.Join(lines[:20], "\n")+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(in, "sub", "b.ndjson.gz"), gz.Bytes(), 0o644))

	out := filepath.Join(dir, "lake")
	q := filepath.Join(dir, "q.ndjson")
	res := runProg(t, dir, nil, "--input", in, "--mapper", "none", "--class", "api_activity", "--out-dir", out, "--quarantine", q, "--batch-records", "15")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, 3, num(res.summary["quarantined"]))
	assert.Equal(t, 0, num(res.summary["errors"]))
	assert.Equal(t, 2, num(res.summary["partitions"]), "the events cross midnight UTC")
	assert.GreaterOrEqual(t, num(res.summary["objects"]), 3, "--batch-records 15 splits 40 records")

	glob := out + "/**/*.parquet"
	assert.Equal(t, len(good), duckCount(t, glob))
	checkPartitions(t, glob)
	unmapped := testenv.DuckDB(t, "SELECT count(*) AS n FROM read_parquet('"+glob+"') WHERE json_extract(unmapped, '$.custom_field') IS NOT NULL")
	assert.Equal(t, fmt.Sprint(len(good)), fmt.Sprint(unmapped[0]["n"]), "fields outside the schema are kept in unmapped")

	qdata, err := os.ReadFile(q)
	require.NoError(t, err)
	qlines := strings.Split(strings.TrimSpace(string(qdata)), "\n")
	require.Len(t, qlines, 3)
	reasons := strings.Join(qlines, "\n")
	assert.Contains(t, reasons, "another OCSF class")
	assert.Contains(t, reasons, "invalid JSON")
	assert.Contains(t, reasons, `field time`)
	for _, l := range qlines {
		var v quarantineLine
		require.NoError(t, json.Unmarshal([]byte(l), &v))
		assert.NotEmpty(t, v.Origin)
		assert.NotEmpty(t, v.Data, "the record itself is kept")
	}
}

func TestTagSchema(t *testing.T) {
	dir := t.TempDir()
	tag := `{"Tag":"name=my_schema, repetitiontype=REQUIRED","Fields":[
		{"Tag":"name=class_uid, type=INT32, repetitiontype=OPTIONAL"},
		{"Tag":"name=Activity_id, type=INT64, convertedtype=INT_64, repetitiontype=OPTIONAL"},
		{"Tag":"name=time, type=INT64, repetitiontype=OPTIONAL"},
		{"Tag":"name=message, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"},
		{"Tag":"name=cloud, repetitiontype=OPTIONAL","Fields":[
			{"Tag":"name=region, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"},
			{"Tag":"name=account, repetitiontype=OPTIONAL","Fields":[{"Tag":"name=uid, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"}]}]},
		{"Tag":"name=unmapped, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"}]}`
	schemaFile := filepath.Join(dir, "schema.json")
	require.NoError(t, os.WriteFile(schemaFile, []byte(tag), 0o644))
	in := filepath.Join(dir, "in.ndjson")
	var lines []string
	for i := range 10 {
		lines = append(lines, fmt.Sprintf(`{"class_uid":6003,"activity_id":%d,"time":%d,"message":"m%d","cloud":{"region":"us-east-1","account":{"uid":"123456789012"}},"severity_id":1}`, i%4, 1764547200000+int64(i)*1000, i))
	}
	require.NoError(t, os.WriteFile(in, []byte(strings.Join(lines, "\n")), 0o644))
	out := filepath.Join(dir, "lake")
	res := runProg(t, dir, nil, "--input", in, "--mapper", "none", "--schema", schemaFile, "--class", "6003", "--out-dir", out)
	require.Equal(t, 0, res.code, res.stderr)
	glob := out + "/**/*.parquet"
	rows := testenv.DuckDB(t, "SELECT sum(Activity_id) AS a, count(*) AS n, count(unmapped) AS u FROM read_parquet('"+glob+"')")
	assert.Equal(t, "13", fmt.Sprint(rows[0]["a"]))
	assert.Equal(t, "10", fmt.Sprint(rows[0]["n"]))
	assert.Equal(t, "10", fmt.Sprint(rows[0]["u"]), "severity_id is not in the schema and goes to unmapped")
	checkPartitions(t, glob)
}

// TestOfficialSchema writes the sample with the Parquet schema built from
// the official OCSF 1.1.0 export (the full class, every profile), which
// ../shared/ocsf holds in this project's checkouts.
func TestOfficialSchema(t *testing.T) {
	export := officialExport(t, "1.1.0")
	dir := t.TempDir()
	out := filepath.Join(dir, "lake")
	res := runProg(t, dir, nil, "--schema", export, "--class", "api_activity", "--out-dir", out)
	require.Equal(t, 0, res.code, res.stderr)
	assert.Greater(t, num(res.summary["quarantined"]), 0, "the other classes of the sample")
	glob := out + "/**/*.parquet"
	assert.Equal(t, num(res.summary["records"])-num(res.summary["quarantined"]), duckCount(t, glob))
	checkPartitions(t, glob)
	lint := runProg(t, dir, nil, "--lint", out)
	assert.Equal(t, 0, lint.code, lint.stdout)
}

func TestBadUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--mapper", "syslog"},
		{"--input", "x", "--queue-url", "https://sqs.us-east-1.amazonaws.com/123456789012/q"},
		{"--source-location", "s3://b/ext/x/", "--out-dir", "d"},
		{"--source-location", "nope=s3://b/ext/x/"},
		{"--source-location", "/local/path"},
		{"--ocsf-version", "1.3.0"},
		{"--batch-records", "0"},
		{"--class", "no_such_class"},
		{"--mapper", "none"},
		{"--exit-when-idle", "5s"},
		{"--lint", "d", "--out-dir", "e"},
		{"stray"},
	} {
		res := runProg(t, dir, nil, args...)
		assert.Equal(t, 2, res.code, "%v: %s", args, res.stderr)
		assert.NotEmpty(t, res.summary["error"], args)
	}
}

// TestQuarantineOutsideLocation: a quarantine or archive under the output
// location is refused before anything is read or written (Security Lake
// would read its objects as the source's Parquet); beside it, it is not.
func TestQuarantineOutsideLocation(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.ndjson")
	event := `{"class_uid":6003,"activity_id":1,"time":1764547200000,"severity_id":1,"cloud":{"region":"us-east-1","account":{"uid":"123456789012"}}}`
	require.NoError(t, os.WriteFile(in, []byte(event+"\n"), 0o644))
	out := filepath.Join(dir, "out")
	for _, args := range [][]string{
		{"--input", in, "--mapper", "none", "--class", "6003", "--out-dir", out, "--quarantine", filepath.Join(out, "q.ndjson")},
		{"--input", in, "--mapper", "none", "--class", "6003", "--out-dir", out, "--quarantine", out + "/"},
		{"--input", in, "--mapper", "none", "--out-dir", out, "--quarantine", filepath.Join(out, "region=x", "q")},
		{"--queue-url", "http://127.0.0.1:1/123456789012/q", "--source-location", "s3://lake/ext/s/", "--archive", "s3://lake/ext/s/raw/"},
		{"--queue-url", "http://127.0.0.1:1/123456789012/q", "--source-location", "api_activity=s3://lake/ext/a/", "--quarantine", "s3://lake/ext/a/q/"},
	} {
		res := runProg(t, dir, nil, args...)
		assert.Equal(t, 2, res.code, "%v: %s", args, res.stderr)
		assert.Contains(t, res.summary["error"], "is inside the source location", args)
		_, err := os.Stat(out)
		assert.True(t, os.IsNotExist(err), "nothing written: %v", err)
	}
	res := runProg(t, dir, nil, "--input", in, "--mapper", "none", "--class", "6003", "--out-dir", out, "--quarantine", filepath.Join(dir, "q.ndjson"))
	assert.Equal(t, 0, res.code, res.stderr)
}

func TestLintFindsProblemExitsOne(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "lake", "region=us-east-1", "accountid=123456789012")
	require.NoError(t, os.MkdirAll(bad, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bad, "x.parquet"), []byte("PAR1 not really"), 0o644))
	res := runProg(t, dir, nil, "--lint", filepath.Join(dir, "lake"))
	assert.Equal(t, 1, res.code)
	assert.Contains(t, res.stdout, "layout")
	assert.Contains(t, res.stdout, "unreadable")
	assert.Equal(t, 2, num(res.summary["findings"]))
}

// putSample uploads some sample files to bucket and returns their keys.
func putSample(t *testing.T, client *s3.Client, bucket string, n int) []string {
	t.Helper()
	var keys []string
	require.NoError(t, fs.WalkDir(sampleFS, "sample", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || len(keys) == n {
			return err
		}
		data, err := fs.ReadFile(sampleFS, p)
		require.NoError(t, err)
		key := strings.TrimPrefix(p, "sample/")
		_, err = client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)})
		require.NoError(t, err)
		keys = append(keys, key)
		return nil
	}))
	return keys
}

// download copies every object under prefix to dir.
func download(t *testing.T, client *s3.Client, bucket, prefix, dir string) int {
	t.Helper()
	out, err := client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	require.NoError(t, err)
	for _, o := range out.Contents {
		obj, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		require.NoError(t, err)
		data, err := io.ReadAll(obj.Body)
		obj.Body.Close()
		require.NoError(t, err)
		p := filepath.Join(dir, filepath.FromSlash(*o.Key))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	return len(out.Contents)
}

func TestQueueToRoutedSourceLocations(t *testing.T) {
	m := testenv.StartMinIO(t)
	client := m.S3(t)
	logs := m.NewBucket(t)
	lake := m.NewBucket(t)
	q := testenv.StartSQS(t)
	queue := q.NewQueue(t, testenv.QueueOptions{VisibilityTimeout: 60 * time.Second})
	keys := putSample(t, client, logs, 12)
	q.Announce(t, queue.URL, logs, keys...)
	dir := t.TempDir()
	env := append(q.Env(), m.Env()...)
	api := "s3://" + lake + "/ext/ct-api/1.0/"
	auth := "s3://" + lake + "/ext/ct-auth/"
	res := runProg(t, dir, env, "--queue-url", queue.URL, "--exit-when-idle", "4s",
		"--source-location", "api_activity="+api, "--source-location", "3002="+auth,
		"--quarantine", filepath.Join(dir, "q.ndjson"))
	require.Equal(t, 0, res.code, res.stderr)

	// Account Change events have no location: quarantined, with the reason.
	qdata, err := os.ReadFile(filepath.Join(dir, "q.ndjson"))
	require.NoError(t, err)
	quarantined := strings.Count(string(qdata), "\n")
	assert.Equal(t, quarantined, num(res.summary["quarantined"]))
	assert.Contains(t, string(qdata), "class_uid 3001 has no source location")

	local := t.TempDir()
	nAPI := download(t, client, lake, "ext/ct-api/1.0/", local)
	nAuth := download(t, client, lake, "ext/ct-auth/", local)
	assert.Equal(t, num(res.summary["objects"]), nAPI+nAuth)
	apiGlob := filepath.Join(local, "ext/ct-api/1.0") + "/**/*.parquet"
	authGlob := filepath.Join(local, "ext/ct-auth") + "/**/*.parquet"
	checkPartitions(t, apiGlob)
	checkPartitions(t, authGlob)
	written := duckCount(t, apiGlob) + duckCount(t, authGlob)
	assert.Equal(t, num(res.summary["records"]), written+quarantined, "every record is written or quarantined")
	assert.Equal(t, []map[string]any{{"class_uid": json.Number("6003")}}, testenv.DuckDB(t, "SELECT DISTINCT class_uid FROM read_parquet('"+apiGlob+"')"))

	// Every message was deleted: its records were all settled.
	programtest.QueueEmpty(t, q.Client(t), queue.URL)

	// The lake passes the lint, through the program.
	lint := runProg(t, dir, env, "--lint", api)
	assert.Equal(t, 0, lint.code, lint.stdout+lint.stderr)
	assert.Equal(t, 0, num(lint.summary["findings"]), lint.stdout)
}

func TestUnwritableLocationExitsOne(t *testing.T) {
	m := testenv.StartMinIO(t)
	dir := t.TempDir()
	res := runProg(t, dir, m.Env(), "--source-location", "s3://no-such-bucket-lakerelay/ext/x/", "--class", "api_activity")
	assert.Equal(t, 1, res.code, res.stderr)
	assert.Greater(t, num(res.summary["errors"]), 0)
	assert.Contains(t, res.stderr, "not delivered")
	assert.NotContains(t, res.stderr, m.SecretKey, "no credentials in the output")
}

// TestNoFlagsRerunReplacesItsOutput runs the program without flags twice:
// the second run replaces the first one's files (saying so), so its table
// and DuckDB count the sample once; files it did not write stay; and a
// user-given --out-dir is never cleared.
func TestNoFlagsRerunReplacesItsOutput(t *testing.T) {
	dir := t.TempDir()
	want := sampleRecords(t)
	out := filepath.Join(dir, defaultOutDir)
	// Files a run without flags does not write.
	keep := []string{
		filepath.Join(out, "api_activity", "NOTES.txt"),
		filepath.Join(out, "api_activity", "region=us-east-1", "mine.parquet"),
		filepath.Join(out, "other", "region=us-east-1", "accountId=111122223333", "eventDay=20261128", "x.parquet"),
	}
	for _, p := range keep {
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte("not the sample's"), 0o644))
	}

	first := runProg(t, dir, nil)
	require.Equal(t, 0, first.code, first.stderr)
	assert.NotContains(t, first.stderr, "replacing the previous sample output")
	second := runProg(t, dir, nil)
	require.Equal(t, 0, second.code, second.stderr)
	assert.Contains(t, second.stderr, "replacing the previous sample output in ./securitylake-out/")
	assert.Equal(t, first.stdout, second.stdout, "the second run's table equals the first's")
	assert.Equal(t, first.summary, second.summary)
	assert.Regexp(t, fmt.Sprintf(`(?m)^total .* %d$`, want), second.stdout, "the table's total counts the sample once")

	total := 0
	for _, c := range []string{"account_change", "api_activity", "authentication"} {
		total += duckCount(t, filepath.Join(out, c)+"/region=*/*/*/*.parquet")
	}
	assert.Equal(t, want, total, "DuckDB counts the sample once after two runs")
	for _, p := range keep {
		data, err := os.ReadFile(p)
		require.NoError(t, err, "%s was not written by the sample run and stays", p)
		assert.Equal(t, "not the sample's", string(data))
	}

	// A user-given --out-dir is never cleared: two runs, two copies.
	user := filepath.Join(dir, "mine")
	for range 2 {
		res := runProg(t, dir, nil, "--out-dir", user, "--class", "api_activity", "--quarantine", filepath.Join(dir, "q.ndjson"))
		require.Equal(t, 0, res.code, res.stderr)
		assert.NotContains(t, res.stderr, "replacing")
	}
	api := duckCount(t, filepath.Join(out, "api_activity")+"/region=*/*/*/*.parquet")
	assert.Equal(t, 2*api, duckCount(t, user+"/region=*/*/*/*.parquet"), "both runs' files stay under --out-dir")
}

// TestRoleARNWithS3Location writes the sample to an S3 source location with
// credentials from --role-arn/--external-id: the program calls STS
// AssumeRole (MinIO's, reached through a proxy that counts the calls) and
// writes with the role's credentials; when STS refuses, nothing is
// delivered and the run fails.
func TestRoleARNWithS3Location(t *testing.T) {
	m := testenv.StartMinIO(t)
	client := m.S3(t)
	const role = "arn:aws:iam::123456789012:role/lakerelay-securitylake"

	t.Run("assumed", func(t *testing.T) {
		lake := m.NewBucket(t)
		sts := testenv.NewFaultProxy(t, m.Endpoint)
		env := append(m.Env(), "AWS_ENDPOINT_URL_STS="+sts.URL())
		dir := t.TempDir()
		loc := "s3://" + lake + "/ext/ct-api/1.0/"
		res := runProg(t, dir, env, "--source-location", loc, "--class", "api_activity",
			"--role-arn", role, "--external-id", "lakerelay-ext-1", "--quarantine", filepath.Join(dir, "q.ndjson"))
		require.Equal(t, 0, res.code, res.stderr)
		assert.GreaterOrEqual(t, sts.Requests(), 1, "the role was assumed through STS")
		assert.NotContains(t, res.stderr+res.stdout, m.SecretKey, "no credentials in the output")

		local := t.TempDir()
		n := download(t, client, lake, "ext/ct-api/1.0/", local)
		assert.Equal(t, num(res.summary["objects"]), n)
		glob := filepath.Join(local, "ext/ct-api/1.0") + "/**/*.parquet"
		assert.Equal(t, num(res.summary["records"])-num(res.summary["quarantined"]), duckCount(t, glob))
		assert.Greater(t, duckCount(t, glob), 0)
		checkPartitions(t, glob)
	})

	t.Run("refused", func(t *testing.T) {
		lake := m.NewBucket(t)
		sts := testenv.NewFaultProxy(t, m.Endpoint)
		sts.FailNext(1000, 403, "AccessDenied")
		env := append(m.Env(), "AWS_ENDPOINT_URL_STS="+sts.URL())
		dir := t.TempDir()
		res := runProg(t, dir, env, "--source-location", "s3://"+lake+"/ext/ct-api/", "--class", "api_activity",
			"--role-arn", role, "--external-id", "lakerelay-ext-1", "--quarantine", filepath.Join(dir, "q.ndjson"))
		assert.Equal(t, 1, res.code, res.stderr)
		assert.GreaterOrEqual(t, sts.Requests(), 1)
		assert.Greater(t, num(res.summary["errors"]), 0)
		assert.Contains(t, res.stderr, "not delivered")
		assert.Contains(t, res.stderr, "AssumeRole", "the error names the failed call")
		assert.Equal(t, 0, download(t, client, lake, "ext/", t.TempDir()), "nothing is written without the role")
	})
}

// TestPlainLocationTakesFirstRecordsClass gives one plain S3 location and no
// --class: the class of the first record decides, and every record of
// another class is quarantined with the reason.
func TestPlainLocationTakesFirstRecordsClass(t *testing.T) {
	m := testenv.StartMinIO(t)
	client := m.S3(t)
	lake := m.NewBucket(t)

	// The first record of the sample, as the program reads it.
	var first string
	require.NoError(t, fs.WalkDir(sampleFS, "sample", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || first != "" {
			return err
		}
		first = p
		return nil
	}))
	f, err := sampleFS.Open(first)
	require.NoError(t, err)
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	var doc struct{ Records []json.RawMessage }
	require.NoError(t, json.NewDecoder(zr).Decode(&doc))
	f.Close()
	ev, err := ocsf.MapCloudTrail(doc.Records[0])
	require.NoError(t, err)
	var cls struct {
		ClassUID int `json:"class_uid"`
	}
	require.NoError(t, json.Unmarshal(ev, &cls))

	dir := t.TempDir()
	q := filepath.Join(dir, "q.ndjson")
	res := runProg(t, dir, m.Env(), "--source-location", "s3://"+lake+"/ext/ct/", "--quarantine", q)
	require.Equal(t, 0, res.code, res.stderr)
	want := sampleRecords(t)
	assert.Equal(t, want, num(res.summary["records"]))
	assert.Greater(t, num(res.summary["quarantined"]), 0, "the sample holds three classes")

	local := t.TempDir()
	download(t, client, lake, "ext/ct/", local)
	glob := filepath.Join(local, "ext/ct") + "/**/*.parquet"
	classes := testenv.DuckDB(t, "SELECT DISTINCT class_uid FROM read_parquet('"+glob+"')")
	assert.Equal(t, []map[string]any{{"class_uid": json.Number(fmt.Sprint(cls.ClassUID))}}, classes, "the first record's class")
	written := duckCount(t, glob)
	assert.Equal(t, want, written+num(res.summary["quarantined"]), "every record is written or quarantined")
	checkPartitions(t, glob)

	qdata, err := os.ReadFile(q)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(qdata)), "\n")
	assert.Len(t, lines, num(res.summary["quarantined"]))
	for _, l := range lines {
		var v quarantineLine
		require.NoError(t, json.Unmarshal([]byte(l), &v))
		assert.Regexp(t, fmt.Sprintf(`class_uid \d+ has no source location \(the location takes class %d\)`, cls.ClassUID), v.Reason)
		assert.NotContains(t, v.Reason, fmt.Sprintf("class_uid %d ", cls.ClassUID))
		assert.NotEmpty(t, v.Data, "the record itself is kept")
	}
}

// quarantineLine is one quarantine entry, in the quarantine package's format.
type quarantineLine = quarantine.Entry

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay/internal/testenv"
)

// TestTagSchemaWithoutUnmapped writes events with fields a tag-format
// schema without an unmapped column lacks: by default each event is
// quarantined; with --drop-unknown-fields they are stored without those
// fields, each field path named once on stderr (never its value) and every
// dropped field counted in the summary.
func TestTagSchemaWithoutUnmapped(t *testing.T) {
	dir := t.TempDir()
	tag := `{"Tag":"name=my_schema, repetitiontype=REQUIRED","Fields":[
		{"Tag":"name=class_uid, type=INT32, repetitiontype=OPTIONAL"},
		{"Tag":"name=time, type=INT64, repetitiontype=OPTIONAL"},
		{"Tag":"name=message, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"},
		{"Tag":"name=cloud, repetitiontype=OPTIONAL","Fields":[
			{"Tag":"name=region, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"},
			{"Tag":"name=account, repetitiontype=OPTIONAL","Fields":[{"Tag":"name=uid, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"}]}]}]}`
	schemaFile := filepath.Join(dir, "schema.json")
	require.NoError(t, os.WriteFile(schemaFile, []byte(tag), 0o644))
	in := filepath.Join(dir, "in.ndjson")
	var lines []string
	for i := range 10 {
		lines = append(lines, fmt.Sprintf(`{"class_uid":6003,"time":%d,"message":"m%d","severity_id":1,"cloud":{"region":"us-east-1","zone":"secret-zone-value","account":{"uid":"123456789012"}}}`, 1764547200000+int64(i)*1000, i))
	}
	require.NoError(t, os.WriteFile(in, []byte(strings.Join(lines, "\n")), 0o644))

	t.Run("default quarantines", func(t *testing.T) {
		out := filepath.Join(dir, "lake-default")
		q := filepath.Join(dir, "q-default.ndjson")
		res := runProg(t, dir, nil, "--input", in, "--mapper", "none", "--schema", schemaFile, "--class", "6003", "--out-dir", out, "--quarantine", q)
		require.Equal(t, 0, res.code, res.stderr)
		assert.Equal(t, 10, num(res.summary["quarantined"]))
		assert.Nil(t, res.summary["dropped_fields"])
		data, err := os.ReadFile(q)
		require.NoError(t, err)
		assert.Equal(t, 10, strings.Count(string(data), "no top-level unmapped column"))
	})

	t.Run("opt in drops", func(t *testing.T) {
		out := filepath.Join(dir, "lake-drop")
		res := runProg(t, dir, nil, "--input", in, "--mapper", "none", "--schema", schemaFile, "--class", "6003", "--out-dir", out,
			"--quarantine", filepath.Join(dir, "q-drop.ndjson"), "--drop-unknown-fields")
		require.Equal(t, 0, res.code, res.stderr)
		assert.Equal(t, 0, num(res.summary["quarantined"]))
		assert.Equal(t, 20, num(res.summary["dropped_fields"]), "severity_id and cloud.zone of 10 events")
		for _, path := range []string{"severity_id", "cloud.zone"} {
			warned := regexp.MustCompile(`level=WARN msg="unknown field dropped" .*path=`+regexp.QuoteMeta(path)+` `).FindAllString(res.stderr, -1)
			assert.Len(t, warned, 1, "one Warn line for %s:\n%s", path, res.stderr)
		}
		assert.NotContains(t, res.stderr, "secret-zone-value")
		glob := out + "/**/*.parquet"
		assert.Equal(t, 10, duckCount(t, glob))
		rows := testenv.DuckDB(t, "SELECT count(DISTINCT message) AS m FROM read_parquet('"+glob+"') WHERE cloud.account.uid = '123456789012'")
		assert.Equal(t, "10", fmt.Sprint(rows[0]["m"]))
	})
}

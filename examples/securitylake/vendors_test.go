package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay/internal/testenv"
)

// TestVendorMappers runs --mapper crowdstrike and --mapper teleport over
// the vendor fixtures (gzip NDJSON, as FDR writes them) like --mapper
// cloudtrail: one source location per class, every mapped event read back
// by DuckDB in its partition, an event type without a mapping quarantined
// with the reason.
func TestVendorMappers(t *testing.T) {
	cases := []struct {
		mapper  string
		extra   string            // an event of a type with no mapping
		classes map[string]int    // class directory → events
		checks  map[string]string // class directory → a DuckDB condition every row meets
	}{
		{"crowdstrike", `{"event_simpleName":"DnsRequest","aid":"8a3c2f1e9b7d4c5a8e6f0a1b2c3d4e5f","timestamp":"1700038801000","DomainName":"example.com"}`,
			map[string]int{"process_activity": 2, "network_activity": 2},
			map[string]string{
				"process_activity": "class_uid = 1007 AND activity_id = 1 AND process.uid IS NOT NULL AND process.file.name IN ('powershell.exe', 'curl') AND actor.process.uid IS NOT NULL AND device.uid IS NOT NULL",
				"network_activity": "class_uid = 4001 AND src_endpoint.ip IS NOT NULL AND dst_endpoint.port > 0 AND connection_info.protocol_num = 6 AND json_extract_string(unmapped, '$.aip') IS NOT NULL",
			}},
		{"teleport", `{"event":"exec","time":"2023-11-15T09:16:00Z","user":"alice@example.com","command":"ls"}`,
			map[string]int{"authentication": 4},
			map[string]string{
				"authentication": "class_uid = 3002 AND user.name IS NOT NULL AND service.name = 'Teleport' AND activity_id IN (1, 2) AND metadata.product.vendor_name = 'Teleport'",
			}},
	}
	for _, c := range cases {
		t.Run(c.mapper, func(t *testing.T) {
			dir := t.TempDir()
			paths, err := filepath.Glob(filepath.Join("..", "..", "ocsf", "testdata", c.mapper, "*.json"))
			require.NoError(t, err)
			var lines []string
			for _, p := range paths {
				b, err := os.ReadFile(p)
				require.NoError(t, err)
				lines = append(lines, strings.TrimSpace(string(b)))
			}
			lines = append(lines, c.extra)
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			_, _ = zw.Write([]byte(strings.Join(lines, "\n") + "\n"))
			require.NoError(t, zw.Close())
			in := filepath.Join(dir, "in")
			require.NoError(t, os.MkdirAll(in, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(in, "part-00000.gz"), gz.Bytes(), 0o644))

			q := filepath.Join(dir, "q.ndjson")
			res := runProg(t, dir, nil, "--mapper", c.mapper, "--input", in, "--region", "us-east-1", "--account-id", "123456789012", "--quarantine", q)
			require.Equal(t, 0, res.code, res.stderr)
			want := 0
			for _, n := range c.classes {
				want += n
			}
			assert.Equal(t, want+1, num(res.summary["records"]), "records read")
			assert.Equal(t, 1, num(res.summary["quarantined"]))
			assert.Equal(t, 0, num(res.summary["errors"]))

			out := filepath.Join(dir, defaultOutDir)
			entries, err := os.ReadDir(out)
			require.NoError(t, err)
			require.Len(t, entries, len(c.classes), "one directory per class")
			for class, n := range c.classes {
				glob := filepath.Join(out, class) + "/**/*.parquet"
				assert.Equal(t, n, duckCount(t, glob), class)
				bad := testenv.DuckDB(t, `SELECT count(*) AS n FROM read_parquet('`+glob+`', hive_partitioning=true, hive_types_autocast=false)
					WHERE region <> 'us-east-1' OR accountId <> '123456789012'
					OR eventDay IS DISTINCT FROM strftime(make_timestamp(time * 1000), '%Y%m%d') OR NOT coalesce((`+c.checks[class]+`), false)`)
				assert.Equal(t, "0", fmt.Sprint(bad[0]["n"]), "%s: rows in the wrong partition or not as mapped", class)
				assert.Equal(t, []map[string]any{{"compression": "ZSTD"}}, testenv.DuckDB(t, "SELECT DISTINCT compression FROM parquet_metadata('"+glob+"')"))
			}
			assert.Contains(t, res.stdout, ", 0 findings", "the output lints clean")

			qdata, err := os.ReadFile(q)
			require.NoError(t, err)
			var ql quarantineLine
			require.NoError(t, json.Unmarshal(bytes.TrimSpace(qdata), &ql))
			assert.Contains(t, ql.Reason, "has no OCSF mapping")
			assert.JSONEq(t, c.extra, string(ql.Data), "the unmapped event is kept whole")
		})
	}
}

func TestVendorMapperUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--mapper", "teleport"}, // the bundled sample is CloudTrail
		{"--mapper", "crowdstrike", "--input", "x", "--ocsf-version", "1.3.0", "--schema", "s.json"},
		{"--mapper", "syslog", "--input", "x"},
	} {
		res := runProg(t, dir, nil, args...)
		assert.Equal(t, 2, res.code, "%v: %s", args, res.stderr)
		assert.Contains(t, fmt.Sprint(res.summary["error"]), "--mapper", args)
	}
}

// TestProofpointMapper: a TAP SIEM API response goes in whole; its message
// events land as Email Activity, its click events are quarantined with the
// reason.
func TestProofpointMapper(t *testing.T) {
	dir := t.TempDir()
	in, err := filepath.Abs(filepath.Join("..", "..", "source", "testdata", "presets", "proofpoint-tap-siem.json"))
	require.NoError(t, err)
	q := filepath.Join(dir, "q.ndjson")
	res := runProg(t, dir, nil, "--mapper", "proofpoint", "--input", in, "--region", "us-east-1", "--account-id", "123456789012", "--quarantine", q)
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, 4, num(res.summary["records"]), "records read")
	assert.Equal(t, 2, num(res.summary["quarantined"]), "the two clicks")
	assert.Equal(t, 0, num(res.summary["errors"]))

	glob := filepath.Join(dir, defaultOutDir, "email_activity") + "/**/*.parquet"
	rows := testenv.DuckDB(t, "SELECT email.subject AS subject, CAST(disposition_id AS VARCHAR) AS d, src_endpoint.ip AS ip FROM read_parquet('"+glob+"') ORDER BY time")
	assert.Equal(t, []map[string]any{
		{"subject": "Please find a totally safe invoice attached.", "d": "1", "ip": "192.0.2.255"},
		{"subject": "Password expires today", "d": "2", "ip": "198.51.100.77"},
	}, rows)
	qdata, err := os.ReadFile(q)
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(qdata), "click events"))
}

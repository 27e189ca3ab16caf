package securitylake

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay/internal/testenv"
)

// TestRowGroupsWithinRowGroupBytes writes one partition's events as one
// object with a small Options.RowGroupBytes: the object has several row
// groups, none larger (compressed) than the configured size, and DuckDB
// reads every row, sorted by time.
func TestRowGroupsWithinRowGroupBytes(t *testing.T) {
	for _, tt := range []struct {
		name       string
		rowGroup   int64
		chunkBytes int
	}{
		{"chunks smaller than a row group", 96 << 10, 8 << 10},
		{"chunks larger than a row group", 64 << 10, 1 << 20},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			mem := checked(t)
			s := newDirSink(t, dir, func(o *Options) {
				o.RowGroupBytes = tt.rowGroup
				o.ChunkBytes = tt.chunkBytes
				o.Allocator = mem
			})
			// The events of the largest partition, as one batch.
			big, recs := largestPartition(t, s, genEvents(scaled(48000), 21))
			require.NoError(t, s.WriteBatch(t.Context(), big, recs))

			var files []string
			require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && strings.HasSuffix(p, ".parquet") {
					files = append(files, p)
				}
				return err
			}))
			require.Len(t, files, 1, "one object for the batch")
			f, err := os.Open(files[0])
			require.NoError(t, err)
			defer f.Close()
			rdr, err := file.NewParquetReader(f)
			require.NoError(t, err)
			defer rdr.Close()
			groups := rdr.NumRowGroups()
			assert.GreaterOrEqual(t, groups, 3, "several row groups")
			rows := int64(0)
			var sizes []int64
			for g := range groups {
				md := rdr.RowGroup(g).MetaData()
				sizes = append(sizes, md.TotalCompressedSize())
				assert.LessOrEqual(t, md.TotalCompressedSize(), tt.rowGroup, "row group %d of %d (%d rows)", g, groups, md.NumRows())
				assert.Positive(t, md.NumRows())
				rows += md.NumRows()
			}
			assert.EqualValues(t, len(recs), rows)
			t.Logf("%d rows in %d row groups of %v bytes (limit %d)", rows, groups, sizes, tt.rowGroup)

			// DuckDB sees the same row groups and reads every row, sorted.
			g := sqlGlob(dir)
			meta := testenv.DuckDB(t, "SELECT count(DISTINCT row_group_id) AS n FROM parquet_metadata("+g+")")
			assert.Equal(t, json.Number(jsonInt(groups)), meta[0]["n"])
			got := testenv.DuckDB(t, `SELECT count(*) AS n, count(*) FILTER (WHERE prev > time) AS unsorted FROM (
				SELECT time, lag(time) OVER (ORDER BY file_row_number) AS prev FROM read_parquet(`+g+`, file_row_number=true))`)
			assert.Equal(t, json.Number(jsonInt(len(recs))), got[0]["n"], "every row")
			assert.Equal(t, json.Number("0"), got[0]["unsorted"], "rows out of time order")
		})
	}
}

func jsonInt(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

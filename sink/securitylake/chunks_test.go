package securitylake

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay/ocsf"
)

// TestChunksWrittenAsConverted writes one partition's events through many
// small chunks (the converter reuses its column memory from chunk to chunk,
// and the record batches share it) and reads the object back: every column
// holds exactly what one conversion of all the events, sorted by time,
// holds (read by arrow-go's JSON reader, independent of the converter). A
// chunk whose memory was overwritten before the Parquet writer was done
// with it would show here.
func TestChunksWrittenAsConverted(t *testing.T) {
	builtin, err := ocsf.ArrowSchema(6003)
	require.NoError(t, err)
	for _, tt := range []struct {
		name   string
		schema *arrow.Schema
	}{{"hand-built schema", testSchema()}, {"builtin OCSF 1.1.0 schema", builtin}} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := newDirSink(t, dir, func(o *Options) {
				o.Schema = tt.schema
				o.ChunkBytes = 3 << 10 // two or three events per chunk
			})
			rng := rand.New(rand.NewPCG(5, 6))
			events := make([][]byte, scaled(400)*30)
			for i := range events {
				events[i] = genEvent(rng, i, false) // api.request.data as a string, for arrow-go's reader
			}
			part, records := onePartitionOf(t, s, events, scaled(400))
			require.NoError(t, s.WriteBatch(context.Background(), part, records))

			// The expected columns: the sorted events as arrow-go reads them.
			type timed struct {
				t    int64
				data []byte
			}
			sorted := make([]timed, len(records))
			for i, r := range records {
				var sc scanner
				m, err := scanMeta(&sc, r.Data)
				require.NoError(t, err)
				sorted[i] = timed{m.time, r.Data}
			}
			slices.SortStableFunc(sorted, func(a, b timed) int { return int(min(max(a.t-b.t, -1), 1)) })
			var nd bytes.Buffer
			for _, e := range sorted {
				nd.Write(e.data)
				nd.WriteByte('\n')
			}
			rd := array.NewJSONReader(&nd, tt.schema, array.WithChunk(-1))
			defer rd.Release()
			require.True(t, rd.Next(), "%v", rd.Err())
			want := rd.RecordBatch()

			got := readParquetDir(t, dir)
			defer got.Release()
			require.Equal(t, want.NumRows(), got.NumRows())
			for i, f := range tt.schema.Fields() {
				if f.Name == "unmapped" && tt.schema == builtin {
					continue // holds risk_score, which arrow-go's reader drops
				}
				wj, err := json.Marshal(want.Column(i))
				require.NoError(t, err)
				gj, err := json.Marshal(concat(t, got.Column(i).Data()))
				require.NoError(t, err)
				require.JSONEq(t, string(wj), string(gj), "column %s", f.Name)
			}
		})
	}
}

// readParquetDir reads the one Parquet object under dir.
func readParquetDir(t *testing.T, dir string) arrow.Table {
	t.Helper()
	var paths []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".parquet") {
			paths = append(paths, p)
		}
		return err
	}))
	require.Len(t, paths, 1)
	rdr, err := file.OpenParquetFile(paths[0], false)
	require.NoError(t, err)
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 1 << 10}, memory.DefaultAllocator)
	require.NoError(t, err)
	tbl, err := fr.ReadTable(context.Background())
	require.NoError(t, err)
	return tbl
}

func concat(t *testing.T, c *arrow.Chunked) arrow.Array {
	t.Helper()
	a, err := array.Concatenate(c.Chunks(), memory.DefaultAllocator)
	require.NoError(t, err)
	t.Cleanup(a.Release)
	return a
}

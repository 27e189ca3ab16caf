package ocsf

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	// The module's zstd codec, as the Security Lake sink writes with: under
	// the race detector arrow-go's own makes a new encoder for most pages.
	_ "github.com/lakerelay/lakerelay/internal/pqzstd"
)

// roundTripParquet writes NDJSON rows under schema as zstd Parquet into
// memory, reads the file back, and returns the table as JSON rows.
func roundTripParquet(t *testing.T, schema *arrow.Schema, ndjson string) []map[string]any {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rdr := array.NewJSONReader(strings.NewReader(ndjson), schema, array.WithAllocator(mem), array.WithChunk(-1))
	defer rdr.Release()
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithAllocator(mem))
	w, err := pqarrow.NewFileWriter(schema, &buf, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(mem)))
	if err != nil {
		t.Fatal(err)
	}
	rows := int64(0)
	for rdr.Next() {
		rec := rdr.RecordBatch()
		rows += rec.NumRows()
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := rdr.Err(); err != nil {
		t.Fatalf("arrow JSON reader: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()), file.WithReadProps(parquet.NewReaderProperties(mem)))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	for rg := 0; rg < pf.NumRowGroups(); rg++ {
		md := pf.MetaData().RowGroup(rg)
		for c := 0; c < md.NumColumns(); c++ {
			cc, err := md.ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			if cc.Compression() != compress.Codecs.Zstd {
				t.Errorf("column %d codec %s", c, cc.Compression())
			}
		}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, mem)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if tbl.NumRows() != rows {
		t.Fatalf("read %d rows, wrote %d", tbl.NumRows(), rows)
	}
	if got := tbl.Schema(); len(got.Fields()) != len(schema.Fields()) {
		t.Errorf("schema changed in the round trip:\n%s\nwant\n%s", got, schema)
	} else {
		for i, f := range schema.Fields() {
			g := got.Field(i)
			if g.Name != f.Name || g.Nullable != f.Nullable || !arrow.TypeEqual(g.Type, f.Type) {
				t.Errorf("column %s changed in the round trip: %s, want %s", f.Name, g, f)
			}
		}
	}
	tr := array.NewTableReader(tbl, -1)
	defer tr.Release()
	var out []map[string]any
	for tr.Next() {
		b, err := tr.RecordBatch().MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var part []map[string]any
		if err := json.Unmarshal(b, &part); err != nil {
			t.Fatal(err)
		}
		out = append(out, part...)
	}
	return out
}

func TestTagSchemaWritesParquet(t *testing.T) {
	s, err := ParseTagSchema([]byte(issueExample))
	if err != nil {
		t.Fatal(err)
	}
	rows := roundTripParquet(t, s, `{"Activity_id":1,"time":1772442312000,"message":"m","actor":{"user":{"uid":"u1","is_admin":false}},"labels":["a","b"],"resources":[{"uid":"r1","size":3}],"ports":[443],"attrs":[{"key":"x","value":1.5}]}
{"Activity_id":2,"ports":[]}
`)
	if len(rows) != 2 || rows[0]["message"] != "m" || rows[1]["message"] != nil {
		t.Errorf("rows after round trip: %v", rows)
	}
}

// TestBuiltinSchemasWriteParquet writes every mapped corpus event into the
// Parquet file of its class and reads it back.
func TestBuiltinSchemasWriteParquet(t *testing.T) {
	byClass := map[int][]string{}
	for _, rec := range corpus(t) {
		out, err := MapCloudTrail(rec)
		if err != nil {
			t.Fatal(err)
		}
		var ev map[string]any
		if err := json.Unmarshal(out, &ev); err != nil {
			t.Fatal(err)
		}
		// Writers store free-form objects as JSON text.
		if u, ok := ev["unmapped"]; ok {
			b, _ := json.Marshal(u)
			ev["unmapped"] = string(b)
		}
		row, _ := json.Marshal(ev)
		uid := int(ev["class_uid"].(float64))
		byClass[uid] = append(byClass[uid], string(row))
	}
	for uid, ev := range sampleEvents(t) {
		byClass[uid] = append(byClass[uid], string(ev))
	}
	for _, uid := range builtinUIDs {
		name, _ := ClassName(uid)
		t.Run(name, func(t *testing.T) {
			s, err := ArrowSchema(uid)
			if err != nil {
				t.Fatal(err)
			}
			rows := byClass[uid]
			got := roundTripParquet(t, s, strings.Join(rows, "\n")+"\n")
			if len(got) != len(rows) {
				t.Fatalf("%d rows back, wrote %d", len(got), len(rows))
			}
			for i, r := range got {
				var want map[string]any
				_ = json.Unmarshal([]byte(rows[i]), &want)
				if r["time"] != want["time"] || r["type_uid"] != want["type_uid"] {
					t.Errorf("row %d: time %v type_uid %v, want %v %v", i, r["time"], r["type_uid"], want["time"], want["type_uid"])
				}
			}
		})
	}
}

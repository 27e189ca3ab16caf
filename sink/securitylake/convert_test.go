package securitylake

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay/ocsf"
)

func checked(t *testing.T) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

func convertAll(t testing.TB, c *converter, rows ...string) (arrow.RecordBatch, []rowError) {
	t.Helper()
	in := make([][]byte, len(rows))
	for i, r := range rows {
		in[i] = []byte(r)
	}
	return c.convert(in)
}

// col returns the column at a dotted path, descending into structs.
func col(t *testing.T, rec arrow.RecordBatch, path string) arrow.Array {
	t.Helper()
	parts := strings.Split(path, ".")
	idx := rec.Schema().FieldIndices(parts[0])
	require.NotEmpty(t, idx, path)
	a := rec.Column(idx[0])
	for _, p := range parts[1:] {
		st := a.(*array.Struct)
		i, ok := st.DataType().(*arrow.StructType).FieldIdx(p)
		require.True(t, ok, path)
		a = st.Field(i)
	}
	return a
}

func TestConvertValues(t *testing.T) {
	c, err := newConverter(testSchema())
	require.NoError(t, err)
	defer c.release()
	rec, bad := convertAll(t, c,
		`{"class_uid":6003,"time":1764626400123,"time_dt":"2025-12-01T22:00:00.123Z","actor":{"user":{"name":"al\"ice\u00e9","account":{"uid":"111122223333"}},"session":{"is_mfa":true}},`+
			`"api":{"request":{"data":{"a": [1, 2 ,{"b":null}]}}},"resources":[{"uid":"r1"},{"uid":"r2","type":"t"}],"metadata":{"profiles":["cloud"]},"risk_score":1.5e1,"severity_id":2.0}`,
		` { "time": -5, "api": null, "resources": [], "unmapped": {"x":1} } `,
	)
	require.Empty(t, bad)
	require.NotNil(t, rec)
	defer rec.Release()
	require.EqualValues(t, 2, rec.NumRows())

	assert.Equal(t, int32(6003), col(t, rec, "class_uid").(*array.Int32).Value(0))
	assert.True(t, col(t, rec, "class_uid").IsNull(1))
	assert.Equal(t, []int64{1764626400123, -5}, col(t, rec, "time").(*array.Int64).Int64Values())
	assert.Equal(t, arrow.Timestamp(1764626400123), col(t, rec, "time_dt").(*array.Timestamp).Value(0))
	assert.Equal(t, "al\"iceé", col(t, rec, "actor.user.name").(*array.String).Value(0))
	assert.Equal(t, "111122223333", col(t, rec, "actor.user.account.uid").(*array.String).Value(0))
	assert.True(t, col(t, rec, "actor.session.is_mfa").(*array.Boolean).Value(0))
	assert.Equal(t, `{"a":[1,2,{"b":null}]}`, col(t, rec, "api.request.data").(*array.String).Value(0))
	assert.True(t, col(t, rec, "api").IsNull(1))
	assert.True(t, col(t, rec, "actor").IsNull(1))
	assert.Equal(t, 15.0, col(t, rec, "risk_score").(*array.Float64).Value(0))
	assert.Equal(t, int32(2), col(t, rec, "severity_id").(*array.Int32).Value(0))
	res := col(t, rec, "resources").(*array.List)
	assert.Equal(t, []int32{0, 2, 2}, res.Offsets())
	uids := res.ListValues().(*array.Struct).Field(0).(*array.String)
	assert.Equal(t, "r2", uids.Value(1))
	assert.True(t, col(t, rec, "unmapped").IsNull(0))
	assert.Equal(t, `{"x":1}`, col(t, rec, "unmapped").(*array.String).Value(1))
	checkConsistent(t, rec)
}

func TestConvertUnknownFieldsGoToUnmapped(t *testing.T) {
	c, err := newConverter(testSchema())
	require.NoError(t, err)
	defer c.release()
	tests := []struct {
		name, in, want string
	}{
		{"top level", `{"time":1,"extra":{"a": 1}}`, `{"extra":{"a":1}}`},
		{"nested", `{"time":1,"actor":{"user":{"name":"x","mfa":true}}}`, `{"actor.user.mfa":true}`},
		{"in list", `{"resources":[{"uid":"a"},{"uid":"b","zone":"z"}]}`, `{"resources[1].zone":"z"}`},
		{"merged with own", `{"unmapped":{"k":"v"},"x":[1]}`, `{"k":"v","x":[1]}`},
		{"own empty object", `{"unmapped":{},"x":2}`, `{"x":2}`},
		{"own not an object", `{"unmapped":"text","x":2}`, `{"unmapped":"text","x":2}`},
		{"own string only", `{"unmapped":"text"}`, `text`},
		{"key needing quotes", `{"a\"b":1}`, `{"a\"b":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, bad := convertAll(t, c, tt.in)
			require.Empty(t, bad)
			defer rec.Release()
			got := col(t, rec, "unmapped").(*array.String).Value(0)
			assert.Equal(t, tt.want, got)
			if strings.HasPrefix(tt.want, "{") {
				assert.True(t, json.Valid([]byte(got)), got)
			}
		})
	}
}

func TestConvertMismatchQuarantinesOnlyThatRow(t *testing.T) {
	c, err := newConverter(testSchema())
	require.NoError(t, err)
	defer c.release()
	tests := []struct {
		name, in, path string
		syntax         bool
	}{
		{"string for int", `{"time":"soon"}`, "time", false},
		{"int overflow", `{"class_uid":99999999999}`, "class_uid", false},
		{"fraction for int", `{"severity_id":1.5}`, "severity_id", false},
		{"number for struct", `{"actor":{"user":7}}`, "actor.user", false},
		{"object for list", `{"resources":{"uid":"a"}}`, "resources", false},
		{"bad element", `{"resources":[{"uid":"a"},{"uid":"b","name":{}},5]}`, "resources[2]", false},
		{"string for bool", `{"actor":{"session":{"is_mfa":"yes"}}}`, "actor.session.is_mfa", false},
		{"bad time_dt", `{"time_dt":"yesterday"}`, "time_dt", false},
		{"duplicate key", `{"time":1,"time":2}`, "time", false},
		{"nested duplicate", `{"cloud":{"region":"a","region":"b"}}`, "cloud.region", false},
		{"truncated", `{"actor":{"user":{"name":"x"`, "actor.user", true},
		{"not an object", `[1,2]`, "", true},
		{"trailing data", `{"time":1} {}`, "", true},
		{"bad escape", `{"message":"\x"}`, "message", true},
		{"invalid utf8", "{\"message\":\"\xff\"}", "message", true},
		{"control char", "{\"message\":\"a\nb\"}", "message", true},
		{"bad number", `{"time":-}`, "time", true},
		{"leading zero", `{"time":01}`, "", true},
		{"bad literal", `{"actor":{"session":{"is_mfa":tru}}}`, "actor.session.is_mfa", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := `{"time":7,"resources":[{"uid":"ok"}]}`
			rec, bad := convertAll(t, c, good, tt.in, good)
			require.Len(t, bad, 1)
			assert.Equal(t, 1, bad[0].i)
			var fe *FieldError
			require.ErrorAs(t, bad[0].err, &fe)
			assert.Equal(t, tt.path, fe.Path, "%v", bad[0].err)
			assert.Equal(t, tt.syntax, errors.Is(bad[0].err, errSyntax), "%v", bad[0].err)
			require.NotNil(t, rec)
			defer rec.Release()
			checkConsistent(t, rec)
			assert.EqualValues(t, 2, rec.NumRows())
			assert.Equal(t, []int64{7, 7}, col(t, rec, "time").(*array.Int64).Int64Values())
		})
	}
}

func TestConvertNoUnmappedColumnRejectsUnknown(t *testing.T) {
	s := arrow.NewSchema([]arrow.Field{{Name: "time", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	c, err := newConverter(s)
	require.NoError(t, err)
	defer c.release()
	rec, bad := convertAll(t, c, `{"time":1}`, `{"time":2,"other":1}`)
	require.Len(t, bad, 1)
	var fe *FieldError
	require.ErrorAs(t, bad[0].err, &fe)
	assert.Equal(t, "other", fe.Path)
	defer rec.Release()
	assert.EqualValues(t, 1, rec.NumRows())
}

func TestConvertAllBad(t *testing.T) {
	c, err := newConverter(testSchema())
	require.NoError(t, err)
	defer c.release()
	rec, bad := convertAll(t, c, `{`, `{"time":"x"}`)
	assert.Nil(t, rec)
	assert.Len(t, bad, 2)
}

func TestConvertUnsupportedType(t *testing.T) {
	s := arrow.NewSchema([]arrow.Field{{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String)}}, nil)
	_, err := newConverter(s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "m")
}

func TestConvertCaseInsensitiveFallback(t *testing.T) {
	s := arrow.NewSchema([]arrow.Field{{Name: "Activity_id", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	c, err := newConverter(s)
	require.NoError(t, err)
	defer c.release()
	rec, bad := convertAll(t, c, `{"activity_id":3}`)
	require.Empty(t, bad)
	defer rec.Release()
	assert.Equal(t, int64(3), rec.Column(0).(*array.Int64).Value(0))
}

// TestConvertMatchesArrowJSONReader checks the converter against a second
// implementation: arrow-go's generic JSON reader on the same schema and rows
// (every column but unmapped, which that reader does not fill).
func TestConvertMatchesArrowJSONReader(t *testing.T) {
	builtin, err := ocsf.ArrowSchema(6003)
	require.NoError(t, err)
	for _, tt := range []struct {
		name   string
		schema *arrow.Schema
	}{{"small", testSchema()}, {"ocsf-6003", builtin}} {
		t.Run(tt.name, func(t *testing.T) {
			mem := checked(t)
			rng := rand.New(rand.NewPCG(1, 2))
			var rows [][]byte
			var nd bytes.Buffer
			for i := range 500 {
				r := genEvent(rng, i, false)
				rows = append(rows, r)
				nd.Write(r)
				nd.WriteByte('\n')
			}
			rows = append(rows, []byte(`{"resources":[null,{"uid":"x"},null],"actor":null,"metadata":{"profiles":[null,"a"]}}`), []byte(`{}`))
			nd.WriteString(`{"resources":[null,{"uid":"x"},null],"actor":null,"metadata":{"profiles":[null,"a"]}}` + "\n{}\n")
			c, err := newConverter(tt.schema)
			require.NoError(t, err)
			defer c.release()
			got, bad := c.convert(rows)
			require.Empty(t, bad)
			defer got.Release()
			checkConsistent(t, got)

			rd := array.NewJSONReader(&nd, tt.schema, array.WithAllocator(mem), array.WithChunk(-1))
			defer rd.Release()
			require.True(t, rd.Next(), "%v", rd.Err())
			want := rd.RecordBatch()
			require.Equal(t, want.NumRows(), got.NumRows())
			for i, f := range tt.schema.Fields() {
				if f.Name == "unmapped" {
					continue
				}
				assert.True(t, array.Equal(want.Column(i), got.Column(i)), "column %s differs", f.Name)
			}
		})
	}
}

// checkConsistent checks that every column, and every struct child, has the
// length of its parent.
func checkConsistent(t *testing.T, rec arrow.RecordBatch) {
	t.Helper()
	var walk func(path string, a arrow.Array, n int)
	walk = func(path string, a arrow.Array, n int) {
		require.Equal(t, n, a.Len(), path)
		switch a := a.(type) {
		case *array.Struct:
			for i := 0; i < a.NumField(); i++ {
				walk(path+"."+a.DataType().(*arrow.StructType).Field(i).Name, a.Field(i), a.Len())
			}
		case *array.List:
			off := a.Offsets()
			walk(path+"[]", a.ListValues(), int(off[len(off)-1]))
		}
	}
	for i, c := range rec.Columns() {
		walk(rec.Schema().Field(i).Name, c, int(rec.NumRows()))
	}
}

func TestConvertRequiredFields(t *testing.T) {
	s := arrow.NewSchema([]arrow.Field{
		{Name: "time", Type: arrow.PrimitiveTypes.Int64},
		{Name: "cloud", Nullable: true, Type: arrow.StructOf(
			arrow.Field{Name: "region", Type: arrow.BinaryTypes.String},
			arrow.Field{Name: "zone", Type: arrow.BinaryTypes.String, Nullable: true})},
		{Name: "tags", Nullable: true, Type: arrow.ListOf(arrow.BinaryTypes.String)},
		{Name: "unmapped", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	c, err := newConverter(s)
	require.NoError(t, err)
	defer c.release()
	rec, bad := convertAll(t, c,
		`{"time":1,"cloud":{"region":"r"}}`,
		`{"time":2}`,
		`{"time":3,"cloud":null}`,
		`{"cloud":{"region":"r"}}`,
		`{"time":null}`,
		`{"time":4,"cloud":{"zone":"z"}}`,
		`{"time":5,"cloud":{"region":null}}`,
	)
	require.NotNil(t, rec)
	defer rec.Release()
	checkConsistent(t, rec)
	assert.EqualValues(t, 3, rec.NumRows())
	paths := map[int]string{}
	for _, b := range bad {
		var fe *FieldError
		require.ErrorAs(t, b.err, &fe)
		assert.ErrorIs(t, b.err, errRequired)
		paths[b.i] = fe.Path
	}
	assert.Equal(t, map[int]string{3: "time", 4: "time", 5: "cloud.region", 6: "cloud.region"}, paths)
	region := col(t, rec, "cloud.region")
	assert.Zero(t, region.NullN(), "a required field under a null parent holds an empty value")
	assert.Equal(t, 2, col(t, rec, "cloud").NullN())

	var buf bytes.Buffer
	fw, err := pqarrow.NewFileWriter(s, &buf, nil, pqarrow.DefaultWriterProps())
	require.NoError(t, err)
	require.NoError(t, fw.Write(rec))
	require.NoError(t, fw.Close())
}

// TestConvertErrorsNeverQuoteValues checks that a misfit's error says what
// is wrong and where, without the record's contents (errors may be logged).
func TestConvertErrorsNeverQuoteValues(t *testing.T) {
	c, err := newConverter(testSchema())
	require.NoError(t, err)
	defer c.release()
	const secret = "s3cr3t"
	tests := []struct{ name, in, path, says string }{
		{"bad time_dt", `{"time_dt":"` + secret + `"}`, "time_dt", "RFC 3339 time such as 2006-01-02T15:04:05Z or epoch milliseconds, got a string of 6 bytes"},
		{"string for int", `{"severity_id":"` + secret + `"}`, "severity_id", "got string"},
		{"bad time", `{"time":"` + secret + `"}`, "time", "RFC 3339 time such as 2006-01-02T15:04:05Z or epoch milliseconds, got a string of 6 bytes"},
		{"string for bool", `{"actor":{"session":{"is_mfa":"` + secret + `"}}}`, "actor.session.is_mfa", "got string"},
		{"string for struct", `{"actor":"` + secret + `"}`, "actor", "got string"},
		{"bad escape", `{"message":"` + secret + `\x"}`, "message", ""},
		{"invalid utf8", "{\"message\":\"" + secret + "\xff\"}", "message", ""},
		{"duplicate key", `{"message":"` + secret + `","message":"` + secret + `"}`, "message", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, bad := convertAll(t, c, tt.in)
			if rec != nil {
				rec.Release()
			}
			require.Len(t, bad, 1)
			var fe *FieldError
			require.ErrorAs(t, bad[0].err, &fe)
			assert.Equal(t, tt.path, fe.Path)
			msg := bad[0].err.Error()
			assert.NotContains(t, msg, secret)
			assert.Contains(t, msg, "field "+tt.path)
			assert.Contains(t, msg, tt.says)
		})
	}
}

// TestConvertEventTimeForms: the time column takes every form ocsf.EventTime
// reads, as the partitioner does, so that a record it placed converts.
func TestConvertEventTimeForms(t *testing.T) {
	c, err := newConverter(testSchema())
	require.NoError(t, err)
	defer c.release()
	rec, bad := convertAll(t, c, `{"time":1764626400123}`, `{"time":1764626400123.9}`, `{"time":"2025-12-01T22:00:00.123Z"}`, `{"time":"2025-12-01T23:00:00.123+01:00"}`)
	require.Empty(t, bad)
	defer rec.Release()
	assert.Equal(t, []int64{1764626400123, 1764626400123, 1764626400123, 1764626400123}, col(t, rec, "time").(*array.Int64).Int64Values())
	for _, in := range []string{`{"time":"2025-12-01"}`, `{"time":true}`, `{"time":1e300}`} {
		rec, bad := convertAll(t, c, in)
		if rec != nil {
			rec.Release()
		}
		require.Len(t, bad, 1, in)
		var fe *FieldError
		require.ErrorAs(t, bad[0].err, &fe)
		assert.Equal(t, "time", fe.Path)
	}
}

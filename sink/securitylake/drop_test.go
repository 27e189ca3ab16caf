package securitylake

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay/internal/obstest"
	"github.com/lakerelay/lakerelay/internal/testenv"
	"github.com/lakerelay/lakerelay/ocsf"
)

// noUnmappedSchema is issueTagSchema without its "unmapped" column.
var noUnmappedSchema = strings.Replace(issueTagSchema,
	`,
 {"Tag":"name=unmapped, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"}`, "", 1)

// dropEvents are 30 events whose fields the schema does not all hold:
// severity_id at the top, actor.user.name nested, resources[].note in a
// list; every fifth holds a secret value in an unknown field; the last one
// has a string where the schema wants a number (so it is quarantined
// whatever the option).
func dropEvents() [][]byte {
	var events [][]byte
	for i := range 30 {
		extra := ""
		if i%5 == 0 {
			extra = `,"token":"s3cr3t-value"`
		}
		activity := "1"
		if i == 29 {
			activity = `"one"`
		}
		events = append(events, fmt.Appendf(nil, `{"activity_id":%s,"class_uid":6003,"time":%d,"message":"m","severity_id":%d,`+
			`"cloud":{"region":"us-east-1","account":{"uid":"111122223333"}},"actor":{"user":{"uid":"u%d","name":"n%d"}},`+
			`"resources":[{"uid":"r","note":"x"},{"uid":"s","note":"y"}]%s}`, activity, 1764547200000+int64(i)*60_000, i%4, i, i, extra))
	}
	return events
}

// TestTagSchemaWithoutUnmappedRejectsByDefault: without the option, an event
// with a field the schema lacks is quarantined whole, with the field's path.
func TestTagSchemaWithoutUnmappedRejectsByDefault(t *testing.T) {
	schema, err := ocsf.ParseTagSchema([]byte(noUnmappedSchema))
	require.NoError(t, err)
	dir := t.TempDir()
	q := &quarantineLog{}
	s := newDirSink(t, dir, func(o *Options) { o.Schema, o.Quarantine = schema, q.put })
	writeAll(t, s, dropEvents(), 30)
	require.Len(t, q.got, 30)
	for _, reason := range q.reasons {
		var fe *FieldError
		require.True(t, errors.As(reason, &fe), "%v", reason)
		if fe.Path != "Activity_id" {
			assert.Equal(t, "severity_id", fe.Path)
			assert.Contains(t, fe.Error(), "no top-level unmapped column")
		}
	}
	assert.Equal(t, Stats{Quarantined: 30}, s.Stats())
}

// TestTagSchemaWithoutUnmappedDropsUnknownFields: with DropUnknownFields,
// the events are stored without the fields the schema lacks (DuckDB reads
// them back), every dropped field is counted, each path is reported once,
// and no value appears in what is reported.
func TestTagSchemaWithoutUnmappedDropsUnknownFields(t *testing.T) {
	schema, err := ocsf.ParseTagSchema([]byte(noUnmappedSchema))
	require.NoError(t, err)
	dir := t.TempDir()
	q := &quarantineLog{}
	var mu sync.Mutex
	var paths []string
	var log obstest.Log
	s := newDirSink(t, dir, func(o *Options) {
		o.Schema, o.Quarantine, o.Logger = schema, q.put, log.Logger()
		o.DropUnknownFields = true
		o.OnDroppedField = func(p string) { mu.Lock(); paths = append(paths, p); mu.Unlock() }
	})
	writeAll(t, s, dropEvents(), 7)
	require.Len(t, q.got, 1, "only the event with a wrong type is quarantined")
	var fe *FieldError
	require.True(t, errors.As(q.reasons[0], &fe), "%v", q.reasons[0])
	assert.Equal(t, "Activity_id", fe.Path)

	// 29 stored events: severity_id, actor.user.name and two
	// resources[].note each (4), plus token in 6 of them.
	st := s.Stats()
	assert.Equal(t, Stats{Objects: st.Objects, Records: 29, Bytes: st.Bytes, Quarantined: 1,
		DroppedFields: 29*4 + 6, RecordsWithDroppedFields: 29}, st)
	var size int64
	for _, f := range parquetFiles(t, dir) {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		size += fi.Size()
	}
	assert.Equal(t, size, st.Bytes, "bytes written are the objects' sizes")
	assert.EqualValues(t, len(parquetFiles(t, dir)), st.Objects)
	slices.Sort(paths)
	assert.Equal(t, []string{"actor.user.name", "resources[].note", "severity_id", "token"}, paths)
	assert.NotContains(t, strings.Join(paths, " "), "s3cr3t")
	var logged []string
	for _, l := range log.Find(t, "unknown field dropped") {
		assert.Equal(t, "WARN", l["level"])
		logged = append(logged, l["path"].(string))
	}
	slices.Sort(logged)
	assert.Equal(t, paths, logged, "each dropped path logged once at Warn")
	log.NotContains(t, "s3cr3t")

	rows := testenv.DuckDB(t, `SELECT count(*) AS n, count(DISTINCT actor.user.uid) AS u, sum(len(resources)) AS r FROM read_parquet(`+sqlGlob(dir)+`)`)
	assert.Equal(t, map[string]any{"n": json.Number("29"), "u": json.Number("29"), "r": json.Number("58")}, rows[0])
}

// TestDropUnknownFieldsKeepsUnmapped: with an "unmapped" column the option
// changes nothing: unknown fields are kept there, none dropped.
func TestDropUnknownFieldsKeepsUnmapped(t *testing.T) {
	schema, err := ocsf.ParseTagSchema([]byte(issueTagSchema))
	require.NoError(t, err)
	dir := t.TempDir()
	q := &quarantineLog{}
	s := newDirSink(t, dir, func(o *Options) { o.Schema, o.Quarantine, o.DropUnknownFields = schema, q.put, true })
	writeAll(t, s, dropEvents()[:29], 29)
	assert.Empty(t, q.got)
	st := s.Stats()
	assert.Equal(t, int64(29), st.Records)
	assert.Zero(t, st.DroppedFields+st.RecordsWithDroppedFields+st.Quarantined)
	rows := testenv.DuckDB(t, `SELECT count(*) FILTER (WHERE unmapped LIKE '%severity_id%' AND unmapped LIKE '%actor.user.name%') AS n FROM read_parquet(`+sqlGlob(dir)+`)`)
	assert.Equal(t, json.Number("29"), rows[0]["n"])
}

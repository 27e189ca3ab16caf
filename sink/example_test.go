package sink_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/klauspost/compress/gzip"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/partition"
	"github.com/lakerelay/lakerelay/sink"
)

// A JSONL sink over a local directory, with the vendor layout: each record's
// time picks its day.
func ExampleJSONL() {
	dir, err := os.MkdirTemp("", "sink-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	store, err := sink.NewDir(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	layout, err := partition.VendorTemplate().Bind(map[string]string{
		"vendor": "Acme", "event_type": "findings", "account": "123456789012",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := sink.NewJSONL(store, func(o *sink.JSONLOptions) { o.Layout = layout })
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	recs := []lakerelay.Record{
		{Data: []byte(`{"time":"2026-12-01T10:00:00Z","finding":"open port"}`)},
		{Data: []byte(`{"time":1796122800000,"finding":"weak cipher"}`)}, // 2026-12-01T11:00:00Z
	}
	// A batcher does this: group records by partition, write each group,
	// then acknowledge its records.
	for _, r := range recs {
		if p, _ := s.Partition(r); p != "Acme/findings/2026-12-01/123456789012/" {
			fmt.Println("unexpected partition", p)
		}
	}
	if err := s.WriteBatch(ctx, "Acme/findings/2026-12-01/123456789012/", recs); err != nil {
		fmt.Println(err)
		return
	}
	_ = store.List(ctx, "", func(o sink.ObjectInfo) error {
		fmt.Println(o.Key[:strings.LastIndexByte(o.Key, '/')+1], strings.HasSuffix(o.Key, ".json.gz"))
		rc, err := store.Get(ctx, o.Key)
		if err != nil {
			return err
		}
		defer rc.Close()
		zr, err := gzip.NewReader(rc)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(zr)
		for sc.Scan() {
			fmt.Println(sc.Text())
		}
		return sc.Err()
	})
	// Output:
	// Acme/findings/2026-12-01/123456789012/ true
	// {"time":"2026-12-01T10:00:00Z","finding":"open port"}
	// {"time":1796122800000,"finding":"weak cipher"}
}

func ExampleCheckConnection() {
	dir, _ := os.MkdirTemp("", "sink-example-")
	defer os.RemoveAll(dir)
	store, _ := sink.NewDir(dir)
	res, err := sink.CheckConnection(context.Background(), store, "exports/")
	fmt.Println(res.Deleted, err)
	// Output:
	// true <nil>
}

func ExampleProblemOf() {
	err := &sink.StoreError{Op: "get", Location: "s3://b/k", Bucket: "b", Key: "k", Err: sink.ErrNotFound}
	fmt.Println(sink.ProblemOf(err), err)
	// Output:
	// not-found sink: get s3://b/k: sink: not found
}

// One JSONL sink for many event types: the vendor layout's {event_type} comes
// from each record's "type" field. A record whose field is missing or cannot
// be a key segment is rejected with an error naming the field.
func ExampleJSONLOptions_recordFields() {
	dir, err := os.MkdirTemp("", "sink-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	store, err := sink.NewDir(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	layout, err := partition.VendorTemplate().Bind(map[string]string{"vendor": "Acme", "account": "123456789012"})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := sink.NewJSONL(store, func(o *sink.JSONLOptions) {
		o.Layout = layout
		o.RecordFields = map[string]string{"event_type": "type"}
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, data := range []string{
		`{"type":"finding","time":"2026-12-01T10:00:00Z"}`,
		`{"type":"audit","time":"2026-12-02T08:00:00Z"}`,
		`{"type":"../etc","time":"2026-12-02T08:00:00Z"}`,
		`{"time":"2026-12-02T08:00:00Z"}`,
	} {
		r := lakerelay.Record{Data: []byte(data), Origin: lakerelay.Origin{Key: "in.ndjson", Index: int64(i)}}
		p, err := s.Partition(r)
		if err != nil {
			fmt.Println(err) // quarantine r
			continue
		}
		fmt.Println(p) // the batcher groups records by this key
	}
	// Output:
	// Acme/finding/2026-12-01/123456789012/
	// Acme/audit/2026-12-02/123456789012/
	// lakerelay: invalid record: sink: jsonl: in.ndjson#2: record field "type" (for layout field {event_type}): contains "/": partition: invalid key
	// lakerelay: invalid record: sink: jsonl: in.ndjson#3: record field "type" (for layout field {event_type}): missing: partition: invalid key
}

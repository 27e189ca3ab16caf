package securitylake_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/ocsf"
	"github.com/lakerelay/lakerelay/sink"
	"github.com/lakerelay/lakerelay/sink/securitylake"
)

// A directory store stands in for the Security Lake bucket; with an S3 store
// the location is the one Security Lake reports for the custom source.
func Example() {
	dir, _ := os.MkdirTemp("", "securitylake-example-")
	defer os.RemoveAll(dir)
	store, _ := sink.NewDir(dir)

	// 6003: API Activity; the schema is the built-in OCSF 1.1.0 one.
	s, err := securitylake.New(store, dir, 6003, func(o *securitylake.Options) {
		o.Quarantine = func(r lakerelay.Record, reason error) error {
			fmt.Println("quarantined:", r.Origin, reason) // events that do not fit the schema
			return nil
		}
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := batch.New(s, securitylake.BatchOptions)

	events := []string{
		`{"class_uid":6003,"activity_id":2,"time":1764633599000,"api":{"operation":"GetObject"},"cloud":{"provider":"AWS","region":"us-east-1","account":{"uid":"111122223333"}}}`,
		`{"class_uid":6003,"activity_id":1,"time":1764633600000,"api":{"operation":"PutObject"},"cloud":{"provider":"AWS","region":"us-east-1","account":{"uid":"111122223333"}}}`,
		`{"class_uid":3002,"time":1764633600000}`,
	}
	for i, e := range events {
		r := lakerelay.Record{Data: []byte(e), Origin: lakerelay.Origin{Key: "events.json", Index: int64(i)}}
		p, err := s.Partition(r)
		if err != nil {
			fmt.Println("rejected:", err)
			continue
		}
		if err := b.Add(context.Background(), p, r); err != nil {
			fmt.Println(err)
		}
	}
	if err := b.Close(context.Background()); err != nil { // flushes: one object per partition
		fmt.Println(err)
	}

	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, filepath.Dir(p))
			fmt.Println(filepath.ToSlash(rel), filepath.Ext(p))
		}
		return err
	})
	rep, _ := securitylake.Lint(context.Background(), store, dir)
	fmt.Println("lint:", rep.Files, "files,", rep.Rows, "rows,", len(rep.Findings), "findings")
	// Output:
	// rejected: securitylake: record events.json#2: record of another OCSF class: class_uid 3002, this sink takes 6003
	// region=us-east-1/accountId=111122223333/eventDay=20251201 .parquet
	// region=us-east-1/accountId=111122223333/eventDay=20251202 .parquet
	// lint: 2 files, 2 rows, 0 findings
}

// A tag-format schema without an "unmapped" column: with DropUnknownFields,
// an event with a field the schema lacks is stored without it (counted, and
// reported by path, never by value) instead of being rejected.
func ExampleOptions_dropUnknownFields() {
	dir, _ := os.MkdirTemp("", "securitylake-example-")
	defer os.RemoveAll(dir)
	store, _ := sink.NewDir(dir)
	schema, err := ocsf.ParseTagSchema([]byte(`{"Tag":"name=my_schema, repetitiontype=REQUIRED","Fields":[
	 {"Tag":"name=class_uid, type=INT32, repetitiontype=OPTIONAL"},
	 {"Tag":"name=time, type=INT64, convertedtype=TIMESTAMP_MILLIS, repetitiontype=OPTIONAL"},
	 {"Tag":"name=message, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := securitylake.New(store, dir, 6003, func(o *securitylake.Options) {
		o.Schema = schema
		o.Region, o.AccountID = "us-east-1", "111122223333"
		o.DropUnknownFields = true
		o.OnDroppedField = func(path string) { fmt.Println("warning: dropped field", path) }
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := lakerelay.Record{Data: []byte(`{"class_uid":6003,"time":1764633600000,"message":"m","user":{"name":"alice","token":"x"}}`)}
	p, err := s.Partition(r)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := s.WriteBatch(context.Background(), p, []lakerelay.Record{r}); err != nil {
		fmt.Println(err)
		return
	}
	st := s.Stats()
	fmt.Printf("records %d, objects %d, dropped fields %d\n", st.Records, st.Objects, st.DroppedFields)
	// Output:
	// warning: dropped field user
	// records 1, objects 1, dropped fields 1
}

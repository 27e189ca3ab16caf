package quarantine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/quarantine"
)

// A program's --quarantine flag: a path (here a file), or s3://bucket/prefix
// with an S3 client.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "quarantine")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "quarantine.ndjson")
	q, err := quarantine.Open(path, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	rec := lakerelay.Record{
		Data:   []byte("not json"),
		Origin: lakerelay.Origin{Bucket: "logs", Key: "app/1.json", Index: 7, Offset: 512, LogType: "app"},
		Ack: func(err error) {
			fmt.Println("acknowledged, error:", err) // only once the entry is fsynced
		},
	}
	q.Quarantine(rec, errors.New("invalid JSON at offset 0"))
	if err := q.Close(context.Background()); err != nil {
		fmt.Println(err)
	}
	b, _ := os.ReadFile(path)
	var e quarantine.Entry
	if err := json.Unmarshal(b, &e); err != nil {
		fmt.Println(err)
		return
	}
	data, _ := e.Record()
	fmt.Printf("reason: %s\norigin: %+v\ndata: %s\nrecord: %s\n", e.Reason, e.Origin, e.Data, data)
	// Output:
	// acknowledged, error: <nil>
	// reason: invalid JSON at offset 0
	// origin: {Bucket:logs Key:app/1.json VersionID: Index:7 Offset:512 LogType:app}
	// data: "not json"
	// record: not json
}

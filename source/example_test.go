package source_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/partition"
	"github.com/lakerelay/lakerelay/sink"
	"github.com/lakerelay/lakerelay/source"
)

func ExampleNewReader() {
	in := strings.NewReader(`{"Records":[{"eventName":"GetObject"},
	  {"eventName": "PutObject"}]}`)
	r, err := source.NewReader("trail.json", in)
	if err != nil {
		panic(err)
	}
	defer r.Close()
	for {
		rec, err := r.Read(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		fmt.Println(rec.Origin, string(rec.Data))
	}
	// Output:
	// trail.json#0 {"eventName":"GetObject"}
	// trail.json#1 {"eventName":"PutObject"}
}

// A reader that is done with each record's Data when it settles the record
// lets the source reuse the memory: here each record is copied into a
// buffered writer, then settled.
func ExampleDecodeOptions_reuseData() {
	var in strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&in, "{\"n\":%d,\"msg\":\"%s\"}\n", i, strings.Repeat("x", 100))
	}
	r, err := source.NewReader("events.ndjson", strings.NewReader(in.String()), func(o *source.ReaderOptions) {
		o.Decode = source.DecodeOptions{StreamType: source.NDJSON, ReuseData: true}
	})
	if err != nil {
		panic(err)
	}
	defer r.Close()
	out := bufio.NewWriter(io.Discard)
	n := 0
	for {
		rec, err := r.Read(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		out.Write(rec.Data) // copies
		out.WriteByte('\n')
		rec.Settle(nil) // rec.Data may be reused from now on
		n++
	}
	if err := out.Flush(); err != nil {
		panic(err)
	}
	fmt.Println(n, "records")
	// Output:
	// 10000 records
}

func ExampleDecodeNotification() {
	body := `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
	  "s3":{"bucket":{"name":"logs"},"object":{"key":"AWSLogs/red+flower%3D1.json.gz","size":1024}}}]}`
	n, err := source.DecodeNotification([]byte(body))
	if err != nil {
		panic(err)
	}
	for _, o := range n.Objects {
		fmt.Printf("%s: s3://%s/%s\n", n.Format, o.Bucket, o.Key)
	}
	// Output:
	// s3: s3://logs/AWSLogs/red flower=1.json.gz
}

func ExampleNewDir() {
	dir, err := os.MkdirTemp("", "logs-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	os.MkdirAll(filepath.Join(dir, "app"), 0o755)
	os.WriteFile(filepath.Join(dir, "app", "1.ndjson"), []byte("{\"msg\": \"up\"}\nnot json\n{\"msg\": \"down\"}\n"), 0o644)

	d, err := source.NewDir(dir, func(o *source.DirOptions) {
		o.Decode.StreamType = source.NDJSON
		o.LogTypes = map[string]string{"app/": "application"}
		o.Quarantine = func(r lakerelay.Record, reason error) error {
			fmt.Printf("quarantined record %d: %q\n", r.Origin.Index, r.Data)
			return nil
		}
	})
	if err != nil {
		panic(err)
	}
	defer d.Close()
	for {
		rec, err := d.Read(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		rel, _ := filepath.Rel(dir, rec.Origin.Key)
		fmt.Println(rel, rec.Origin.Index, rec.Origin.LogType, string(rec.Data))
	}
	fmt.Printf("%+v\n", d.Stats())
	// Output:
	// app/1.ndjson 0 application {"msg":"up"}
	// quarantined record 1: "not json"
	// app/1.ndjson 2 application {"msg":"down"}
	// {Messages:0 Deleted:0 Objects:1 Records:2 Skipped:0 Quarantined:1 Errors:0 NotFound:0 Redelivered:0 MaxReceived:0 Subscriptions:0}
}

func ExamplePreset() {
	dir, err := os.MkdirTemp("", "tap-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	// A Proofpoint TAP SIEM API response as a collector wrote it to S3.
	os.WriteFile(filepath.Join(dir, "siem.json"), []byte(`{"queryEndTime":"2023-11-15T10:00:00Z",
	  "messagesDelivered":[{"GUID":"m1"}],"messagesBlocked":[],
	  "clicksPermitted":[{"GUID":"c1"}],"clicksBlocked":[{"GUID":"c2"}]}`), 0o644)

	p, err := source.PresetNamed("proofpoint")
	if err != nil {
		panic(err)
	}
	// With SQS: source.NewSQS(s3c, sqsc, queueURL, p.SQS).
	d, err := source.NewDir(dir, p.Dir)
	if err != nil {
		panic(err)
	}
	defer d.Close()
	for {
		rec, err := d.Read(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		o := rec.Origin
		fmt.Println(o.LogType, o.Vendor, o.Category, string(rec.Data))
	}
	// Output:
	// generic_s3_proofpoint_log Proofpoint email {"GUID":"m1"}
	// generic_s3_proofpoint_log Proofpoint email {"GUID":"c1"}
	// generic_s3_proofpoint_log Proofpoint email {"GUID":"c2"}
}

// An archive in a local directory: each object an SQS or List source reads
// is copied there unchanged, under {prefix}/{bucket}/{key}, before its
// message is deleted.
func ExampleNewArchive() {
	dir, err := os.MkdirTemp("", "archive")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := sink.NewDir(dir)
	if err != nil {
		log.Fatal(err)
	}
	archive, err := source.NewArchive(store, "raw")
	if err != nil {
		log.Fatal(err)
	}
	key, err := archive.Key("my-logs", "AWSLogs/123456789012/CloudTrail/us-east-1/2026/12/04/trail.json.gz")
	fmt.Println(key, err)
	_, err = archive.Key("my-logs", "logs/../other")
	fmt.Println(errors.Is(err, partition.ErrInvalidKey))

	// The option of the source (source.NewSQS(s3c, sqsc, queueURL, withArchive)):
	withArchive := func(o *source.SQSOptions) { o.Archive = archive }
	_ = withArchive
	// Output:
	// raw/my-logs/AWSLogs/123456789012/CloudTrail/us-east-1/2026/12/04/trail.json.gz <nil>
	// true
}

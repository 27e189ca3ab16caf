package source_test

import (
	"context"
	"fmt"
	"io"
	"strings"

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

package lakerelay_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/lakerelay/lakerelay"
)

// A record is settled exactly once: nil when its data is safe, an error when
// it must stay redeliverable.
func ExampleRecord_Settle() {
	r := lakerelay.Record{
		Data:   []byte(`{"eventName":"GetObject"}`),
		Origin: lakerelay.Origin{Bucket: "logs", Key: "AWSLogs/1.json.gz", Index: 0},
		Ack: lakerelay.Once(func(err error) {
			if err != nil {
				fmt.Println("nack:", err)
				return
			}
			fmt.Println("ack")
		}),
	}
	sink := lakerelay.SinkFunc(func(ctx context.Context, partition string, records []lakerelay.Record) error {
		return errors.New("store unavailable")
	})
	err := sink.WriteBatch(context.Background(), "p", []lakerelay.Record{r})
	r.Settle(err)
	r.Settle(nil) // ignored: already settled
	fmt.Println(r.Origin)
	// Output:
	// nack: store unavailable
	// s3://logs/AWSLogs/1.json.gz#0
}

// Validators (ocsf.Validate, iamcheck, securitylake.Lint) all return
// findings of this one shape.
func ExampleHasErrors() {
	findings := []lakerelay.Finding{
		{Path: "metadata.version", Code: "version", Severity: lakerelay.SeverityWarning, Message: "another OCSF version"},
		{Path: "class_uid", Code: "required", Severity: lakerelay.SeverityError, Message: "class_uid is required"},
	}
	for _, f := range findings {
		fmt.Println(f)
	}
	fmt.Println(lakerelay.HasErrors(findings))
	// Output:
	// warning metadata.version: version: another OCSF version
	// error class_uid: required: class_uid is required
	// true
}

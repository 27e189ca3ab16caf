package batch_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/batch"
)

// Records are grouped per partition and written as one batch once a limit is
// reached; each record is acknowledged only after its batch was stored.
func Example() {
	sink := lakerelay.SinkFunc(func(_ context.Context, partition string, records []lakerelay.Record) error {
		var lines []string
		for _, r := range records {
			lines = append(lines, string(r.Data))
		}
		fmt.Printf("store %s: %s\n", partition, strings.Join(lines, ","))
		return nil
	})
	b, err := batch.New(sink, func(o *batch.Options) {
		o.MaxRecords = 2
		o.FlushConcurrency = 1 // batches are written in order
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	for i, p := range []string{"eventDay=20260101", "eventDay=20260102", "eventDay=20260101"} {
		r := lakerelay.Record{
			Data: []byte(fmt.Sprintf(`{"n":%d}`, i)),
			Ack: func(err error) {
				fmt.Printf("  record %d settled: %v\n", i, err)
			},
		}
		if err := b.Add(ctx, p, r); err != nil {
			fmt.Println(err)
		}
	}
	// The first partition reached MaxRecords and is written now; Close
	// writes the rest.
	if err := b.Close(ctx); err != nil {
		fmt.Println(err)
	}
	fmt.Println(b.Stats().Acked, "acked")
	// Output:
	// store eventDay=20260101: {"n":0},{"n":2}
	//   record 0 settled: <nil>
	//   record 2 settled: <nil>
	// store eventDay=20260102: {"n":1}
	//   record 1 settled: <nil>
	// 3 acked
}

// A batch whose flush fails for good is negatively acknowledged with a
// *batch.FlushError wrapping the sink's error; permanent errors are not
// retried. A record larger than MaxBytes is refused by Add and stays the
// caller's (to quarantine).
func Example_errors() {
	denied := lakerelay.Permanent(errors.New("s3: access denied"))
	sink := lakerelay.SinkFunc(func(context.Context, string, []lakerelay.Record) error { return denied })
	b, err := batch.New(sink, func(o *batch.Options) { o.MaxBytes = 16; o.MaxPendingBytes = 1 << 20 })
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	r := lakerelay.Record{Data: []byte(`{"ok":true}`), Ack: func(err error) {
		var fe *batch.FlushError
		fmt.Println("nacked:", errors.As(err, &fe) && errors.Is(err, denied), fe.Attempts, "attempt")
	}}
	_ = b.Add(ctx, "p", r)
	big := lakerelay.Record{Data: []byte(`{"too":"large for 16 bytes"}`)}
	err = b.Add(ctx, "p", big)
	fmt.Println("too large:", errors.Is(err, lakerelay.ErrTooLarge))

	err = b.Close(ctx)
	fmt.Println("close:", errors.Is(err, denied))
	// Output:
	// too large: true
	// nacked: true 1 attempt
	// close: true
}

// Options are validated by New; every problem names its field.
func ExampleLimits_Validate() {
	err := batch.Limits{MaxRecords: 100, MaxBytes: 1 << 20, MaxPendingBytes: 1 << 10}.Validate()
	fmt.Println(errors.Is(err, batch.ErrInvalidOptions))
	fmt.Println(err)
	// Output:
	// true
	// batch: Limits.MaxAge: must be > 0 (got 0s)
	// batch: Limits.MaxPendingBytes: must be >= Limits.MaxBytes (1048576) so that a full batch fits (got 1024)
}

package batch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/batch"
	"github.com/lakerelay/lakerelay/source"
)

// dayPartitioner puts a record in the partition of its "day" field.
type dayPartitioner struct{}

func (dayPartitioner) Partition(r lakerelay.Record) (string, error) {
	var v struct{ Day string }
	if err := json.Unmarshal(r.Data, &v); err != nil || v.Day == "" {
		return "", fmt.Errorf("%w: no day", lakerelay.ErrInvalidRecord)
	}
	return "day=" + v.Day, nil
}

// Run is the whole pipeline: read, partition, batch, store, settle; records
// the partitioner rejects go to the quarantine.
func ExampleRun() {
	src, _ := source.NewReader("input", strings.NewReader(`{"day":"20260101","n":1}
{"n":2}
{"day":"20260101","n":3}
`))
	store := lakerelay.SinkFunc(func(_ context.Context, partition string, records []lakerelay.Record) error {
		fmt.Printf("store %s: %d records\n", partition, len(records))
		return nil
	})
	b, _ := batch.New(store)
	quarantine := batch.QuarantineFunc(func(r lakerelay.Record, reason error) error {
		fmt.Printf("quarantine %s: %v\n", r.Origin, reason)
		return nil // set aside durably: the record may be acknowledged
	})
	totals, err := batch.Run(context.Background(), src, b, dayPartitioner{}, func(o *batch.RunOptions) {
		o.Quarantine = quarantine
	})
	fmt.Printf("%+v %v\n", totals, err)
	// Output:
	// quarantine input#1: lakerelay: invalid record: no day
	// store day=20260101: 2 records
	// {In:3 Delivered:2 Quarantined:1 Nacked:0 Unsettled:0 Errors:0} <nil>
}

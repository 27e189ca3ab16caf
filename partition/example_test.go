package partition_test

import (
	"fmt"
	"time"

	"github.com/lakerelay/lakerelay/partition"
)

func ExampleSecurityLake() {
	at := time.Date(2026, 4, 28, 23, 30, 0, 0, time.UTC)
	p, err := partition.SecurityLake("us-west-2", "123456789012", at)
	fmt.Println(p, err)
	_, err = partition.SecurityLake("us-west-2", "1234", at)
	fmt.Println(err)
	// Output:
	// region=us-west-2/accountId=123456789012/eventDay=20260428/ <nil>
	// partition: accountId "1234": not a 12-digit account id, "external" or "external_<id>"
}

func ExampleCompile() {
	t, err := partition.Compile("{+prefix}/{source}/dt={date:2006-01-02}/hour={HH}/")
	if err != nil {
		fmt.Println(err)
		return
	}
	// Fix the fields once; only the time varies per record.
	bound, err := t.Bind(map[string]string{"prefix": "logs/prod", "source": "okta"})
	if err != nil {
		fmt.Println(err)
		return
	}
	key, err := bound.Execute(nil, time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC))
	fmt.Println(key, err)
	_, err = t.Execute(map[string]string{"source": "../etc"}, time.Now())
	fmt.Println(err)
	// Output:
	// logs/prod/okta/dt=2026-12-01/hour=09/ <nil>
	// partition: source "../etc": contains "/"
}

func ExampleConnector() {
	p, err := partition.Connector("exports", "s3", "conn-7", "run-42", "users")
	fmt.Println(p, err)
	p, err = partition.Vendor("Acme", "findings", "123456789012", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	fmt.Println(p, err)
	// Output:
	// exports/s3/conn-7/run-42/users/ <nil>
	// Acme/findings/2026-12-01/123456789012/ <nil>
}

func ExampleObjectName() {
	name := partition.ObjectName(".json.gz")
	fmt.Println(len(name), partition.ValidateSegment("name", name))
	// Output:
	// 61 <nil>
}

// A prefix written like a path is trimmed before it becomes part of a key.
func ExampleTrimPrefix() {
	prefix := partition.TrimPrefix("/connector-syncs/")
	p, err := partition.Connector(prefix, "s3", "conn-1", "run-7", "users")
	fmt.Println(prefix)
	fmt.Println(p, err)
	// Output:
	// connector-syncs
	// connector-syncs/s3/conn-1/run-7/users/ <nil>
}

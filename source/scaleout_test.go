package source

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

// TestSQSThreeSourcesOneQueue runs three SQS sources in one process, each
// with its own S3 and SQS clients, on one queue: every record arrives
// exactly once (each message is received by one source at a time, its
// visibility extended while its records are in flight, and deleted once
// they are acknowledged), and the queue ends empty.
func TestSQSThreeSourcesOneQueue(t *testing.T) {
	e := newEnv(t, testenv.QueueOptions{VisibilityTimeout: 2 * time.Second})
	const objects, per = 60, 50
	for o := range objects {
		key := fmt.Sprintf("scale/%02d.ndjson", o)
		e.put(key, ndjson(key, per))
	}
	var sources []*SQS
	for range 3 {
		s, err := NewSQS(testenv.StartMinIO(t).S3(t), testenv.StartSQS(t).Client(t), e.queue.URL, func(o *SQSOptions) {
			o.Workers = 2
			o.WaitTime = time.Second
			o.VisibilityTimeout = 2 * time.Second
			o.OnError = func(err error) { t.Errorf("source error: %v", err) }
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		sources = append(sources, s)
	}
	for o := range objects {
		e.notify(fmt.Sprintf("scale/%02d.ndjson", o))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var stops []func() []lakerelay.Record
	for _, s := range sources {
		stops = append(stops, drain(t, s, func(r lakerelay.Record) error {
			mu.Lock()
			seen[string(r.Data)]++
			mu.Unlock()
			return nil
		}))
	}
	waitFor(t, 60*time.Second, "every record", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == objects*per
	})
	waitFor(t, 30*time.Second, "the queue to be empty", func() bool { return e.queueDepth(e.queue.URL) == 0 })
	for i, stop := range stops {
		t.Logf("source %d: %d records, %d messages", i, len(stop()), sources[i].Stats().Messages)
	}
	for rec, n := range seen {
		if n != 1 {
			t.Errorf("record %s arrived %d times", rec, n)
		}
	}
	var msgs int64
	for _, s := range sources {
		msgs += s.Stats().Messages
	}
	if msgs != objects {
		t.Errorf("%d messages received in all, want %d (none redelivered)", msgs, objects)
	}
}

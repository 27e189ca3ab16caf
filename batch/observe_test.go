package batch

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/obstest"
)

// A flush that fails once with a throttling error and then succeeds is
// logged (a Warn with the attempt, a Debug for the stored batch) and
// measured (one retry, one throttled error, one flush duration), and no
// line carries record data.
func TestLogsAndMetricsOfRetriedFlush(t *testing.T) {
	var log obstest.Log
	rec := obstest.NewRecorder()
	h := newHarness(t, func(o *Options) {
		o.MaxRecords = 2
		o.MaxRetries = 3
		o.Logger = log.Logger()
		o.Observer = rec
		o.Name = "b1"
		o.PartitionLabel = true
	})
	h.sink.fail = func(_ context.Context, _ string, call int) error {
		if call == 0 {
			return fmt.Errorf("put: %w", &smithy.GenericAPIError{Code: "SlowDown", Message: "reduce your request rate"})
		}
		return nil
	}
	h.add(t, "day=1", 10)
	h.add(t, "day=1", 10)
	h.clock.waitTimers(t, 1)
	h.clock.Advance(time.Second)
	h.idle(t)
	require.NoError(t, h.b.Close(context.Background()))

	warn := log.Find(t, "flush failed, will retry")
	require.Len(t, warn, 1, log.String())
	assert.Equal(t, "WARN", warn[0]["level"])
	assert.Equal(t, "day=1", warn[0]["partition"])
	assert.EqualValues(t, 1, warn[0]["attempt"])
	assert.EqualValues(t, 2, warn[0]["records"])
	assert.Equal(t, "b1", warn[0]["component"])
	stored := log.Find(t, "batch stored")
	require.Len(t, stored, 1, log.String())
	assert.Equal(t, "DEBUG", stored[0]["level"])
	assert.EqualValues(t, 2, stored[0]["attempts"])
	assert.EqualValues(t, 20, stored[0]["bytes"])
	assert.Len(t, log.Find(t, "batcher started"), 1)
	assert.Len(t, log.Find(t, "batcher closed"), 1)
	assert.Empty(t, log.Find(t, "batch nacked"))
	// The test records' data is "abcdefghij"; it must appear nowhere.
	log.NotContains(t, "abcdefghij")

	assert.EqualValues(t, 1, rec.Sum(lakerelay.MetricFlushRetries, lakerelay.Labels{Source: "b1"}))
	assert.EqualValues(t, 1, rec.Sum(lakerelay.MetricErrors, lakerelay.Labels{Source: "b1", Class: lakerelay.ClassThrottled}))
	assert.EqualValues(t, 1, rec.Sum(lakerelay.MetricErrors, lakerelay.Labels{}), "only the failed attempt")
	assert.Equal(t, 1, rec.Observations(lakerelay.MetricFlushDuration, lakerelay.Labels{Source: "b1", Partition: "day=1"}))
}

// A batch whose retries run out is logged at Warn as nacked, and every
// failed attempt is counted once with its class.
func TestLogsAndMetricsOfNackedBatch(t *testing.T) {
	var log obstest.Log
	rec := obstest.NewRecorder()
	h := newHarness(t, func(o *Options) {
		o.MaxRecords = 1
		o.MaxRetries = 1
		o.Logger = log.Logger()
		o.Observer = rec
	})
	h.sink.fail = func(context.Context, string, int) error { return errors.New("disk on fire") }
	h.add(t, "p", 5)
	h.clock.waitTimers(t, 1)
	h.clock.Advance(time.Second)
	h.idle(t)
	nacked := log.Find(t, "batch nacked")
	require.Len(t, nacked, 1, log.String())
	assert.Equal(t, "WARN", nacked[0]["level"])
	assert.EqualValues(t, 2, nacked[0]["attempts"])
	assert.Contains(t, nacked[0]["error"], "disk on fire")
	assert.EqualValues(t, 2, rec.Sum(lakerelay.MetricErrors, lakerelay.Labels{Source: DefaultName, Class: lakerelay.ClassOther}))
	assert.EqualValues(t, 1, rec.Sum(lakerelay.MetricFlushRetries, lakerelay.Labels{}))
	assert.Equal(t, 1, rec.Observations(lakerelay.MetricFlushDuration, lakerelay.Labels{Source: DefaultName}))
	for _, l := range rec.Labels(lakerelay.MetricFlushDuration) {
		assert.Empty(t, l.Partition, "partition label is opt-in")
	}
	require.NoError(t, h.b.Close(context.Background()), "the batch failed before Close")
	closed := log.Find(t, "batcher closed")
	require.Len(t, closed, 1)
	assert.EqualValues(t, 1, closed[0]["nacked"])
}

// A flush whose backoff is cut short by Close counts its one failed
// attempt once, and no retry.
func TestMetricsOfFlushAbandonedInBackoff(t *testing.T) {
	rec := obstest.NewRecorder()
	h := newHarness(t, func(o *Options) {
		o.MaxRecords = 1
		o.MaxRetries = 3
		o.Observer = rec
	})
	h.sink.fail = func(context.Context, string, int) error { return errors.New("unavailable") }
	h.add(t, "p", 5)
	h.clock.waitTimers(t, 1) // in backoff after the first attempt
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.Error(t, h.b.Close(ctx))
	assert.EqualValues(t, 1, rec.Sum(lakerelay.MetricErrors, lakerelay.Labels{}))
	assert.Zero(t, rec.Sum(lakerelay.MetricFlushRetries, lakerelay.Labels{}))
	assert.Equal(t, 1, rec.Observations(lakerelay.MetricFlushDuration, lakerelay.Labels{}))
}

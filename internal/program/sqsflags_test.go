package program

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/source"
)

func parseSQSFlags(t *testing.T, args ...string) (SQSFlags, error) {
	t.Helper()
	var f SQSFlags
	fs := flag.NewFlagSet("p", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.Register(fs)
	return f, fs.Parse(args)
}

func TestSQSFlagsParse(t *testing.T) {
	f, err := parseSQSFlags(t)
	require.NoError(t, err)
	require.Equal(t, SQSFlags{}, f, "defaults: no limit, subscriptions not confirmed")

	f, err = parseSQSFlags(t, "--max-receive-count", "3", "--confirm-subscriptions")
	require.NoError(t, err)
	require.Equal(t, SQSFlags{MaxReceiveCount: 3, ConfirmSubscriptions: true}, f)

	_, err = parseSQSFlags(t, "--max-receive-count", "three")
	require.ErrorContains(t, err, "-max-receive-count")
}

func TestSQSFlagsValidate(t *testing.T) {
	const (
		maxReceive = "--max-receive-count needs --queue-url, --quarantine and a positive count"
		confirm    = "--confirm-subscriptions needs --queue-url"
	)
	for _, tc := range []struct {
		name              string
		args              []string
		queue, quarantine bool
		want              []string // error messages, each on a line of its own
	}{
		{"none", nil, false, false, nil},
		{"count with queue and quarantine", []string{"--max-receive-count", "2"}, true, true, nil},
		{"count without quarantine", []string{"--max-receive-count", "2"}, true, false, []string{maxReceive}},
		{"count without queue", []string{"--max-receive-count", "2"}, false, true, []string{maxReceive}},
		{"negative count", []string{"--max-receive-count", "-1"}, true, true, []string{maxReceive}},
		{"zero count needs nothing", []string{"--max-receive-count", "0"}, false, false, nil},
		{"confirm with queue", []string{"--confirm-subscriptions"}, true, false, nil},
		{"confirm without queue", []string{"--confirm-subscriptions"}, false, true, []string{confirm}},
		{"both without queue", []string{"--max-receive-count", "2", "--confirm-subscriptions"}, false, true, []string{maxReceive, confirm}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parseSQSFlags(t, tc.args...)
			require.NoError(t, err)
			err = f.Validate(tc.queue, tc.quarantine)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, strings.Join(tc.want, "\n"), err.Error(), "every problem reported, each once")
		})
	}
}

func TestSQSFlagsApply(t *testing.T) {
	f, err := parseSQSFlags(t, "--max-receive-count", "2", "--confirm-subscriptions")
	require.NoError(t, err)
	require.NoError(t, f.Validate(true, true))

	// Apply sets the two options and nothing else.
	o := source.SQSOptions{Workers: 7}
	f.Apply(&o)
	require.Equal(t, source.SQSOptions{Workers: 7, MaxReceiveCount: 2, ConfirmSubscriptions: true}, o)

	// As an option function of source.NewSQS: the source accepts the count
	// with a quarantine, and refuses it without one, as Validate does
	// without --quarantine.
	require.ErrorContains(t, o.Validate(), "MaxReceiveCount 2 needs a Quarantine")
	o.Quarantine = func(lakerelay.Record, error) error { return nil }
	require.NoError(t, o.Validate())
	_, err = source.NewSQS(nil, nil, "", f.Apply)
	require.ErrorContains(t, err, "MaxReceiveCount 2 needs a Quarantine")

	// The defaults leave the source's defaults.
	var zero SQSFlags
	o = source.SQSOptions{}
	zero.Apply(&o)
	require.Equal(t, source.SQSOptions{}, o)
}

package program

import (
	"errors"
	"flag"

	"github.com/lakerelay/lakerelay/source"
)

// SQSFlags are the flags of a program that reads an SQS queue of S3
// notifications (source.NewSQS): --max-receive-count and
// --confirm-subscriptions. A program registers them beside its
// --queue-url, validates them against its queue and quarantine, and hands
// [SQSFlags.Apply] to source.NewSQS.
type SQSFlags struct {
	// MaxReceiveCount is --max-receive-count, source.SQSOptions'
	// MaxReceiveCount: for a queue without a redrive policy, a message
	// received more than this many times has a record per object it names
	// quarantined (its data the message body), then is deleted (0: the
	// queue's redrive policy decides).
	MaxReceiveCount int
	// ConfirmSubscriptions is --confirm-subscriptions, source.SQSOptions'
	// ConfirmSubscriptions: an SNS SubscriptionConfirmation message is
	// confirmed (its https SubscribeURL on an sns.<region>.amazonaws.com
	// host visited) instead of logged and left in the queue.
	ConfirmSubscriptions bool
}

// Register adds the flags to fs.
func (f *SQSFlags) Register(fs *flag.FlagSet) {
	fs.IntVar(&f.MaxReceiveCount, "max-receive-count", 0, "with --queue-url and --quarantine: quarantine the objects of a message received more than N times, then delete it (0: the queue's redrive policy decides)")
	fs.BoolVar(&f.ConfirmSubscriptions, "confirm-subscriptions", false, "with --queue-url: confirm SNS subscriptions announced on the queue")
}

// Validate reports every problem of the flags. queue says that the
// program reads a queue (its --queue-url is given); quarantine, that it
// has a quarantine for the messages past the count (its --quarantine is
// given, or it has a default one).
func (f *SQSFlags) Validate(queue, quarantine bool) error {
	var errs []error
	if f.MaxReceiveCount < 0 || f.MaxReceiveCount > 0 && (!queue || !quarantine) {
		errs = append(errs, errors.New("--max-receive-count needs --queue-url, --quarantine and a positive count"))
	}
	if f.ConfirmSubscriptions && !queue {
		errs = append(errs, errors.New("--confirm-subscriptions needs --queue-url"))
	}
	return errors.Join(errs...)
}

// Apply is an option function for source.NewSQS: it sets MaxReceiveCount
// and ConfirmSubscriptions. A positive MaxReceiveCount needs the
// options' Quarantine too (source.NewSQS refuses it otherwise).
func (f *SQSFlags) Apply(o *source.SQSOptions) {
	o.MaxReceiveCount, o.ConfirmSubscriptions = f.MaxReceiveCount, f.ConfirmSubscriptions
}

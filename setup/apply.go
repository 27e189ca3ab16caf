package setup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/lakerelay/lakerelay/iamcheck"
)

// SQSAPI is the part of the SQS client Plan and Apply use.
type SQSAPI interface {
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	CreateQueue(ctx context.Context, in *sqs.CreateQueueInput, optFns ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	SetQueueAttributes(ctx context.Context, in *sqs.SetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.SetQueueAttributesOutput, error)
}

var _ SQSAPI = (*sqs.Client)(nil)

// Step actions.
const (
	ActionCreate = "create" // the queue does not exist
	ActionUpdate = "update" // it exists with other attributes
	ActionNone   = "none"   // it exists as wanted
)

// Step is what Apply does (or did) to one queue.
type Step struct {
	Action string `json:"action"`
	Queue  string `json:"queue"`
	// URL is the queue's URL when it exists (after Apply, always).
	URL string `json:"url,omitempty"`
	// Attributes are the attributes to set: all of them for ActionCreate,
	// the differing ones for ActionUpdate.
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Plan is what Apply does: the dead-letter queue first, then the queue
// (with its redrive and queue policy), and the bucket notification to set
// (Apply does not set it).
type Plan struct {
	Steps  []Step `json:"steps"`
	Bucket string `json:"bucket"`
	// Notification is the PutBucketNotificationConfiguration body for
	// Bucket. It replaces the bucket's whole configuration: merge existing
	// configurations into it first.
	Notification NotificationConfiguration `json:"notification"`
}

// Changes counts the steps that change something.
func (p *Plan) Changes() int {
	n := 0
	for _, s := range p.Steps {
		if s.Action != ActionNone {
			n++
		}
	}
	return n
}

// NewPlan looks up the job's queues (read-only: GetQueueUrl and
// GetQueueAttributes) and says what Apply would do. The job must be a
// collect job (QueueARN, SourceAccount; the role fields are not needed).
func NewPlan(ctx context.Context, client SQSAPI, job iamcheck.JobConfig, opts Options) (*Plan, error) {
	return run(ctx, client, job, opts, false)
}

// Apply creates or updates the dead-letter queue and the queue, and returns
// the steps it took. Running it again changes nothing. A failure leaves
// what was done in place (running Apply again completes it) and wraps the
// SQS error with the queue's name.
func Apply(ctx context.Context, client SQSAPI, job iamcheck.JobConfig, opts Options) (*Plan, error) {
	return run(ctx, client, job, opts, true)
}

func run(ctx context.Context, client SQSAPI, job iamcheck.JobConfig, opts Options, apply bool) (*Plan, error) {
	if job.Job != iamcheck.JobCollect {
		return nil, fmt.Errorf("%w: Job: setup creates queues for the collect job, not %q", iamcheck.ErrInvalidJob, job.Job)
	}
	r, err := newResources(job, opts, false)
	if err != nil {
		return nil, err
	}
	n, err := Notification(job)
	if err != nil {
		return nil, err
	}
	p := &Plan{Bucket: job.Bucket, Notification: n}
	enc := r.queueEncryption()
	dlqAttrs := map[string]string{"MessageRetentionPeriod": strconv.Itoa(deadLetterRetention)}
	for k, v := range enc {
		dlqAttrs[k] = v
	}
	dlq, dlqARN, err := step(ctx, client, r.queue+DeadLetterSuffix, dlqAttrs, apply)
	if err != nil {
		return p, err
	}
	p.Steps = append(p.Steps, dlq)
	if dlqARN == "" { // planned, not created: the ARN it will have
		a, _ := iamcheck.ParseARN(job.QueueARN)
		dlqARN = "arn:" + a.Partition + ":sqs:" + a.Region + ":" + a.Account + ":" + r.queue + DeadLetterSuffix
	}
	redrive, _ := json.Marshal(map[string]any{"deadLetterTargetArn": dlqARN, "maxReceiveCount": r.opts.maxReceiveCount()})
	qAttrs := map[string]string{"RedrivePolicy": string(redrive), "Policy": compact(r.queuePolicy)}
	for k, v := range enc {
		qAttrs[k] = v
	}
	if opts.VisibilityTimeout > 0 {
		qAttrs["VisibilityTimeout"] = strconv.Itoa(int(opts.VisibilityTimeout / time.Second))
	}
	q, _, err := step(ctx, client, r.queue, qAttrs, apply)
	if err != nil {
		return p, err
	}
	p.Steps = append(p.Steps, q)
	return p, nil
}

// step plans (and with apply, carries out) one queue; it returns the
// queue's ARN when the queue exists.
func step(ctx context.Context, client SQSAPI, name string, want map[string]string, apply bool) (Step, string, error) {
	s := Step{Queue: name}
	u, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	var missing *sqstypes.QueueDoesNotExist
	switch {
	case errors.As(err, &missing):
		s.Action, s.Attributes = ActionCreate, want
		if !apply {
			return s, "", nil
		}
		out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: want})
		if err != nil {
			return s, "", fmt.Errorf("setup: create queue %s: %w", name, err)
		}
		s.URL = aws.ToString(out.QueueUrl)
	case err != nil:
		return s, "", fmt.Errorf("setup: look up queue %s: %w", name, err)
	default:
		s.URL = aws.ToString(u.QueueUrl)
		have, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: u.QueueUrl,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
		if err != nil {
			return s, "", fmt.Errorf("setup: read attributes of queue %s: %w", name, err)
		}
		diff := map[string]string{}
		for k, v := range want {
			if !sameAttribute(have.Attributes[k], v) {
				diff[k] = v
			}
		}
		s.Action = ActionNone
		if len(diff) > 0 {
			s.Action, s.Attributes = ActionUpdate, diff
			if apply {
				if _, err := client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: u.QueueUrl, Attributes: diff}); err != nil {
					return s, "", fmt.Errorf("setup: update attributes %v of queue %s: %w", slices.Sorted(maps.Keys(diff)), name, err)
				}
			}
		}
	}
	a, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(s.URL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return s, "", fmt.Errorf("setup: read the ARN of queue %s: %w", name, err)
	}
	return s, a.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
}

// sameAttribute compares attribute values, JSON documents (policies,
// redrive) by meaning: SQS may re-encode them.
func sameAttribute(have, want string) bool {
	if have == want {
		return true
	}
	var h, w any
	if json.Unmarshal([]byte(have), &h) != nil || json.Unmarshal([]byte(want), &w) != nil {
		return false
	}
	return reflect.DeepEqual(normalize(h), normalize(w))
}

// normalize makes numbers and numeric strings compare equal
// ("maxReceiveCount": 5 and "5").
func normalize(v any) any {
	return mapLeaves(v, func(leaf any) any {
		if f, ok := leaf.(float64); ok {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		return leaf
	})
}

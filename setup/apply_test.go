package setup

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/lakerelay/lakerelay/iamcheck"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// localJob is a collect job whose queue, named prefix plus a unique
// suffix, lives on the local server.
func localJob(s *testenv.SQS, prefix string) (iamcheck.JobConfig, string) {
	name := prefix + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	return iamcheck.JobConfig{Job: iamcheck.JobCollect, Bucket: "cloudtrail-logs", Prefix: "AWSLogs/",
		QueueARN: "arn:aws:sqs:" + s.Region + ":" + s.AccountID + ":" + name, SourceAccount: s.AccountID}, name
}

// TestApplyRedrivesPoisonMessages creates the queues with Apply, then
// receives one message MaxReceiveCount times without deleting it and finds
// it in the dead-letter queue.
func TestApplyRedrivesPoisonMessages(t *testing.T) {
	s := testenv.StartSQS(t)
	c := s.Client(t)
	ctx := context.Background()
	job, name := localJob(s, "setup-")
	opts := Options{MaxReceiveCount: 3, VisibilityTimeout: time.Second}

	plan, err := NewPlan(ctx, c, job, opts)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Changes() != 2 || plan.Steps[0].Action != ActionCreate || plan.Steps[0].Queue != name+DeadLetterSuffix || plan.Steps[1].Queue != name {
		t.Fatalf("plan = %+v", plan)
	}
	if _, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)}); err == nil {
		t.Fatal("NewPlan created the queue")
	}
	if !strings.Contains(plan.Steps[1].Attributes["Policy"], `"aws:SourceAccount":"`+s.AccountID+`"`) {
		t.Fatalf("queue policy = %s", plan.Steps[1].Attributes["Policy"])
	}
	if qc := plan.Notification.QueueConfigurations; len(qc) != 1 || qc[0].QueueArn != job.QueueARN || qc[0].Filter.Key.FilterRules[0].Value != "AWSLogs/" {
		t.Fatalf("notification = %+v", plan.Notification)
	}

	done, err := Apply(ctx, c, job, opts)
	if err != nil {
		t.Fatal(err)
	}
	if done.Changes() != 2 || done.Steps[1].URL == "" || done.Steps[0].URL == "" {
		t.Fatalf("apply = %+v", done)
	}
	qURL, dlqURL := done.Steps[1].URL, done.Steps[0].URL
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &qURL, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	if rp := attrs.Attributes["RedrivePolicy"]; !strings.Contains(rp, name+DeadLetterSuffix) || !strings.Contains(rp, "3") {
		t.Fatalf("RedrivePolicy = %q", rp)
	}

	// Apply again: nothing to do.
	again, err := Apply(ctx, c, job, opts)
	if err != nil {
		t.Fatal(err)
	}
	if again.Changes() != 0 || again.Steps[1].URL != qURL {
		t.Fatalf("second apply = %+v", again)
	}

	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &qURL, MessageBody: aws.String("poison")}); err != nil {
		t.Fatal(err)
	}
	receives := 0
	deadline := time.Now().Add(30 * time.Second)
	for receives < opts.MaxReceiveCount && time.Now().Before(deadline) {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &qURL, MaxNumberOfMessages: 1, WaitTimeSeconds: 2})
		if err != nil {
			t.Fatal(err)
		}
		receives += len(out.Messages) // not deleted: it comes back after 1s
	}
	if receives != opts.MaxReceiveCount {
		t.Fatalf("received %d times, want %d", receives, opts.MaxReceiveCount)
	}
	var moved []sqstypes.Message
	for time.Now().Before(deadline) && len(moved) == 0 {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &qURL, MaxNumberOfMessages: 1, WaitTimeSeconds: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) > 0 {
			t.Fatalf("message received a %dth time; the redrive did not move it", opts.MaxReceiveCount+1)
		}
		d, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &dlqURL, MaxNumberOfMessages: 1, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		moved = d.Messages
	}
	if len(moved) != 1 || aws.ToString(moved[0].Body) != "poison" {
		t.Fatalf("dead-letter queue holds %+v, want the poison message", moved)
	}
}

// TestApplyUpdatesDrift shows an existing queue with other attributes is
// brought to the wanted ones, and a wrong job is refused.
func TestApplyUpdatesDrift(t *testing.T) {
	s := testenv.StartSQS(t)
	c := s.Client(t)
	ctx := context.Background()
	job, name := localJob(s, "drift-")
	if _, err := Apply(ctx, c, job, Options{}); err != nil {
		t.Fatal(err)
	}
	plan, err := NewPlan(ctx, c, job, Options{MaxReceiveCount: 7})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Changes() != 1 || plan.Steps[1].Action != ActionUpdate || len(plan.Steps[1].Attributes) != 1 || !strings.Contains(plan.Steps[1].Attributes["RedrivePolicy"], "7") {
		t.Fatalf("plan = %+v", plan)
	}
	if _, err := Apply(ctx, c, job, Options{MaxReceiveCount: 7}); err != nil {
		t.Fatal(err)
	}
	if p, err := NewPlan(ctx, c, job, Options{MaxReceiveCount: 7}); err != nil || p.Changes() != 0 {
		t.Fatalf("after update: %+v, %v", p, err)
	}

	export := iamcheck.JobConfig{Job: iamcheck.JobExport, Bucket: "b"}
	if _, err := Apply(ctx, c, export, Options{}); !errors.Is(err, iamcheck.ErrInvalidJob) {
		t.Fatalf("export job: %v", err)
	}
	closed := testenv.ClosedEndpoint(t)
	cfg := s.Config(t)
	cfg.RetryMaxAttempts = 1
	down := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = &closed })
	if _, err := Apply(ctx, down, job, Options{}); err == nil || !strings.Contains(err.Error(), name+DeadLetterSuffix) {
		t.Fatalf("unreachable SQS: %v", err)
	}
}

// Package setup turns a job's resources into infrastructure: a deployable
// template (CloudFormation JSON or YAML, Terraform JSON) and, for a
// collector, the SQS queue, its dead-letter queue, redrive policy and queue
// policy created with the SDK.
//
// The job is an [iamcheck.JobConfig]; every IAM and resource policy inside a
// template is the one [iamcheck.Generate] writes for it (one source of
// truth), so [iamcheck.Evaluate] proves the template's permissions. The
// named ARNs (QueueARN, TopicARN, RuleARN, RoleARN) are the resources the
// template creates: their names come from the ARNs, so the generated
// policies already name them.
//
// [Render] writes, for a collect job: the queue and its dead-letter queue
// (redrive after [Options].MaxReceiveCount receives, [DefaultMaxReceiveCount]
// by default), encrypted with SQS-managed keys or with KMSKeyARN; the queue
// policy (S3 limited by aws:SourceArn and aws:SourceAccount, or the SNS
// topic, or the EventBridge rule); with TopicARN the topic, its policy and
// the queue's subscription; with RuleARN the rule and its queue target; the
// bucket's notification ([Notification]); and for every job the role with
// its trust policy (ExternalId, sts:TagSession when SessionTags) and its
// identity policy, plus an optional deny of requests without TLS. With a
// KMS key the role's policy allows kms:Decrypt (and GenerateDataKey when it
// writes); Terraform adds a KMS grant; the key policy statements the key's
// administrator must add are an output of both templates.
//
// CloudFormation cannot change the notification of a bucket it did not
// create: the template declares the bucket with DeletionPolicy Retain, to be
// imported into the stack (CloudFormation resource import). Terraform's
// aws_s3_bucket_notification replaces the bucket's whole notification
// configuration, as PutBucketNotificationConfiguration does: merge existing
// ones first.
//
// [NewPlan] and [Apply] create the queues with an [SQSAPI] client. Apply is
// idempotent: an existing queue with the wanted attributes is left alone, one
// with other attributes is updated. Neither changes the bucket: the plan
// holds the notification body to set.
//
// # Errors
//
// An invalid job or options give errors wrapping [iamcheck.ErrInvalidJob] or
// [ErrInvalidOptions] that name the field; SQS errors are wrapped with the
// queue name and keep the SDK error for errors.As.
//
// # Concurrency
//
// Render, Notification and the option types are pure and safe for
// concurrent use; Apply makes its calls one after another.
package setup

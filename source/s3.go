package source

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakerelay/lakerelay/internal/awserr"
)

// S3API is the part of *s3.Client the sources use.
type S3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// SQSAPI is the part of *sqs.Client the SQS source uses.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

var (
	_ S3API  = (*s3.Client)(nil)
	_ SQSAPI = (*sqs.Client)(nil)
)

// getObject fetches an object; a missing object gives an error wrapping
// ErrNotFound as well as the SDK's error.
func getObject(ctx context.Context, c S3API, ref ObjectRef) (*s3.GetObjectOutput, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(ref.Bucket), Key: aws.String(ref.Key)}
	if ref.VersionID != "" {
		in.VersionId = aws.String(ref.VersionID)
	}
	out, err := c.GetObject(ctx, in)
	if err != nil {
		if isNotFound(err) {
			err = fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return nil, &ObjectError{Bucket: ref.Bucket, Key: ref.Key, VersionID: ref.VersionID, Offset: -1, Index: -1, Err: fmt.Errorf("get object: %w", err)}
	}
	return out, nil
}

// isNotFound reports a missing object (or version); a missing bucket is
// not: it is a configuration problem, not an object deleted since its
// notification.
func isNotFound(err error) bool {
	in := awserr.Classify(err)
	return in.Class == awserr.NotFound && in.Code != "NoSuchBucket"
}

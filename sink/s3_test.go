package sink

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/lakerelay/lakerelay/internal/testenv"
)

// recordingClient forwards to a real client and keeps the inputs of the
// write requests, to check which headers the store sends.
type recordingClient struct {
	*s3.Client
	mu      sync.Mutex
	puts    []*s3.PutObjectInput
	creates []*s3.CreateMultipartUploadInput
}

func (r *recordingClient) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	r.mu.Lock()
	cp := *in
	r.puts = append(r.puts, &cp)
	r.mu.Unlock()
	return r.Client.PutObject(ctx, in, o...)
}

func (r *recordingClient) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, o ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	r.mu.Lock()
	cp := *in
	r.creates = append(r.creates, &cp)
	r.mu.Unlock()
	return r.Client.CreateMultipartUpload(ctx, in, o...)
}

func TestS3ObjectSettings(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	rc := &recordingClient{Client: m.S3(t)}
	store, err := NewS3(rc, bucket, func(o *S3Options) {
		o.ACL = types.ObjectCannedACLBucketOwnerFullControl
		o.StorageClass = types.StorageClassReducedRedundancy
		o.Tags = map[string]string{"team": "sec ops", "source": "lakerelay"}
		o.PartSize = 5 << 20
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	po := PutOptions{ContentType: "application/x-ndjson", ContentEncoding: "gzip"}
	if err := store.Put(ctx, "small.json.gz", strings.NewReader("x"), po); err != nil {
		t.Fatal(err)
	}
	if err := store.Put(ctx, "large.json.gz", io.LimitReader(&pattern{}, 11<<20), po); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"small.json.gz", "large.json.gz"} {
		h, err := rc.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(h.ContentType) != "application/x-ndjson" || aws.ToString(h.ContentEncoding) != "gzip" || h.StorageClass != types.StorageClassReducedRedundancy {
			t.Errorf("%s: content type %q, encoding %q, storage class %q", key, aws.ToString(h.ContentType), aws.ToString(h.ContentEncoding), h.StorageClass)
		}
		tags, err := rc.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: &bucket, Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, tag := range tags.TagSet {
			got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		if got["team"] != "sec ops" || got["source"] != "lakerelay" || len(got) != 2 {
			t.Errorf("%s: tags %v", key, got)
		}
	}
	if len(rc.puts) != 1 || len(rc.creates) != 1 {
		t.Fatalf("%d PutObject and %d CreateMultipartUpload calls, want 1 each", len(rc.puts), len(rc.creates))
	}
	if rc.puts[0].ACL != types.ObjectCannedACLBucketOwnerFullControl || rc.creates[0].ACL != types.ObjectCannedACLBucketOwnerFullControl {
		t.Errorf("ACL not sent: %q %q", rc.puts[0].ACL, rc.creates[0].ACL)
	}
}

// TestS3EncryptionAndOwnerSent checks the encryption and expected-owner
// parameters on both upload paths. MinIO without a KMS rejects SSE, which
// also shows such an error reaching the caller as a StoreError.
func TestS3EncryptionAndOwnerSent(t *testing.T) {
	m := testenv.StartMinIO(t)
	bucket := m.NewBucket(t)
	rc := &recordingClient{Client: m.S3(t)}
	store, err := NewS3(rc, bucket, func(o *S3Options) {
		o.SSE = types.ServerSideEncryptionAwsKms
		o.SSEKMSKeyID = "arn:aws:kms:us-east-1:123456789012:key/abcd"
		o.ExpectedBucketOwner = "123456789012"
		o.PartSize = 5 << 20
		o.MaxAttempts = 1
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	errSmall := store.Put(ctx, "small", strings.NewReader("x"), PutOptions{})
	errLarge := store.Put(ctx, "large", io.LimitReader(&pattern{}, 11<<20), PutOptions{})
	for _, err := range []error{errSmall, errLarge} {
		var se *StoreError
		if err != nil && (!errors.As(err, &se) || se.Bucket != bucket) {
			t.Errorf("error %v is not a StoreError naming the bucket", err)
		}
	}
	if len(rc.puts) == 0 || len(rc.creates) == 0 {
		t.Fatalf("%d PutObject, %d CreateMultipartUpload calls", len(rc.puts), len(rc.creates))
	}
	p, c := rc.puts[0], rc.creates[0]
	if p.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(p.SSEKMSKeyId) == "" || aws.ToString(p.ExpectedBucketOwner) != "123456789012" {
		t.Errorf("PutObject: SSE %q key %q owner %q", p.ServerSideEncryption, aws.ToString(p.SSEKMSKeyId), aws.ToString(p.ExpectedBucketOwner))
	}
	if c.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(c.SSEKMSKeyId) == "" || aws.ToString(c.ExpectedBucketOwner) != "123456789012" {
		t.Errorf("CreateMultipartUpload: SSE %q key %q owner %q", c.ServerSideEncryption, aws.ToString(c.SSEKMSKeyId), aws.ToString(c.ExpectedBucketOwner))
	}
}

func TestS3OptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		o    S3Options
		ok   bool
	}{
		{"zero", S3Options{}, true},
		{"full", S3Options{ACL: "bucket-owner-full-control", SSE: "aws:kms", SSEKMSKeyID: "k", StorageClass: "STANDARD_IA", Tags: map[string]string{"a": "b"}, ExpectedBucketOwner: "123456789012", PartSize: 8 << 20}, true},
		{"sse", S3Options{SSE: "rot13"}, false},
		{"kms key without kms", S3Options{SSE: "AES256", SSEKMSKeyID: "k"}, false},
		{"acl", S3Options{ACL: "everyone"}, false},
		{"storage class", S3Options{StorageClass: "CHEAP"}, false},
		{"owner", S3Options{ExpectedBucketOwner: "12345"}, false},
		{"part size", S3Options{PartSize: 1 << 20}, false},
		{"negative", S3Options{MaxAttempts: -1}, false},
		{"empty tag", S3Options{Tags: map[string]string{"": "x"}}, false},
		{"too many tags", S3Options{Tags: map[string]string{"1": "", "2": "", "3": "", "4": "", "5": "", "6": "", "7": "", "8": "", "9": "", "10": "", "11": ""}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.o.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tt.ok)
			}
		})
	}
	if _, err := NewS3(nil, "b"); err == nil {
		t.Error("NewS3 accepted a nil client")
	}
	if _, err := NewS3(&s3.Client{}, "a/b"); err == nil {
		t.Error("NewS3 accepted bucket a/b")
	}
	if _, err := NewS3(&s3.Client{}, "b", func(o *S3Options) { o.SSE = "x" }); err == nil {
		t.Error("NewS3 accepted invalid options")
	}
}

package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/telemetry"
)

// S3API is the subset of *s3.Client an [S3Store] uses.
type S3API interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	UploadPart(context.Context, *s3.UploadPartInput, ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// Defaults for [S3Options].
const (
	// DefaultPartSize is the multipart part size: objects up to this size
	// are sent with one PutObject, larger ones in parts of this size (so at
	// most 10,000 × 8 MiB = 80 GiB per object).
	DefaultPartSize = 8 << 20
	// DefaultConcurrency is the number of parts of one object uploaded at
	// once. A Put holds at most (Concurrency+2) × PartSize bytes: the
	// uploader's pool of Concurrency+1 parts, and the first part, which it
	// reads outside the pool.
	DefaultConcurrency = 2
	// DefaultMaxAttempts is how often one request is tried when S3
	// throttles (503 SlowDown, 429), answers 5xx, or cannot be reached.
	DefaultMaxAttempts = 5
	// DefaultMaxBackoff caps the exponential backoff (with jitter) between
	// attempts.
	DefaultMaxBackoff = 20 * time.Second
	// MinPartSize is the smallest multipart part size S3 accepts.
	MinPartSize = 5 << 20
)

// S3Options configure an [S3Store]. The zero value means defaults.
type S3Options struct {
	// ACL is the canned ACL for every object, for example
	// types.ObjectCannedACLBucketOwnerFullControl. Empty sends none.
	ACL types.ObjectCannedACL
	// SSE is the server-side encryption: types.ServerSideEncryptionAes256
	// (SSE-S3) or types.ServerSideEncryptionAwsKms (SSE-KMS). Empty uses
	// the bucket's default.
	SSE types.ServerSideEncryption
	// SSEKMSKeyID is the KMS key (id, ARN or alias) for SSE-KMS; it requires
	// SSE to be aws:kms. Empty uses the account's aws/s3 key.
	SSEKMSKeyID string
	// StorageClass of every object, for example types.StorageClassStandardIa.
	StorageClass types.StorageClass
	// Tags are object tags set on every object (at most 10).
	Tags map[string]string
	// ExpectedBucketOwner is the 12-digit account id that must own the
	// bucket; S3 rejects requests to a bucket owned by anyone else.
	ExpectedBucketOwner string
	// PartSize is the multipart part size, at least [MinPartSize]; default
	// [DefaultPartSize].
	PartSize int64
	// Concurrency is the number of parts uploaded in parallel per Put;
	// default [DefaultConcurrency].
	Concurrency int
	// MaxAttempts per request (1 = no retries); default [DefaultMaxAttempts].
	MaxAttempts int
	// MaxBackoff caps the backoff between attempts; default [DefaultMaxBackoff].
	MaxBackoff time.Duration

	// Logger receives the store's structured log (nil: none): Info when
	// it is opened, Debug for each object stored (location, bytes when
	// the body tells its length, else -1, duration), Warn for each Put
	// that failed (location, error; the caller decides whether to retry).
	// Never credentials or object contents.
	Logger *slog.Logger
	// Observer receives [lakerelay.MetricErrors] for each failed Put,
	// with the problem class of its error, under Source Name (nil: none).
	// Records and bytes out are counted by the sinks, which know the log
	// type.
	Observer lakerelay.Observer
	// Name is the Source label and the "component" log attribute;
	// default "s3".
	Name string
}

// Validate reports every problem with o, joined.
func (o *S3Options) Validate() error {
	var errs []error
	switch o.SSE {
	case "", types.ServerSideEncryptionAes256, types.ServerSideEncryptionAwsKms, types.ServerSideEncryptionAwsKmsDsse:
	default:
		errs = append(errs, fmt.Errorf("sink: s3 options: SSE %q: want %q or %q", o.SSE, types.ServerSideEncryptionAes256, types.ServerSideEncryptionAwsKms))
	}
	if o.SSEKMSKeyID != "" && o.SSE != types.ServerSideEncryptionAwsKms && o.SSE != types.ServerSideEncryptionAwsKmsDsse {
		errs = append(errs, fmt.Errorf("sink: s3 options: SSEKMSKeyID needs SSE %q", types.ServerSideEncryptionAwsKms))
	}
	if o.ACL != "" && !contains(types.ObjectCannedACL("").Values(), o.ACL) {
		errs = append(errs, fmt.Errorf("sink: s3 options: ACL %q: want one of %v", o.ACL, types.ObjectCannedACL("").Values()))
	}
	if o.StorageClass != "" && !contains(types.StorageClass("").Values(), o.StorageClass) {
		errs = append(errs, fmt.Errorf("sink: s3 options: StorageClass %q: want one of %v", o.StorageClass, types.StorageClass("").Values()))
	}
	if len(o.Tags) > 10 {
		errs = append(errs, fmt.Errorf("sink: s3 options: %d tags, at most 10", len(o.Tags)))
	}
	for k, v := range o.Tags {
		if k == "" || len(k) > 128 || len(v) > 256 {
			errs = append(errs, fmt.Errorf("sink: s3 options: tag %q: key must be 1-128 and value 0-256 characters", k))
		}
	}
	if o.ExpectedBucketOwner != "" && (len(o.ExpectedBucketOwner) != 12 || strings.Trim(o.ExpectedBucketOwner, "0123456789") != "") {
		errs = append(errs, fmt.Errorf("sink: s3 options: ExpectedBucketOwner %q: want a 12-digit account id", o.ExpectedBucketOwner))
	}
	if o.PartSize != 0 && o.PartSize < MinPartSize {
		errs = append(errs, fmt.Errorf("sink: s3 options: PartSize %d: at least %d", o.PartSize, MinPartSize))
	}
	if o.Concurrency < 0 || o.MaxAttempts < 0 || o.MaxBackoff < 0 {
		errs = append(errs, errors.New("sink: s3 options: Concurrency, MaxAttempts and MaxBackoff must not be negative"))
	}
	return errors.Join(errs...)
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// S3Store is a [Store] in one S3 bucket. Put streams the body: bodies up to
// PartSize go up with one PutObject, larger ones as a multipart upload
// (aborted on failure, so no partial object ever appears). Requests are
// retried with exponential backoff on throttling, 5xx and connection errors.
//
// Errors are *[StoreError] naming bucket and key, wrapping the SDK error;
// access denied, missing bucket and bad credentials are marked
// [lakerelay.Permanent].
//
// An S3Store is safe for concurrent use.
type S3Store struct {
	client   S3API
	bucket   string
	o        S3Options
	tel      telemetry.T
	tagging  *string
	uploader *transfermanager.Client
}

var _ Store = (*S3Store)(nil)

// NewS3 returns a store writing to bucket through client (normally an
// *s3.Client).
func NewS3(client S3API, bucket string, opts ...func(*S3Options)) (*S3Store, error) {
	if client == nil {
		return nil, errors.New("sink: s3 store: nil client")
	}
	if bucket == "" || strings.ContainsAny(bucket, "/ ") {
		return nil, fmt.Errorf("sink: s3 store: invalid bucket name %q", bucket)
	}
	var o S3Options
	for _, f := range opts {
		f(&o)
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.PartSize == 0 {
		o.PartSize = DefaultPartSize
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	s := &S3Store{client: client, bucket: bucket, o: o, tel: telemetry.New(o.Logger, o.Observer, o.Name, "s3")}
	if len(o.Tags) > 0 {
		v := url.Values{}
		keys := make([]string, 0, len(o.Tags))
		for k := range o.Tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v.Set(k, o.Tags[k])
		}
		s.tagging = aws.String(v.Encode())
	}
	s.uploader = transfermanager.New(retrying{client, s.retryOptions}, func(u *transfermanager.Options) {
		u.PartSizeBytes = o.PartSize
		u.MultipartUploadThreshold = o.PartSize
		u.Concurrency = o.Concurrency
		// Aborting a failed multipart upload gets a fresh context, so that
		// an upload cancelled with ctx leaves no parts behind.
		u.FailTimeout = 30 * time.Second
	})
	s.tel.Log.Info("s3 store opened", "bucket", bucket, "max_attempts", o.MaxAttempts)
	return s, nil
}

// Bucket returns the store's bucket.
func (s *S3Store) Bucket() string { return s.bucket }

// Location returns "s3://bucket/key".
func (s *S3Store) Location(key string) string { return "s3://" + s.bucket + "/" + key }

func (s *S3Store) retryOptions(o *s3.Options) {
	r := o.Retryer
	if r == nil {
		r = retry.NewStandard()
	}
	r = retry.AddWithMaxAttempts(r, s.o.MaxAttempts)
	o.Retryer = retry.AddWithMaxBackoffDelay(r, s.o.MaxBackoff)
}

func (s *S3Store) owner() *string {
	if s.o.ExpectedBucketOwner == "" {
		return nil
	}
	return aws.String(s.o.ExpectedBucketOwner)
}

func (s *S3Store) err(op, key string, err error) error {
	return &StoreError{Op: op, Location: s.Location(key), Bucket: s.bucket, Key: key, Err: classify(err)}
}

// Put uploads body under key: one PutObject for bodies up to PartSize,
// otherwise a multipart upload holding at most (Concurrency+2) parts in
// memory (the uploader's pool of Concurrency+1, and the first part, read
// outside it). A failed multipart upload is aborted, also when ctx ended (the
// abort then uses a fresh 30-second context). Only when ctx ends while
// CreateMultipartUpload itself is in flight is the upload id unknown and an
// incomplete upload may remain; a bucket lifecycle rule
// (AbortIncompleteMultipartUpload) removes those.
func (s *S3Store) Put(ctx context.Context, key string, body io.Reader, po PutOptions) error {
	return reportPut(s.tel, s.Location(key), body, func() error { return s.put(ctx, key, body, po) })
}

func (s *S3Store) put(ctx context.Context, key string, body io.Reader, po PutOptions) error {
	if err := checkObjectKey(key); err != nil {
		return &StoreError{Op: "put", Location: s.Location(key), Bucket: s.bucket, Key: key, Err: lakerelay.Permanent(err)}
	}
	in := &transfermanager.UploadObjectInput{
		Bucket:               aws.String(s.bucket),
		Key:                  aws.String(key),
		Body:                 body,
		ACL:                  tmtypes.ObjectCannedACL(s.o.ACL),
		ServerSideEncryption: tmtypes.ServerSideEncryption(s.o.SSE),
		StorageClass:         tmtypes.StorageClass(s.o.StorageClass),
		Tagging:              s.tagging,
		ExpectedBucketOwner:  s.owner(),
	}
	if s.o.SSEKMSKeyID != "" {
		in.SSEKMSKeyID = aws.String(s.o.SSEKMSKeyID)
	}
	if po.ContentType != "" {
		in.ContentType = aws.String(po.ContentType)
	}
	if po.ContentEncoding != "" {
		in.ContentEncoding = aws.String(po.ContentEncoding)
	}
	if _, err := s.uploader.UploadObject(ctx, in); err != nil {
		return s.err("put", key, err)
	}
	return nil
}

// retrying is the client the uploader calls: every request with the store's
// retry settings.
type retrying struct {
	S3API
	opt func(*s3.Options)
}

func (r retrying) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return r.S3API.PutObject(ctx, in, append(o, r.opt)...)
}

func (r retrying) UploadPart(ctx context.Context, in *s3.UploadPartInput, o ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	return r.S3API.UploadPart(ctx, in, append(o, r.opt)...)
}

func (r retrying) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, o ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	return r.S3API.CreateMultipartUpload(ctx, in, append(o, r.opt)...)
}

func (r retrying) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, o ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	return r.S3API.CompleteMultipartUpload(ctx, in, append(o, r.opt)...)
}

func (r retrying) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, o ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	return r.S3API.AbortMultipartUpload(ctx, in, append(o, r.opt)...)
}

// Get opens the object under key.
func (s *S3Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkObjectKey(key); err != nil {
		return nil, &StoreError{Op: "get", Location: s.Location(key), Bucket: s.bucket, Key: key, Err: lakerelay.Permanent(err)}
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket:              aws.String(s.bucket),
		Key:                 aws.String(key),
		ExpectedBucketOwner: s.owner(),
	}, s.retryOptions, func(o *s3.Options) {
		// Multipart objects have no whole-object checksum to validate; the
		// SDK would log a warning for each.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	if err != nil {
		return nil, s.err("get", key, err)
	}
	return out.Body, nil
}

// List pages through ListObjectsV2.
func (s *S3Store) List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error {
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket:              aws.String(s.bucket),
		Prefix:              aws.String(prefix),
		ExpectedBucketOwner: s.owner(),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx, s.retryOptions)
		if err != nil {
			return s.err("list", prefix, err)
		}
		for _, obj := range page.Contents {
			info := ObjectInfo{Key: aws.ToString(obj.Key), Size: aws.ToInt64(obj.Size), LastModified: aws.ToTime(obj.LastModified)}
			if err := fn(info); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete removes the object under key.
func (s *S3Store) Delete(ctx context.Context, key string) error {
	if err := checkObjectKey(key); err != nil {
		return &StoreError{Op: "delete", Location: s.Location(key), Bucket: s.bucket, Key: key, Err: lakerelay.Permanent(err)}
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket:              aws.String(s.bucket),
		Key:                 aws.String(key),
		ExpectedBucketOwner: s.owner(),
	}, s.retryOptions)
	if err != nil {
		return s.err("delete", key, err)
	}
	return nil
}

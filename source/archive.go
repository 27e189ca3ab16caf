package source

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/lakerelay/lakerelay/partition"
	"github.com/lakerelay/lakerelay/sink"
)

// ErrArchive is wrapped by the error of an object whose archive copy
// failed (see [Archive]).
var ErrArchive = errors.New("source: archive copy failed")

// Limits of server-side copies.
const (
	// MaxCopyObjectSize is the largest object one CopyObject call copies
	// (5 GiB); larger objects are copied in parts (UploadPartCopy).
	MaxCopyObjectSize = 5 << 30
	// copyPartSize is the smallest part of a multipart copy; parts grow so
	// that no copy needs more than maxCopyParts of them.
	copyPartSize = 512 << 20
	maxCopyParts = 10000
)

// ArchiveS3API is the part of *s3.Client an S3 [Archive] uses: CopyObject,
// and for objects beyond [MaxCopyObjectSize] HeadObject and a multipart
// upload made of UploadPartCopy calls.
type ArchiveS3API interface {
	CopyObject(ctx context.Context, in *s3.CopyObjectInput, optFns ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPartCopy(ctx context.Context, in *s3.UploadPartCopyInput, optFns ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

var _ ArchiveS3API = (*s3.Client)(nil)

// Archive keeps a raw copy of every object a source reads: the stored
// bytes, unchanged (still compressed), under the key
// {prefix}/{bucket}/{key} (bucket/key without a prefix). Set it in
// SQSOptions.Archive or ListOptions.Archive: the source copies each object
// before it reads it, so the copy exists before the object's SQS message is
// deleted (or, for a List, before the object's records are read); a failed
// copy is a failure of the object (an *[ObjectError] wrapping [ErrArchive]
// and the cause, naming the bucket and key): its message stays in the queue.
//
// [NewS3Archive] copies server-side (CopyObject; UploadPartCopy beyond
// [MaxCopyObjectSize]) with a client allowed to read the source object and
// write to the archive bucket, so that no byte passes through the program.
// [NewArchive] streams each object (GetObject through the source's client,
// then [sink.Store.Put]) to any store, such as a directory.
//
// The archive key of every object is validated with
// [partition.ValidateKey]: an object whose key has empty, "." or ".."
// segments or control characters is not archived and fails. Versions of an
// object share its archive key, the last copied wins. Keep the archive out
// of the objects the source reads (another bucket, or a prefix that the
// notifications and ExcludePrefixes leave out): an archived copy that is
// announced again would be archived again, one level deeper, until the key
// is too long; an S3 archive refuses objects under its own prefix.
//
// An Archive is safe for concurrent use.
type Archive struct {
	store  sink.Store   // streaming copies
	client ArchiveS3API // server-side copies
	bucket string       // the archive bucket, for server-side copies
	prefix string       // "" or a valid key without a trailing "/"

	maxCopy, partSize int64 // MaxCopyObjectSize, copyPartSize (smaller in tests)
}

// NewArchive returns an Archive that streams each object into store, under
// prefix ("" for none).
func NewArchive(store sink.Store, prefix string) (*Archive, error) {
	if store == nil {
		return nil, errors.New("source: NewArchive needs a store")
	}
	p, err := archivePrefix(prefix)
	if err != nil {
		return nil, err
	}
	return &Archive{store: store, prefix: p}, nil
}

// NewS3Archive returns an Archive that copies each object server-side into
// bucket, under prefix ("" for none), with client: its credentials need
// s3:GetObject (s3:GetObjectVersion for versioned notifications) on the
// source objects and s3:PutObject on the archive bucket, in one region and
// endpoint. It is usually the client the source reads with.
func NewS3Archive(client ArchiveS3API, bucket, prefix string) (*Archive, error) {
	var errs []error
	if client == nil {
		errs = append(errs, errors.New("source: NewS3Archive needs an S3 client"))
	}
	if err := ValidBucketName(bucket); err != nil {
		errs = append(errs, fmt.Errorf("source: archive: %w", err))
	}
	p, err := archivePrefix(prefix)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Archive{client: client, bucket: bucket, prefix: p, maxCopy: MaxCopyObjectSize, partSize: copyPartSize}, nil
}

func archivePrefix(prefix string) (string, error) {
	p := strings.TrimSuffix(prefix, "/")
	if p == "" {
		return "", nil
	}
	if err := partition.ValidateKey(p); err != nil {
		return "", fmt.Errorf("source: archive prefix: %w", err)
	}
	return p, nil
}

// Key returns the archive key of an object: {prefix}/{bucket}/{key}, or an
// error wrapping partition.ErrInvalidKey when that is no safe key.
func (a *Archive) Key(bucket, key string) (string, error) {
	k := bucket + "/" + key
	if a.prefix != "" {
		k = a.prefix + "/" + k
	}
	if err := partition.ValidateSegment("bucket", bucket); err != nil {
		return "", err
	}
	if strings.HasSuffix(k, "/") {
		return "", &partition.KeyError{Field: "key", Value: key, Reason: `empty, or ends with "/"`}
	}
	if err := partition.ValidateKey(k); err != nil {
		return "", err
	}
	return k, nil
}

// location is where an archive key lives, for messages.
func (a *Archive) location(key string) string {
	if a.store != nil {
		return a.store.Location(key)
	}
	return "s3://" + a.bucket + "/" + key
}

// copy archives the object ref, reading it through src for a streaming
// copy. The error is an *ObjectError wrapping ErrArchive.
func (a *Archive) copy(ctx context.Context, src S3API, ref ObjectRef) (where string, err error) {
	fail := func(err error) error {
		if isNotFound(err) {
			err = fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return &ObjectError{Bucket: ref.Bucket, Key: ref.Key, VersionID: ref.VersionID, Offset: -1, Index: -1, Err: fmt.Errorf("%w: %w", ErrArchive, err)}
	}
	key, err := a.Key(ref.Bucket, ref.Key)
	if err != nil {
		return "", fail(err)
	}
	where = a.location(key)
	if a.store == nil {
		if ref.Bucket == a.bucket && a.prefix != "" && strings.HasPrefix(ref.Key, a.prefix+"/") {
			return where, fail(fmt.Errorf("the object is in the archive (s3://%s/%s/): archiving it again would repeat without end; leave the archive out of the source (ExcludePrefixes, or the bucket's notifications)", a.bucket, a.prefix))
		}
		if err := a.copyS3(ctx, ref, key); err != nil {
			return where, fail(fmt.Errorf("copy to %s: %w", where, err))
		}
		return where, nil
	}
	out, err := getObject(ctx, src, ref)
	if err != nil {
		var oe *ObjectError
		if errors.As(err, &oe) {
			err = oe.Err
		}
		return where, &ObjectError{Bucket: ref.Bucket, Key: ref.Key, VersionID: ref.VersionID, Offset: -1, Index: -1, Err: fmt.Errorf("%w: %w", ErrArchive, err)}
	}
	defer out.Body.Close()
	po := sink.PutOptions{ContentType: aws.ToString(out.ContentType), ContentEncoding: aws.ToString(out.ContentEncoding)}
	if err := a.store.Put(ctx, key, out.Body, po); err != nil {
		return where, fail(err)
	}
	return where, nil
}

// copySource is the CopySource of ref: bucket/key, URL-encoded, with the
// version.
func copySource(ref ObjectRef) string {
	s := escapeKey(ref.Bucket) + "/" + escapeKey(ref.Key)
	if ref.VersionID != "" {
		s += "?versionId=" + escapeKey(ref.VersionID)
	}
	return s
}

// escapeKey percent-encodes every byte of s but unreserved characters and
// "/" (a "+" or a space must not reach S3 as such).
func escapeKey(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~', c == '/':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// copyS3 copies ref to key in the archive bucket: with CopyObject up to
// maxCopy bytes, in parts beyond. The size comes from the notification or
// listing, or from HeadObject when it is unknown (0).
func (a *Archive) copyS3(ctx context.Context, ref ObjectRef, key string) error {
	src := copySource(ref)
	if ref.Size > 0 && ref.Size <= a.maxCopy {
		_, err := a.client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(a.bucket), Key: aws.String(key), CopySource: aws.String(src)})
		return err
	}
	hin := &s3.HeadObjectInput{Bucket: aws.String(ref.Bucket), Key: aws.String(ref.Key)}
	if ref.VersionID != "" {
		hin.VersionId = aws.String(ref.VersionID)
	}
	head, err := a.client.HeadObject(ctx, hin)
	if err != nil {
		return fmt.Errorf("head: %w", err)
	}
	size := aws.ToInt64(head.ContentLength)
	if size <= a.maxCopy {
		_, err := a.client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(a.bucket), Key: aws.String(key), CopySource: aws.String(src),
			CopySourceIfMatch: head.ETag})
		return err
	}
	return a.copyParts(ctx, src, key, head)
}

// copyParts copies an object of head's size in parts; every part is taken
// from the version head described (CopySourceIfMatch its ETag). A failed
// upload is aborted.
func (a *Archive) copyParts(ctx context.Context, src, key string, head *s3.HeadObjectOutput) error {
	size := aws.ToInt64(head.ContentLength)
	part := max(a.partSize, (size+maxCopyParts-1)/maxCopyParts)
	up, err := a.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(a.bucket), Key: aws.String(key),
		ContentType: head.ContentType, ContentEncoding: head.ContentEncoding, Metadata: head.Metadata})
	if err != nil {
		return fmt.Errorf("create multipart upload: %w", err)
	}
	abort := func(err error) error {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, aerr := a.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: aws.String(a.bucket), Key: aws.String(key), UploadId: up.UploadId}); aerr != nil {
			return fmt.Errorf("%w (abort multipart upload %s: %w)", err, aws.ToString(up.UploadId), aerr)
		}
		return err
	}
	var parts []s3types.CompletedPart
	for n, off := int32(1), int64(0); off < size; n, off = n+1, off+part {
		end := min(off+part, size) - 1
		out, err := a.client.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(a.bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), CopySource: aws.String(src), CopySourceIfMatch: head.ETag,
			CopySourceRange: aws.String("bytes=" + strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(end, 10))})
		if err != nil {
			return abort(fmt.Errorf("upload part copy %d (bytes %d-%d): %w", n, off, end, err))
		}
		var etag *string
		if out.CopyPartResult != nil {
			etag = out.CopyPartResult.ETag
		}
		parts = append(parts, s3types.CompletedPart{PartNumber: aws.Int32(n), ETag: etag})
	}
	if _, err := a.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(a.bucket), Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		return abort(fmt.Errorf("complete multipart upload: %w", err))
	}
	return nil
}

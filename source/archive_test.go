package source

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/testenv"
	"github.com/lakerelay/lakerelay/partition"
	"github.com/lakerelay/lakerelay/sink"
)

// archiveObjects are the objects of the archive tests: gzip (stored with
// Content-Encoding gzip, which must not be undone), zstd, plain, and keys
// that need escaping in a CopySource.
var archiveObjects = []string{"raw/1.json.gz", "raw/2 a+b=é.zst", "raw/3.log"}

func (e *env) putArchiveObjects() map[string][]byte {
	e.t.Helper()
	data := map[string][]byte{
		archiveObjects[0]: gz(e.t, `{"Records":[{"n":1},{"n":2}]}`),
		archiveObjects[1]: zst(e.t, "[3,4]"),
		archiveObjects[2]: []byte("5\n6\n"),
	}
	for _, k := range archiveObjects {
		in := &s3.PutObjectInput{Bucket: &e.bucket, Key: aws.String(k), Body: bytes.NewReader(data[k])}
		if strings.HasSuffix(k, ".gz") {
			in.ContentEncoding = aws.String("gzip")
			in.ContentType = aws.String("application/json")
		}
		if _, err := e.s3c.PutObject(context.Background(), in); err != nil {
			e.t.Fatal(err)
		}
	}
	return data
}

func (e *env) getObject(bucket, key string) []byte {
	e.t.Helper()
	out, err := e.s3c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		e.t.Fatalf("get s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// TestSQSArchive: every object of an SQS run is byte-identical in the
// archive, for a server-side S3 archive and a streaming directory archive,
// and every message was deleted.
func TestSQSArchive(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.QueueOptions{})
	data := e.putArchiveObjects()
	archBucket := e.minio.NewBucket(t)
	s3a, err := NewS3Archive(e.s3c, archBucket, "backup/")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ds, err := sink.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	dira, err := NewArchive(ds, "backup")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []*Archive{s3a, dira} {
		s, c := e.source(func(o *SQSOptions) { o.Archive = a })
		e.notify(archiveObjects[:2]...)
		e.notify(archiveObjects[2])
		read(t, s, 6, 20*time.Second, nil)
		waitFor(t, 10*time.Second, "2 deletions", func() bool { return s.Stats().Deleted == 2 })
		if errs := c.errors(); len(errs) != 0 {
			t.Fatal(errs)
		}
		s.Close()
	}
	for _, k := range archiveObjects {
		if got := e.getObject(archBucket, "backup/"+e.bucket+"/"+k); !bytes.Equal(got, data[k]) {
			t.Errorf("S3 archive of %s differs: %d bytes, want %d", k, len(got), len(data[k]))
		}
		got, err := os.ReadFile(filepath.Join(dir, "backup", e.bucket, filepath.FromSlash(k)))
		if err != nil || !bytes.Equal(got, data[k]) {
			t.Errorf("directory archive of %s: %v, %d bytes, want %d", k, err, len(got), len(data[k]))
		}
	}
	head, err := e.s3c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &archBucket, Key: aws.String("backup/" + e.bucket + "/" + archiveObjects[0])})
	if err != nil || aws.ToString(head.ContentEncoding) != "gzip" {
		t.Errorf("archived gzip object: %v, Content-Encoding %q", err, aws.ToString(head.ContentEncoding))
	}
}

// TestSQSArchiveDenied: an archive the credentials may not write to (a
// MinIO session policy without s3:PutObject on the archive bucket) fails
// the object before any record of it is read; the error names the bucket
// and key, and the message stays in the queue (the copy comes before the
// deletion). Both flavours: server-side copy and streaming through the S3
// store.
func TestSQSArchiveDenied(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.QueueOptions{})
	e.put("denied/1.log", []byte("a\nb\n"))
	archBucket := e.minio.NewBucket(t)
	cfg := e.minio.RestrictedConfig(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::*"]}]}`)
	restricted := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	s3a, err := NewS3Archive(restricted, archBucket, "raw")
	if err != nil {
		t.Fatal(err)
	}
	store, err := sink.NewS3(restricted, archBucket)
	if err != nil {
		t.Fatal(err)
	}
	streamed, err := NewArchive(store, "raw")
	if err != nil {
		t.Fatal(err)
	}
	for name, a := range map[string]*Archive{"copy": s3a, "stream": streamed} {
		t.Run(name, func(t *testing.T) {
			rec := newRecorder()
			s, c := e.source(func(o *SQSOptions) {
				o.Archive = a
				o.Observer = rec
			})
			e.notify("denied/1.log")
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			if r, err := s.Read(ctx); err == nil {
				t.Fatalf("record %q read although its archive copy failed", r.Data)
			}
			errs := c.errors()
			var oe *ObjectError
			var ae smithy.APIError
			if len(errs) == 0 || !errors.As(errs[0], &oe) || oe.Bucket != e.bucket || oe.Key != "denied/1.log" ||
				!errors.Is(errs[0], ErrArchive) || !errors.As(errs[0], &ae) || ae.ErrorCode() != "AccessDenied" {
				t.Fatalf("errors %v", errs)
			}
			if !strings.Contains(errs[0].Error(), "s3://"+e.bucket+"/denied/1.log") {
				t.Errorf("error %q does not name the object", errs[0])
			}
			if got := rec.count(lakerelay.MetricErrors, lakerelay.Labels{Source: "sqs", Class: lakerelay.ClassAccess}); got < 1 {
				t.Errorf("errors{access} %d", got)
			}
			s.Close()
			if st := s.Stats(); st.Deleted != 0 || st.Records != 0 {
				t.Fatalf("stats %+v", st)
			}
			if left := e.remaining(4 * time.Second); len(left) != 1 || !strings.Contains(left[0], "denied/1.log") {
				t.Fatalf("left in the queue: %q", left)
			}
		})
	}
}

// TestArchiveCopy covers the S3 archive's paths on MinIO: a multipart copy
// (UploadPartCopy) beyond the CopyObject limit, with the size announced or
// unknown (HeadObject), a key that is no safe archive key, and an object
// inside the archive itself.
func TestArchiveCopy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.QueueOptions{})
	big := make([]byte, 12<<20+3)
	rand.Read(big)
	e.put("big/object.bin", big)
	archBucket := e.minio.NewBucket(t)
	a, err := NewS3Archive(e.s3c, archBucket, "raw")
	if err != nil {
		t.Fatal(err)
	}
	a.maxCopy, a.partSize = 6<<20, 5<<20 // 3 parts: 5, 5 and 2 MiB
	ctx := context.Background()
	for _, size := range []int64{int64(len(big)), 0} {
		if _, err := a.copy(ctx, e.s3c, ObjectRef{Bucket: e.bucket, Key: "big/object.bin", Size: size}); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if got := e.getObject(archBucket, "raw/"+e.bucket+"/big/object.bin"); !bytes.Equal(got, big) {
			t.Fatalf("size %d: archive differs (%d bytes)", size, len(got))
		}
		if _, err := e.s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &archBucket, Key: aws.String("raw/" + e.bucket + "/big/object.bin")}); err != nil {
			t.Fatal(err)
		}
	}

	_, err = a.copy(ctx, e.s3c, ObjectRef{Bucket: e.bucket, Key: "a//b", Size: 1})
	var oe *ObjectError
	if !errors.Is(err, ErrArchive) || !errors.Is(err, partition.ErrInvalidKey) || !errors.As(err, &oe) || oe.Key != "a//b" {
		t.Fatalf("unsafe key: %v", err)
	}
	_, err = a.copy(ctx, e.s3c, ObjectRef{Bucket: e.bucket, Key: "missing", Size: 1})
	if !errors.Is(err, ErrArchive) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing object: %v", err)
	}
	same, _ := NewS3Archive(e.s3c, e.bucket, "raw")
	if _, err := same.copy(ctx, e.s3c, ObjectRef{Bucket: e.bucket, Key: "raw/x/y", Size: 1}); !errors.Is(err, ErrArchive) || !strings.Contains(err.Error(), "in the archive") {
		t.Fatalf("object inside the archive: %v", err)
	}
}

// TestListArchive: a List archives each object before its records are
// read; a failed copy is the object's error and none of its records come.
func TestListArchive(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.QueueOptions{})
	data := e.putArchiveObjects()
	dir := t.TempDir()
	ds, _ := sink.NewDir(dir)
	a, _ := NewArchive(ds, "")
	l, err := NewList(e.s3c, e.bucket, "raw/", func(o *ListOptions) { o.Archive = a })
	if err != nil {
		t.Fatal(err)
	}
	recs, errs := readAll(t, l)
	if len(recs) != 6 || len(errs) != 0 {
		t.Fatalf("%d records, errors %v", len(recs), errs)
	}
	for _, k := range archiveObjects {
		if got, err := os.ReadFile(filepath.Join(dir, e.bucket, filepath.FromSlash(k))); err != nil || !bytes.Equal(got, data[k]) {
			t.Errorf("archive of %s: %v", k, err)
		}
	}

	cfg := e.minio.RestrictedConfig(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::*"]}]}`)
	denied, _ := NewS3Archive(s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), e.minio.NewBucket(t), "")
	l, _ = NewList(e.s3c, e.bucket, "raw/3", func(o *ListOptions) { o.Archive = denied })
	recs, errs = readAll(t, l)
	if len(recs) != 0 || len(errs) != 1 || !errors.Is(errs[0], ErrArchive) {
		t.Fatalf("%d records, errors %v", len(recs), errs)
	}
}

func TestNewArchiveValidates(t *testing.T) {
	if _, err := NewArchive(nil, ""); err == nil {
		t.Error("nil store accepted")
	}
	ds, _ := sink.NewDir(t.TempDir())
	for _, p := range []string{"a/../b", "/abs", "a//b", "x\x01"} {
		if _, err := NewArchive(ds, p); !errors.Is(err, partition.ErrInvalidKey) {
			t.Errorf("prefix %q: %v", p, err)
		}
	}
	if _, err := NewS3Archive(nil, "Bad_Bucket", ""); err == nil {
		t.Error("bad bucket and nil client accepted")
	}
	a, _ := NewArchive(ds, "p/")
	if k, err := a.Key("b", "x/y.gz"); err != nil || k != "p/b/x/y.gz" {
		t.Errorf("Key %q %v", k, err)
	}
	for _, k := range []string{"x/", "../y", "a/./b", "a\nb", ""} {
		if _, err := a.Key("b", k); !errors.Is(err, partition.ErrInvalidKey) {
			t.Errorf("key %q: %v", k, err)
		}
	}
	if got := copySource(ObjectRef{Bucket: "b", Key: "a b+c/é", VersionID: "v 1"}); got != "b/a%20b%2Bc/%C3%A9?versionId=v%201" {
		t.Errorf("copy source %q", got)
	}
}

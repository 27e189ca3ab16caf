package source

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

func TestList(t *testing.T) {
	e := newEnv(t, testenv.QueueOptions{})
	e.put("logs/1 a+b=é.gz", gz(t, `{"Records":[{"n":1},{"n":2}]}`))
	e.put("logs/2.log", []byte("x\ny\n"))
	e.put("logs/3.bad.gz", []byte{0x1f, 0x8b, 8, 0, 9, 9, 9})
	e.put("logs/4.zst", zst(t, "[5,6]"))
	e.put("logs/skip/5", []byte("no\n"))
	e.put("other/6", []byte("no\n"))

	l, err := NewList(e.s3c, e.bucket, "logs/", func(o *ListOptions) {
		o.PageSize = 2
		o.ExcludePrefixes = []string{"logs/skip/"}
		o.LogTypes = map[string]string{"logs/": "app"}
	})
	if err != nil {
		t.Fatal(err)
	}
	recs, errs := readAll(t, l)
	var got []string
	for _, r := range recs {
		got = append(got, r.Origin.Key+":"+string(r.Data))
		if r.Origin.Bucket != e.bucket || r.Origin.LogType != "app" {
			t.Fatalf("origin %+v", r.Origin)
		}
	}
	want := []string{`logs/1 a+b=é.gz:{"n":1}`, `logs/1 a+b=é.gz:{"n":2}`, "logs/2.log:x", "logs/2.log:y", "logs/4.zst:5", "logs/4.zst:6"}
	if !equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	var oe *ObjectError
	if len(errs) != 1 || !errors.As(errs[0], &oe) || oe.Key != "logs/3.bad.gz" || oe.Bucket != e.bucket {
		t.Fatalf("errors %v", errs)
	}
	if st := l.Stats(); st.Objects != 3 || st.Records != 6 || st.Skipped != 1 || st.Errors != 1 {
		t.Fatalf("stats %+v", st)
	}
	if l.LastKey() != "logs/skip/5" {
		t.Fatalf("last key %q", l.LastKey())
	}
	l.Close()
	if _, err := l.Read(context.Background()); !errors.Is(err, lakerelay.ErrClosed) {
		t.Fatal(err)
	}

	// Resume after a key.
	l2, _ := NewList(e.s3c, e.bucket, "logs/", func(o *ListOptions) { o.StartAfter = "logs/3.bad.gz" })
	recs, errs = readAll(t, l2)
	if len(recs) != 3 || string(recs[0].Data) != "5" || len(errs) != 0 {
		t.Fatalf("resumed: %d records %v", len(recs), errs)
	}
}

func TestListFailures(t *testing.T) {
	t.Run("server-down", func(t *testing.T) {
		m := testenv.NewMinIO(t)
		c := m.S3(t)
		bucket := m.NewBucket(t)
		m.Stop()
		l, err := NewList(c, bucket, "", nil...)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // the same page is tried again
			if _, err := l.Read(context.Background()); err == nil || err == io.EOF {
				t.Fatalf("err %v", err)
			}
		}
	})
	t.Run("access-denied", func(t *testing.T) {
		e := newEnv(t, testenv.QueueOptions{})
		e.put("a", []byte("x\n"))
		cfg := e.minio.RestrictedConfig(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::*"]}]}`)
		l, _ := NewList(s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), e.bucket, "")
		recs, errs := readAll(t, l)
		var api smithy.APIError
		if len(recs) != 0 || len(errs) != 1 || !errors.As(errs[0], &api) || api.ErrorCode() != "AccessDenied" {
			t.Fatalf("records %d errors %v", len(recs), errs)
		}
	})
	t.Run("bad-options", func(t *testing.T) {
		if _, err := NewList(nil, "bad/bucket", "", func(o *ListOptions) { o.PageSize = 5000 }); err == nil {
			t.Fatal("no error")
		}
	})
}

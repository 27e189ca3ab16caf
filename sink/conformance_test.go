package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/partition"
)

// testStore is the conformance suite every Store passes. newStore returns
// an empty store.
func testStore(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	put := func(t *testing.T, s Store, key, body string) {
		t.Helper()
		if err := s.Put(ctx, key, strings.NewReader(body), PutOptions{ContentType: "text/plain"}); err != nil {
			t.Fatalf("Put %s: %v", key, err)
		}
	}
	get := func(t *testing.T, s Store, key string) string {
		t.Helper()
		rc, err := s.Get(ctx, key)
		if err != nil {
			t.Fatalf("Get %s: %v", key, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatalf("read %s: %v", key, err)
		}
		return string(b)
	}
	list := func(t *testing.T, s Store, prefix string) []string {
		t.Helper()
		var keys []string
		if err := s.List(ctx, prefix, func(o ObjectInfo) error {
			keys = append(keys, fmt.Sprintf("%s:%d", o.Key, o.Size))
			if o.LastModified.IsZero() {
				t.Errorf("%s: zero LastModified", o.Key)
			}
			return nil
		}); err != nil {
			t.Fatalf("List %q: %v", prefix, err)
		}
		return keys
	}
	notFound := func(t *testing.T, s Store, key string) {
		t.Helper()
		rc, err := s.Get(ctx, key)
		if err == nil {
			rc.Close()
			t.Fatalf("Get %s: found, want ErrNotFound", key)
		}
		if !errors.Is(err, ErrNotFound) || ProblemOf(err) != ProblemNotFound {
			t.Fatalf("Get %s: %v, want ErrNotFound", key, err)
		}
		var se *StoreError
		if !errors.As(err, &se) || se.Key != key || se.Op != "get" || !strings.Contains(err.Error(), key) {
			t.Fatalf("Get %s: error %v does not name the key", key, err)
		}
	}

	t.Run("PutGet", func(t *testing.T) {
		s := newStore(t)
		put(t, s, "a/b/c.txt", "hello")
		if got := get(t, s, "a/b/c.txt"); got != "hello" {
			t.Fatalf("got %q", got)
		}
		put(t, s, "a/b/c.txt", "again")
		if got := get(t, s, "a/b/c.txt"); got != "again" {
			t.Fatalf("after overwrite got %q", got)
		}
		put(t, s, "empty", "")
		if got := get(t, s, "empty"); got != "" {
			t.Fatalf("empty object: got %q", got)
		}
		if loc := s.Location("a/b/c.txt"); !strings.HasSuffix(loc, "c.txt") || !strings.Contains(loc, "b") {
			t.Fatalf("Location = %q", loc)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		notFound(t, s, "missing/key")
		put(t, s, "dir/x", "1")
		notFound(t, s, "dir") // a "directory" is not an object
	})
	t.Run("List", func(t *testing.T) {
		s := newStore(t)
		for _, k := range []string{"a/c", "b", "a/b/2", "a-c", "a/b/1", "ab"} {
			put(t, s, k, k)
		}
		tests := []struct {
			prefix string
			want   []string
		}{
			{"", []string{"a-c:3", "a/b/1:5", "a/b/2:5", "a/c:3", "ab:2", "b:1"}},
			{"a", []string{"a-c:3", "a/b/1:5", "a/b/2:5", "a/c:3", "ab:2"}},
			{"a/", []string{"a/b/1:5", "a/b/2:5", "a/c:3"}},
			{"a/b", []string{"a/b/1:5", "a/b/2:5"}},
			{"a/b/2", []string{"a/b/2:5"}},
			{"zzz/", nil},
		}
		for _, tt := range tests {
			if got := list(t, s, tt.prefix); strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("List(%q) = %v, want %v", tt.prefix, got, tt.want)
			}
		}
		stop := errors.New("stop")
		n := 0
		err := s.List(ctx, "", func(ObjectInfo) error { n++; return stop })
		if err != stop || n != 1 {
			t.Fatalf("List stopping: err %v after %d calls, want fn's error after 1", err, n)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		s := newStore(t)
		put(t, s, "x/y/z", "1")
		put(t, s, "x/keep", "2")
		if err := s.Delete(ctx, "x/y/z"); err != nil {
			t.Fatal(err)
		}
		notFound(t, s, "x/y/z")
		if err := s.Delete(ctx, "x/y/z"); err != nil {
			t.Fatalf("deleting a missing object: %v", err)
		}
		if got := list(t, s, ""); strings.Join(got, " ") != "x/keep:1" {
			t.Fatalf("after delete: %v", got)
		}
	})
	t.Run("InvalidKeys", func(t *testing.T) {
		s := newStore(t)
		for _, key := range []string{"", "/abs", "a/../b", "a//b", "a/./b", "prefix/", "a\nb", "bad\xff"} {
			err := s.Put(ctx, key, strings.NewReader("x"), PutOptions{})
			if !errors.Is(err, partition.ErrInvalidKey) || !lakerelay.IsPermanent(err) {
				t.Errorf("Put(%q) = %v, want a permanent ErrInvalidKey", key, err)
			}
			if _, err := s.Get(ctx, key); !errors.Is(err, partition.ErrInvalidKey) {
				t.Errorf("Get(%q) = %v, want ErrInvalidKey", key, err)
			}
			if err := s.Delete(ctx, key); !errors.Is(err, partition.ErrInvalidKey) {
				t.Errorf("Delete(%q) = %v, want ErrInvalidKey", key, err)
			}
		}
		if got := list(t, s, ""); len(got) != 0 {
			t.Fatalf("invalid puts stored %v", got)
		}
	})
	t.Run("LargeStreaming", func(t *testing.T) {
		s := newStore(t)
		// 13 MiB from a reader that is not an io.Seeker: several parts.
		const size = 13<<20 + 12345
		if err := s.Put(ctx, "big/object", io.LimitReader(&pattern{}, size), PutOptions{}); err != nil {
			t.Fatal(err)
		}
		rc, err := s.Get(ctx, "big/object")
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		n, err := io.Copy(&patternChecker{t: t}, rc)
		if err != nil || n != size {
			t.Fatalf("read back %d bytes, %v; want %d", n, err, size)
		}
	})
	t.Run("FailingBodyLeavesNoObject", func(t *testing.T) {
		s := newStore(t)
		for _, size := range []int64{100, 7 << 20} { // single put and multipart
			boom := errors.New("body broke")
			body := io.MultiReader(io.LimitReader(&pattern{}, size), &failingReader{boom})
			key := fmt.Sprintf("broken/%d", size)
			err := s.Put(ctx, key, body, PutOptions{})
			if !errors.Is(err, boom) {
				t.Fatalf("Put with failing body (%d bytes): %v, want the body's error", size, err)
			}
			var se *StoreError
			if !errors.As(err, &se) || se.Key != key {
				t.Fatalf("error %v does not name key %s", err, key)
			}
			notFound(t, s, key)
		}
		if got := list(t, s, ""); len(got) != 0 {
			t.Fatalf("failed puts left %v", got)
		}
	})
	t.Run("CancelledContext", func(t *testing.T) {
		s := newStore(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		err := s.Put(cctx, "cancelled", strings.NewReader("x"), PutOptions{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put with cancelled ctx: %v", err)
		}
		notFound(t, s, "cancelled")
	})
	t.Run("Concurrent", func(t *testing.T) {
		s := newStore(t)
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := fmt.Sprintf("c/%02d/obj", i%4) + fmt.Sprint(i)
				if err := s.Put(ctx, key, bytes.NewReader([]byte(key)), PutOptions{}); err != nil {
					errs <- err
				}
				if i%3 == 0 {
					if err := s.Delete(ctx, key); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if got := list(t, s, "c/"); len(got) != 40-14 {
			t.Fatalf("listed %d objects, want %d: %v", len(got), 40-14, got)
		}
	})
}

// pattern is an endless deterministic byte stream.
type pattern struct{ off int64 }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte((p.off*7 + p.off>>13) % 251)
		p.off++
	}
	return len(b), nil
}

type patternChecker struct {
	t   *testing.T
	off int64
}

func (c *patternChecker) Write(b []byte) (int, error) {
	for i, v := range b {
		if want := byte((c.off*7 + c.off>>13) % 251); v != want {
			return i, fmt.Errorf("byte %d: got %d, want %d", c.off, v, want)
		}
		c.off++
	}
	return len(b), nil
}

type failingReader struct{ err error }

func (f *failingReader) Read([]byte) (int, error) { return 0, f.err }

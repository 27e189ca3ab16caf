package source

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lakerelay/lakerelay"
)

func readAll(t *testing.T, s lakerelay.Source) (recs []lakerelay.Record, errs []error) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < 100000; i++ {
		r, err := s.Read(ctx)
		if err == io.EOF {
			return recs, errs
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		recs = append(recs, r)
	}
	t.Fatal("source never ended")
	return
}

func TestReader(t *testing.T) {
	in := gz(t, "{\"a\":1}\nbroken\n{\"b\":2}\n")
	t.Run("quarantine", func(t *testing.T) {
		var mu sync.Mutex
		var quarantined []lakerelay.Record
		var reasons []error
		r, err := NewReader("stdin", bytes.NewReader(in), func(o *ReaderOptions) {
			o.LogType = "app"
			o.Quarantine = func(rec lakerelay.Record, reason error) error {
				mu.Lock()
				defer mu.Unlock()
				quarantined = append(quarantined, rec)
				reasons = append(reasons, reason)
				return nil
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		recs, errs := readAll(t, r)
		if len(errs) != 0 || len(recs) != 2 || string(recs[1].Data) != `{"b":2}` {
			t.Fatalf("records %v errors %v", recs, errs)
		}
		want := lakerelay.Origin{Key: "stdin", Index: 2, Offset: 15, LogType: "app"}
		if recs[1].Origin != want {
			t.Fatalf("origin %+v, want %+v", recs[1].Origin, want)
		}
		if len(quarantined) != 1 || string(quarantined[0].Data) != "broken" || quarantined[0].Origin.Index != 1 {
			t.Fatalf("quarantined %+v", quarantined)
		}
		var oe *ObjectError
		if !errors.Is(reasons[0], lakerelay.ErrInvalidRecord) || !errors.As(reasons[0], &oe) || oe.Offset != 8 || oe.Index != 1 {
			t.Fatalf("reason %v", reasons[0])
		}
		if s := r.Stats(); s.Records != 2 || s.Quarantined != 1 || s.Objects != 1 || s.Errors != 0 {
			t.Fatalf("stats %+v", s)
		}
		if _, err := r.Read(context.Background()); err != io.EOF {
			t.Fatalf("after end: %v", err)
		}
		r.Close()
		r.Close()
		if _, err := r.Read(context.Background()); !errors.Is(err, lakerelay.ErrClosed) {
			t.Fatalf("after close: %v", err)
		}
	})
	t.Run("no-quarantine", func(t *testing.T) {
		r, _ := NewReader("stdin", bytes.NewReader(in))
		recs, errs := readAll(t, r)
		if len(recs) != 2 || len(errs) != 1 || !errors.Is(errs[0], lakerelay.ErrInvalidRecord) {
			t.Fatalf("records %d errors %v", len(recs), errs)
		}
	})
	t.Run("quarantine-fails", func(t *testing.T) {
		qerr := errors.New("disk full")
		r, _ := NewReader("stdin", bytes.NewReader(in), func(o *ReaderOptions) {
			o.Quarantine = func(lakerelay.Record, error) error { return qerr }
		})
		recs, errs := readAll(t, r)
		if len(recs) != 2 || len(errs) != 1 || !errors.Is(errs[0], qerr) || !errors.Is(errs[0], lakerelay.ErrInvalidRecord) {
			t.Fatalf("records %d errors %v", len(recs), errs)
		}
	})
	t.Run("fatal", func(t *testing.T) {
		r, _ := NewReader("f.gz", bytes.NewReader(in[:len(in)-5]))
		recs, errs := readAll(t, r)
		if len(errs) != 2 || !errors.Is(errs[1], io.ErrUnexpectedEOF) {
			t.Fatalf("records %d errors %v", len(recs), errs)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		r, _ := NewReader("x", bytes.NewReader(in))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := r.Read(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("bad-options", func(t *testing.T) {
		if _, err := NewReader("x", bytes.NewReader(in), func(o *ReaderOptions) { o.Decode.StreamType = "csv" }); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestDir(t *testing.T) {
	root := t.TempDir()
	write := func(rel string, data []byte) { writeTreeFile(t, root, rel, data) }
	write("cloudtrail/a b+c=é.json.gz", gz(t, `{"Records":[{"e":1},{"e":2}]}`))
	write("app/1.log", []byte("line one\nline two\n"))
	write("app/2.zst", zst(t, "{\"x\":1}\n"))
	write("bad/corrupt.gz", []byte{0x1f, 0x8b, 8, 0, 1, 2, 3})
	write("skip/me.log", []byte("nope\n"))
	d, err := NewDir(root, func(o *DirOptions) {
		o.LogTypes = map[string]string{"cloudtrail/": "cloudtrail", "app/": "app", "app/2": "app2"}
		o.ExcludePrefixes = []string{"skip/"}
	})
	if err != nil {
		t.Fatal(err)
	}
	if d.Files() != 4 {
		t.Fatalf("%d files", d.Files())
	}
	recs, errs := readAll(t, d)
	var got []string
	for _, r := range recs {
		got = append(got, r.Origin.LogType+":"+string(r.Data))
	}
	want := []string{"app:line one", "app:line two", "app2:{\"x\":1}", "cloudtrail:{\"e\":1}", "cloudtrail:{\"e\":2}"}
	if !equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if recs[4].Origin.Key != filepath.Join(root, "cloudtrail/a b+c=é.json.gz") || recs[4].Origin.Index != 1 {
		t.Fatalf("origin %+v", recs[4].Origin)
	}
	var oe *ObjectError
	if len(errs) != 1 || !errors.As(errs[0], &oe) || oe.Key != filepath.Join(root, "bad/corrupt.gz") {
		t.Fatalf("errors %v", errs)
	}
	if s := d.Stats(); s.Records != 5 || s.Objects != 3 || s.Errors != 1 || s.Skipped != 1 {
		t.Fatalf("stats %+v", s)
	}
	d.Close()

	// A single file; a file removed after the walk is reported as not found.
	one, err := NewDir(filepath.Join(root, "app/1.log"), func(o *DirOptions) { o.LogTypes = map[string]string{"1.": "one"} })
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(root, "app/1.log"))
	_, errs = readAll(t, one)
	if len(errs) != 1 || !errors.Is(errs[0], ErrNotFound) || one.Stats().NotFound != 1 {
		t.Fatalf("errors %v", errs)
	}
	if _, err := NewDir(filepath.Join(root, "missing")); err == nil {
		t.Fatal("no error for a missing path")
	}
}

package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/lakerelay/lakerelay"
	"github.com/lakerelay/lakerelay/internal/testenv"
)

// conformanceData is the content every source under test serves: 300
// NDJSON records in one gzip object.
func conformanceData(t *testing.T) ([]byte, []string) {
	var want []string
	var b bytes.Buffer
	for i := range 300 {
		s := fmt.Sprintf(`{"i":%d,"pad":"%0100d"}`, i, i)
		want = append(want, s)
		b.WriteString(s + "\n")
	}
	return gz(t, b.String()), want
}

// testSourceConformance checks the lakerelay.Source contract: Read from
// several goroutines hands out every record once with its own Data, a
// cancelled ctx ends Read with ctx's error, Close is idempotent and Read
// then returns ErrClosed; finite sources end with io.EOF.
func testSourceConformance(t *testing.T, src lakerelay.Source, want []string, finite bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	var mu sync.Mutex
	var got []lakerelay.Record
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				r, err := src.Read(readCtx)
				if err == io.EOF && finite {
					return
				}
				if err != nil {
					if !finite && errors.Is(err, context.Canceled) {
						return // all records were read
					}
					t.Errorf("Read: %v", err)
					return
				}
				r.Settle(nil)
				mu.Lock()
				got = append(got, r)
				if !finite && len(got) >= len(want) {
					stopReading()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var data []string
	for _, r := range got {
		data = append(data, string(r.Data))
	}
	sort.Strings(data)
	w := append([]string(nil), want...)
	sort.Strings(w)
	if !equal(data, w) {
		t.Fatalf("got %d records, want %d (or contents differ)", len(data), len(w))
	}
	// Data is never reused: every record still holds what it held.
	seen := map[int64]bool{}
	for _, r := range got {
		var idx int64
		fmt.Sscanf(string(r.Data), `{"i":%d`, &idx)
		if idx != r.Origin.Index || seen[idx] {
			t.Fatalf("record %s has index %d (duplicate %v)", r.Data, r.Origin.Index, seen[idx])
		}
		seen[idx] = true
	}
	if finite {
		if _, err := src.Read(ctx); err != io.EOF {
			t.Fatalf("Read after the end: %v", err)
		}
	} else {
		short, c := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer c()
		if _, err := src.Read(short); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Read with an expiring ctx: %v", err)
		}
	}
	cancelled, c := context.WithCancel(context.Background())
	c()
	if _, err := src.Read(cancelled); err == nil {
		t.Fatal("Read with a cancelled ctx returned a record")
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Read(context.Background()); !errors.Is(err, lakerelay.ErrClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
}

func TestSourceConformance(t *testing.T) {
	data, want := conformanceData(t)
	t.Run("Reader", func(t *testing.T) {
		r, err := NewReader("stdin", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		testSourceConformance(t, r, want, true)
	})
	t.Run("Dir", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "obj.gz"), data, 0o644)
		d, err := NewDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		testSourceConformance(t, d, want, true)
	})
	t.Run("List", func(t *testing.T) {
		e := newEnv(t, testenv.QueueOptions{})
		e.put("c/obj.gz", data)
		l, err := NewList(e.s3c, e.bucket, "c/")
		if err != nil {
			t.Fatal(err)
		}
		testSourceConformance(t, l, want, true)
	})
	t.Run("SQS", func(t *testing.T) {
		e := newEnv(t, testenv.QueueOptions{})
		e.put("c/obj.gz", data)
		e.notify("c/obj.gz")
		s, _ := e.source(nil)
		testSourceConformance(t, s, want, false)
		if st := s.Stats(); st.Deleted != 1 || st.Records != int64(len(want)) {
			t.Fatalf("stats %+v", st)
		}
	})
}

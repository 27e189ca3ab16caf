package sink

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lakerelay/lakerelay/partition"
)

func TestNewDir(t *testing.T) {
	root := filepath.Join(t.TempDir(), "a", "b")
	d, err := NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() || d.Root() != root {
		t.Fatalf("root not created: %v", err)
	}
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	if _, err := NewDir(file); err == nil {
		t.Fatal("NewDir accepted a file")
	}
	if _, err := NewDir(""); err == nil {
		t.Fatal("NewDir accepted an empty root")
	}
}

func TestDirTempFiles(t *testing.T) {
	d, _ := NewDir(t.TempDir())
	ctx := context.Background()
	// A leftover temporary file (a crash mid-write) is never listed.
	os.WriteFile(filepath.Join(d.Root(), tempPrefix+"123"), []byte("partial"), 0o644)
	if err := d.Put(ctx, "ok", bytes.NewReader([]byte("x")), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	d.List(ctx, "", func(o ObjectInfo) error { keys = append(keys, o.Key); return nil })
	if len(keys) != 1 || keys[0] != "ok" {
		t.Fatalf("listed %v", keys)
	}
	if err := d.Put(ctx, "a/"+tempPrefix+"x", bytes.NewReader(nil), PutOptions{}); !errors.Is(err, partition.ErrInvalidKey) {
		t.Fatalf("Put of a reserved name: %v", err)
	}
}

// TestDirAtomicOverwrite has readers racing a writer that replaces an
// object: every read sees one complete version.
func TestDirAtomicOverwrite(t *testing.T) {
	d, _ := NewDir(t.TempDir())
	ctx := context.Background()
	versions := [][]byte{bytes.Repeat([]byte("a"), 1<<20), bytes.Repeat([]byte("b"), 1<<20)}
	if err := d.Put(ctx, "k", bytes.NewReader(versions[0]), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := d.Put(ctx, "k", bytes.NewReader(versions[i%2]), PutOptions{}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 200 {
		rc, err := d.Get(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !(bytes.Equal(b, versions[0]) || bytes.Equal(b, versions[1])) {
			t.Fatalf("read %d bytes, %v: not a complete version", len(b), err)
		}
	}
	close(stop)
	wg.Wait()
}

package profiling

import (
	"bytes"
	"compress/gzip"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readProfile checks that path holds a gzip-compressed profile (the pprof
// format) with content.
func readProfile(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: not a pprof profile: %v", path, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil || len(raw) == 0 {
		t.Fatalf("%s: empty or broken profile (%d bytes, %v)", path, len(raw), err)
	}
}

func TestFlagsWriteProfiles(t *testing.T) {
	dir := t.TempDir()
	var f Flags
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	f.Register(fs)
	cpu, mem, tr := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof"), filepath.Join(dir, "trace.out")
	if err := fs.Parse([]string{"--cpuprofile", cpu, "--memprofile", mem, "--trace", tr}); err != nil {
		t.Fatal(err)
	}
	stop, err := f.Start()
	if err != nil {
		t.Fatal(err)
	}
	sink := 0
	for i := range 1 << 20 {
		sink += len(strings.Repeat("x", i%7))
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatalf("second stop: %v", err)
	}
	readProfile(t, cpu)
	readProfile(t, mem)
	// An execution trace starts with its format's header ("go 1.NN trace").
	if b, err := os.ReadFile(tr); err != nil || len(b) < 64 || !bytes.HasPrefix(b, []byte("go 1.")) || !bytes.Contains(b[:16], []byte(" trace")) {
		t.Fatalf("trace %s: %d bytes, %v; want an execution trace", tr, len(b), err)
	}
	_ = sink
}

func TestFlagsNoneIsNoop(t *testing.T) {
	stop, err := Flags{}.Start()
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestFlagsUnwritableFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no", "such", "dir", "p.pprof")
	if _, err := (Flags{CPU: missing}).Start(); err == nil || !strings.Contains(err.Error(), "cpuprofile") {
		t.Fatalf("Start with unwritable cpu profile: %v, want an error naming cpuprofile", err)
	}
	if _, err := (Flags{Trace: missing}).Start(); err == nil || !strings.Contains(err.Error(), "trace") {
		t.Fatalf("Start with unwritable trace: %v, want an error naming trace", err)
	}
	stop, err := Flags{Mem: missing}.Start()
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); err == nil || !strings.Contains(err.Error(), "memprofile") {
		t.Fatalf("stop with unwritable heap profile: %v, want an error naming memprofile", err)
	}
}

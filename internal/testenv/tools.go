package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// ToolsDir returns the directory scripts/install-tools installs into.
func ToolsDir() string {
	if d := os.Getenv("LAKERELAY_TOOLS"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "lakerelay")
	}
	return filepath.Join(os.TempDir(), "lakerelay-tools")
}

const installHint = "run ./scripts/test (or ./scripts/install-tools) to install the test servers"

func minioPath() (string, error) {
	p := filepath.Join(ToolsDir(), "bin", "minio")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("testenv: MinIO not found at %s: %s", p, installHint)
	}
	return p, nil
}

func nodeDir(pkg string) (string, error) {
	d := filepath.Join(ToolsDir(), "node")
	if _, err := os.Stat(filepath.Join(d, "node_modules", filepath.FromSlash(pkg), "package.json")); err != nil {
		return "", fmt.Errorf("testenv: npm package %s not found under %s: %s", pkg, d, installHint)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return "", fmt.Errorf("testenv: node not found on PATH: install Node.js (20 or later)")
	}
	return d, nil
}

// procAttr makes a child die with the test binary even when it is killed.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

var (
	stopMu  sync.Mutex
	stopFns []func()
)

// shared is a server started on first use and shared by all tests of the
// test binary; Main stops it at exit.
type shared[T interface{ Stop() }] struct {
	once sync.Once
	v    T
	err  error
}

// get returns the server, starting it with start on the first call; a
// failed start fails every test that asks for it.
func (s *shared[T]) get(t testing.TB, start func() (T, error)) T {
	t.Helper()
	s.once.Do(func() {
		s.v, s.err = start()
		if s.err == nil {
			atExit(s.v.Stop)
		}
	})
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.v
}

// startForTest starts a server for t alone, stopped when t ends.
func startForTest[T interface{ Stop() }](t testing.TB, start func() (T, error)) T {
	t.Helper()
	v, err := start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Stop)
	return v
}

func atExit(f func()) {
	stopMu.Lock()
	stopFns = append(stopFns, f)
	stopMu.Unlock()
}

// Main runs the tests and then stops every server this test binary started.
// Use it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	stopAll()
	os.Exit(code)
}

func stopAll() {
	stopMu.Lock()
	fns := stopFns
	stopFns = nil
	stopMu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

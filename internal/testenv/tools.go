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

package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	programOnce sync.Once
	programPath string
	programErr  error
)

// Program builds the main package in the current directory (the package
// under test, such as examples/export) once per test binary and returns the
// path of the executable, so tests can run the program as its users do. The
// executable is removed when Main returns.
func Program(t testing.TB) string {
	t.Helper()
	programOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lakerelay-program-")
		if err != nil {
			programErr = fmt.Errorf("testenv: %w", err)
			return
		}
		atExit(func() { os.RemoveAll(dir) })
		wd, err := os.Getwd()
		if err != nil {
			programErr = fmt.Errorf("testenv: %w", err)
			return
		}
		programPath = filepath.Join(dir, filepath.Base(wd))
		if out, err := exec.Command("go", "build", "-o", programPath, ".").CombinedOutput(); err != nil {
			programErr = fmt.Errorf("testenv: go build %s: %v\n%s", wd, err, out)
		}
	})
	if programErr != nil {
		t.Fatal(programErr)
	}
	return programPath
}

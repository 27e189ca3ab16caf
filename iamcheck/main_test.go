package iamcheck

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/lakerelay/lakerelay/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestNoAWSDependency keeps the policy model and the evaluator pure: the
// package (not its tests) must not depend on any AWS module, directly or
// through another package. The live probe lives in iamcheck/probe.
func TestNoAWSDependency(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list -deps: %v\n%s", err, stderr)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 || deps[len(deps)-1] != "github.com/lakerelay/lakerelay/iamcheck" {
		t.Fatalf("go list -deps listed %d packages, not ending with iamcheck: %q", len(deps), deps)
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "github.com/aws/") {
			t.Errorf("iamcheck depends on %s; AWS clients belong in iamcheck/probe", d)
		}
	}
}

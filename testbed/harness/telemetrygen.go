package harness

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Telemetrygen runs the telemetrygen binary ($OLLYSTACK_TELEMETRYGEN, or .tools/bin/telemetrygen,
// installed by `make tools` at the pinned version) with args and fails the test if it fails.
func Telemetrygen(t testing.TB, args ...string) string {
	t.Helper()
	bin := requireFile(t, "OLLYSTACK_TELEMETRYGEN", filepath.Join(RepoRoot(), ".tools", "bin", "telemetrygen"), "make tools")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("telemetrygen %v: %v\n%s", args, err, out)
	}
	return string(out)
}

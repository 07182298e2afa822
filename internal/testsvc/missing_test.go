package testsvc

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMissingSoftware runs this test binary's Postgres and S3 tests with the
// software made unfindable: they skip with an install hint, and fail under
// CI=true, so CI can never go green by skipping them.
func TestMissingSoftware(t *testing.T) {
	for _, ci := range []string{"", "true"} {
		cmd := exec.Command(os.Args[0], "-test.run=^(TestPostgres|TestS3)$", "-test.v", "-test.count=1")
		for _, kv := range os.Environ() {
			if k, _, _ := strings.Cut(kv, "="); k != "CI" && k != "ROOKERY_TEST_PG_DSN" && k != "ROOKERY_TEST_S3" {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, "CI="+ci, "PG_BINDIR=/nonexistent", "VERSITYGW=/nonexistent")
		out, err := cmd.CombinedOutput()
		for _, want := range []string{"apt-get install postgresql-15", "go install github.com/versity/versitygw"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("CI=%q: output lacks the hint %q:\n%s", ci, want, out)
			}
		}
		skips, fails := strings.Count(string(out), "--- SKIP"), strings.Count(string(out), "--- FAIL")
		if ci == "" && (err != nil || skips != 2 || fails != 0) {
			t.Errorf("without CI: %d skipped, %d failed, %v; want 2 skipped:\n%s", skips, fails, err, out)
		}
		if ci == "true" && (err == nil || skips != 0 || fails != 2) {
			t.Errorf("CI=true: %d skipped, %d failed, %v; want 2 failed:\n%s", skips, fails, err, out)
		}
	}
}

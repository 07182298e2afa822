package imap

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// runPython runs testdata/script with python3 against env's server (host
// and port, then args) and wants it to print "ok": Python's imaplib is a
// client that shares no code with ours. It skips without python3, except
// in CI.
func runPython(t *testing.T, env *testEnv, script string, args ...string) {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 is required in CI")
		}
		t.Skip("python3 not installed")
	}
	host, port, _ := net.SplitHostPort(env.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, append([]string{"testdata/" + script, host, port}, args...)...).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("python %s: %v\n%s", script, err, out)
	}
}

// TestPythonImaplib runs Python's imaplib through the core commands.
func TestPythonImaplib(t *testing.T) {
	runPython(t, startServer(t), "imaplib_client.py", "alice", "alicepw")
}

package pop3

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestPythonPoplib runs Python's poplib against the server, for a client
// that shares no code with ours. It skips without python3, except in CI.
func TestPythonPoplib(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 is required in CI")
		}
		t.Skip("python3 not installed")
	}
	srvTLS, _ := testTLS(t)
	env := startServer(t, func(o *Options) { o.TLSConfig = srvTLS })
	env.appendMessage(t, "alice", testMsg)
	env.appendMessage(t, "alice", "Subject: two\r\n\r\n.starts with a dot\r\nsecond\r\n")
	env.appendMessage(t, "alice", "Subject: three\r\n\r\n"+strings.Repeat("x", 2000)+"\r\n")
	host, port, _ := net.SplitHostPort(env.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "testdata/poplib_client.py", host, port, "alice", "alicepw").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("poplib client: %v\n%s", err, out)
	}
	if _, msgs := env.inbox(t, "alice"); len(msgs) != 2 {
		t.Fatalf("%d messages left, want 2", len(msgs))
	}
}

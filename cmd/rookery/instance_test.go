package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// serveFails runs `rookery serve` on cfgPath, which must exit non-zero
// within 20 s, and returns its stderr.
func serveFails(t *testing.T, cfgPath string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve", "--config", cfgPath)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("second instance kept running:\n%s", stderr.String())
	}
	if err == nil {
		t.Fatalf("second instance exited 0:\n%s", stderr.String())
	}
	return stderr.String()
}

// TestSecondInstanceSamePorts starts a second node (its own data dir) on
// the ports of a running one: it must say so in one line and exit non-zero,
// and the first must keep serving.
func TestSecondInstanceSamePorts(t *testing.T) {
	first := newNode(t)
	p := first.serve()
	second := newNode(t)
	cfg := fmt.Sprintf(`hostname = "mx.example.test"
data_dir = "."
[listen]
mx = %q
imap = %q
http = %q
submission = %q
[tls]
cert = "cert.pem"
key = "key.pem"
`, p.addr("mx"), p.addr("imap"), p.addr("http"), p.addr("submission"))
	if err := os.WriteFile(second.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr := serveFails(t, second.cfgPath)
	want := "rookery: address " + p.addr("mx") + " already in use — is another rookery running?"
	if strings.TrimSpace(stderr) != want {
		t.Fatalf("second instance said:\n%s\nwant the one line:\n%s", stderr, want)
	}
	c, err := smtp.Dial(p.addr("mx"))
	if err != nil {
		t.Fatalf("first instance no longer serves: %v", err)
	}
	c.Quit()
	p.stop(t)
}

// TestSecondInstanceSameDataDir starts a second server on the data dir of
// a running one (ports :0, so only the directory is shared): it must
// refuse in one line naming the holder, and leave the first running.
func TestSecondInstanceSameDataDir(t *testing.T) {
	n := newNode(t)
	p := n.serve()
	stderr := serveFails(t, n.cfgPath)
	want := fmt.Sprintf("rookery: data directory %s is in use by another rookery (pid %d)", n.dir, p.cmd.Process.Pid)
	if strings.TrimSpace(stderr) != want {
		t.Fatalf("second instance said:\n%s\nwant the one line:\n%s", stderr, want)
	}
	if _, err := os.Stat(filepath.Join(n.dir, "rookery.lock")); err != nil {
		t.Fatal(err)
	}
	c, err := smtp.Dial(p.addr("mx"))
	if err != nil {
		t.Fatalf("first instance no longer serves: %v", err)
	}
	c.Quit()
	p.stop(t)
}

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/engine"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/server"
)

// binary is the rookery command built once for the subprocess tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rookery-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "rookery")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build rookery: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// node is a data dir with a config listening on port 0 everywhere.
type node struct {
	t       *testing.T
	dir     string
	cfgPath string
}

func newNode(t *testing.T) *node { return newNodeWith(t, "") }

// newNodeWith adds extra TOML (sections such as [outbound]) to the config.
func newNodeWith(t *testing.T, extra string) *node {
	t.Helper()
	dir := t.TempDir()
	if err := server.WriteSelfSigned(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), "localhost"); err != nil {
		t.Fatal(err)
	}
	cfg := `hostname = "mx.example.test"
data_dir = "."
[listen]
mx = "127.0.0.1:0"
imap = "127.0.0.1:0"
http = "127.0.0.1:0"
submission = "127.0.0.1:0"
[tls]
cert = "cert.pem"
key = "key.pem"
` + extra
	n := &node{t: t, dir: dir, cfgPath: filepath.Join(dir, "rookery.toml")}
	if err := os.WriteFile(n.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return n
}

// cli runs a rookery admin command against the node and returns stdout.
func (n *node) cli(stdin string, args ...string) string {
	n.t.Helper()
	cmd := exec.Command(binary, append(args, "--config", n.cfgPath)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		n.t.Fatalf("rookery %v: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

// proc is a running `rookery serve`.
type proc struct {
	cmd   *exec.Cmd
	addrs map[string]string
	logs  *strings.Builder
	mu    *sync.Mutex
}

var listeningRE = regexp.MustCompile(`msg=listening service=(\w+) addr=(\S+)`)

// serve starts the server and waits until every listener is up.
func (n *node) serve() *proc {
	n.t.Helper()
	cmd := exec.Command(binary, "serve", "--config", n.cfgPath)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		n.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	p := &proc{cmd: cmd, addrs: map[string]string{}, logs: &strings.Builder{}, mu: &sync.Mutex{}}
	n.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs.WriteString(line + "\n")
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				p.addrs[m[1]] = m[2]
			}
			p.mu.Unlock()
			if strings.Contains(line, "rookery started") {
				close(ready)
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		p.mu.Lock()
		defer p.mu.Unlock()
		n.t.Fatalf("server did not start:\n%s", p.logs.String())
	}
	return p
}

func (p *proc) addr(key string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addrs[key]
}

func (p *proc) kill(t *testing.T) {
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			p.mu.Lock()
			defer p.mu.Unlock()
			t.Fatalf("server exited with %v after SIGTERM:\n%s", err, p.logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop within 30s of SIGTERM")
	}
}

// openStore opens the node's mailstore in this process (the server may be
// running: SQLite handles both).
func (n *node) openStore() mailstore.Store {
	n.t.Helper()
	cfg, err := config.Load(n.cfgPath)
	if err != nil {
		n.t.Fatal(err)
	}
	st, err := engine.Mailstore(context.Background(), cfg, config.DefaultMailstore, engine.StoreOptions{})
	if err != nil {
		n.t.Fatal(err)
	}
	return st
}

func TestAdminCLI(t *testing.T) {
	n := newNode(t)
	n.cli("", "domain", "add", "example.test")
	if out := n.cli("", "domain", "list"); strings.TrimSpace(out) != "example.test" {
		t.Fatalf("domain list: %q", out)
	}
	out := n.cli("", "user", "add", "alice@example.test")
	if !regexp.MustCompile(`password: \S{12,}`).MatchString(out) {
		t.Fatalf("user add without a password should print a generated one, got %q", out)
	}
	n.cli("s3cret-pass\n", "user", "add", "bob@example.test", "--password-stdin")
	n.cli("", "alias", "add", "team@example.test", "alice@example.test", "bob@example.test")
	if out := n.cli("", "user", "list"); !strings.Contains(out, "alice@example.test") || !strings.Contains(out, "bob@example.test") {
		t.Fatalf("user list: %q", out)
	}
	if out := n.cli("", "alias", "list"); !strings.Contains(out, "team@example.test") {
		t.Fatalf("alias list: %q", out)
	}
}

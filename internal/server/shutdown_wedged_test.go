package server

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

// wedgedStore is a mailstore whose Mailboxes ignores its context until
// released: an IMAP command stuck in work that does not stop when asked.
type wedgedStore struct {
	mailstore.Store
	started chan struct{}
	release chan struct{}
}

func (s *wedgedStore) Mailboxes(ctx context.Context, user string) ([]mailstore.MailboxInfo, error) {
	s.started <- struct{}{}
	<-s.release
	return nil, ctx.Err()
}

// TestNodeShutdownDoesNotWaitForWedgedSessions: a node whose IMAP session
// is stuck in a LIST still shuts down soon after its deadline (issue #8
// item 2: it waited forever), so the process can exit.
func TestNodeShutdownDoesNotWaitForWedgedSessions(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "rookery.toml")
	body := "hostname = \"mx.example.test\"\ndata_dir = \".\"\n[listen]\nimap = \"127.0.0.1:0\"\npop3 = \"127.0.0.1:0\"\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	srv, err := Open(ctx, cfg, slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Directory().AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Directory().AddAccount(ctx, "alice@example.test", testPassword, ""); err != nil {
		t.Fatal(err)
	}
	wedged := &wedgedStore{Store: srv.stores[config.DefaultMailstore], started: make(chan struct{}, 1), release: make(chan struct{})}
	defer close(wedged.release)
	srv.stores[config.DefaultMailstore] = wedged // before Start: nothing reads the map yet
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}

	c, err := net.Dial("tcp", srv.Addr("imap").String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	br.ReadString('\n') // greeting
	fmt.Fprintf(c, "a LOGIN alice@example.test \"%s\"\r\n", testPassword)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "a ") {
			if !strings.HasPrefix(line, "a OK") {
				t.Fatalf("login: %q", line)
			}
			break
		}
	}
	fmt.Fprintf(c, "b LIST \"\" \"*\"\r\n")
	select {
	case <-wedged.started:
	case <-time.After(10 * time.Second):
		t.Fatal("LIST did not reach the store")
	}

	sctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(sctx) }()
	select {
	case err := <-done:
		t.Logf("Shutdown returned after %v: %v", time.Since(start).Round(time.Millisecond), err)
	case <-time.After(20 * time.Second):
		t.Fatal("node Shutdown still waits for an IMAP session stuck in LIST")
	}
}

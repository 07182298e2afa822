package server

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/config"
)

// TestShutdownRightAfterStart: a SIGTERM that arrives as the node starts
// must stop it, even before a role's Serve goroutine has run. go-smtp's
// Server.Serve called after its Shutdown accepts forever on a listener
// nobody closes, so the node closes its own listeners too. With one P
// the Serve goroutines cannot run before Shutdown, which is the race.
func TestShutdownRightAfterStart(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	dir := t.TempDir()
	p := filepath.Join(dir, "rookery.toml")
	body := "hostname = \"mx.example.test\"\ndata_dir = \".\"\n[listen]\nmx = \"127.0.0.1:0\"\nsubmission = \"127.0.0.1:0\"\nlmtp = \"127.0.0.1:0\"\nimap = \"127.0.0.1:0\"\npop3 = \"127.0.0.1:0\"\nhttp = \"127.0.0.1:0\"\n[submission]\nallow_insecure_auth = true\n[imap]\nallow_insecure_auth = true\n[pop3]\nallow_insecure_auth = true\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 5 {
		srv, err := Open(ctx, cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Start(ctx); err != nil {
			t.Fatal(err)
		}
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		start := time.Now()
		err = srv.Shutdown(sctx)
		cancel()
		if err != nil {
			t.Fatalf("shutdown right after start: %v (after %v)", err, time.Since(start))
		}
	}
}

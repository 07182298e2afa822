package server

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

// testEnv is a running node on 127.0.0.1:0 with a temp data dir, the
// domain example.test and the accounts alice, bob and carol.
type testEnv struct {
	t   testing.TB
	srv *Server
	cfg *config.Config
}

const testPassword = "correct horse battery staple"

func startEnv(t testing.TB, edit func(*config.Config)) *testEnv {
	t.Helper()
	return startEnvWith(t, edit, nil)
}

// startEnvWith is startEnv with a hook that may replace parts of the
// server (test seams) after Open, before anything listens.
func startEnvWith(t testing.TB, edit func(*config.Config), beforeStart func(*Server)) *testEnv {
	t.Helper()
	dir := t.TempDir()
	if err := WriteSelfSigned(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), "localhost"); err != nil {
		t.Fatal(err)
	}
	body := `hostname = "mx.example.test"
data_dir = "."
[listen]
mx = "127.0.0.1:0"
submission = "127.0.0.1:0"
submissions = "127.0.0.1:0"
lmtp = "127.0.0.1:0"
imap = "127.0.0.1:0"
imaps = "127.0.0.1:0"
http = "127.0.0.1:0"
[tls]
cert = "cert.pem"
key = "key.pem"
[smtp]
max_message_size = 1048576
`
	p := filepath.Join(dir, "rookery.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(cfg)
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if _, bench := t.(*testing.B); bench {
		log = slog.New(slog.DiscardHandler)
	}
	srv, err := Open(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	d := srv.Directory()
	if err := d.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob", "carol"} {
		if _, err := d.AddAccount(ctx, u+"@example.test", testPassword, ""); err != nil {
			t.Fatal(err)
		}
	}
	if beforeStart != nil {
		beforeStart(srv)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &testEnv{t: t, srv: srv, cfg: cfg}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

func (e *testEnv) addr(key string) string { return e.srv.Addr(key).String() }

func (e *testEnv) store() mailstore.Store { return e.srv.Stores()[config.DefaultMailstore] }

// storeOf is the mailstore the directory places user on.
func (e *testEnv) storeOf(user string) mailstore.Store {
	e.t.Helper()
	acct, err := e.srv.Directory().Account(context.Background(), user)
	if err != nil {
		e.t.Fatal(err)
	}
	st, ok := e.srv.Stores()[acct.Mailstore]
	if !ok {
		e.t.Fatalf("%s: mailstore %q is not open on this node", user, acct.Mailstore)
	}
	return st
}

// waitMessages waits until user's mailbox holds n messages and returns them.
func (e *testEnv) waitMessages(user, mailbox string, n int) []mailstore.Message {
	e.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var msgs []mailstore.Message
		st := e.storeOf(user)
		mb, err := st.Mailbox(ctx, user, mailbox)
		if err == nil {
			msgs, err = st.Messages(ctx, user, mb.ID)
		}
		if err == nil && len(msgs) >= n {
			if len(msgs) > n {
				e.t.Fatalf("%s %s: %d messages, want %d", user, mailbox, len(msgs), n)
			}
			return msgs
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s %s: %d messages after 10s (err %v), want %d", user, mailbox, len(msgs), err, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *testEnv) body(m mailstore.Message) []byte {
	e.t.Helper()
	rc, err := e.store().OpenBlob(context.Background(), m.BlobID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rc.Close()
	b, err := readAll(rc)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

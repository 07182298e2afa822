package interop

import (
	"bytes"
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
	"github.com/rookery-mail/rookery/internal/server"
)

// node is a Rookery instance for a test: one domain, one account.
type node struct {
	srv    *server.Server
	domain string
	user   string
}

const nodePassword = "pw-interop-123"

// nodeConfig is what differs between test nodes; the rest is loopback
// listeners on port 0.
type nodeConfig struct {
	hostname, domain, user string
	mx                     string // MX listen address; "" = 127.0.0.1:0
	extra                  string // more TOML, e.g. [outbound] and [queue]
}

func startNode(t *testing.T, nc nodeConfig) *node { return startNodeB(t, nc) }

// startNodeB is startNode for tests and benchmarks alike.
func startNodeB(t testing.TB, nc nodeConfig) *node {
	t.Helper()
	dir := t.TempDir()
	if err := server.WriteSelfSigned(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), nc.hostname); err != nil {
		t.Fatal(err)
	}
	if nc.mx == "" {
		nc.mx = "127.0.0.1:0"
	}
	body := fmt.Sprintf(`hostname = %q
data_dir = %q
[listen]
mx = %q
lmtp = "127.0.0.1:0"
submission = "127.0.0.1:0"
imap = "127.0.0.1:0"
pop3 = "127.0.0.1:0"
[tls]
cert = "cert.pem"
key = "key.pem"
%s`, nc.hostname, dir, nc.mx, nc.extra)
	p := filepath.Join(dir, "rookery.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testLog{t, nc.hostname}, nil))
	if _, bench := t.(*testing.B); bench {
		log = slog.New(slog.DiscardHandler)
	}
	srv, err := server.Open(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := srv.Directory().AddDomain(ctx, nc.domain); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Directory().AddAccount(ctx, nc.user+"@"+nc.domain, nodePassword, ""); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return &node{srv: srv, domain: nc.domain, user: nc.user + "@" + nc.domain}
}

type testLog struct {
	t    testing.TB
	name string
}

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(w.name + ": " + strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// messages waits until the account's INBOX holds at least n messages and
// returns their bodies.
func (n *node) messages(t testing.TB, count int) [][]byte {
	t.Helper()
	st := n.srv.Stores()[config.DefaultMailstore]
	ctx := context.Background()
	deadline := time.Now().Add(20 * time.Second)
	for {
		mb, err := st.Mailbox(ctx, n.user, "INBOX")
		if err == nil {
			msgs, _ := st.Messages(ctx, n.user, mb.ID)
			if len(msgs) >= count {
				var out [][]byte
				for _, m := range msgs {
					rc, err := st.OpenBlob(ctx, m.BlobID)
					if err != nil {
						t.Fatal(err)
					}
					var b bytes.Buffer
					b.ReadFrom(rc)
					rc.Close()
					out = append(out, b.Bytes())
				}
				return out
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: INBOX did not reach %d messages", n.user, count)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// loopbackPort finds a port free on all the given loopback addresses.
func loopbackPort(t *testing.T, ips ...string) int {
	t.Helper()
	for try := 0; try < 20; try++ {
		l, err := net.Listen("tcp", ips[0]+":0")
		if err != nil {
			t.Fatalf("listen on %s: %v", ips[0], err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		ok := true
		var held []net.Listener
		for _, ip := range ips[1:] {
			l2, err := net.Listen("tcp", fmt.Sprintf("%s:%d", ip, port))
			if err != nil {
				ok = false
				break
			}
			held = append(held, l2)
		}
		l.Close()
		for _, h := range held {
			h.Close()
		}
		if ok {
			return port
		}
	}
	t.Fatal("no common free port on the loopback addresses")
	return 0
}

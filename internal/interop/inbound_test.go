package interop

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/server"
)

// rookery starts a node on loopback with the domain example.test and the
// account alice.
func rookery(t *testing.T) *server.Server {
	t.Helper()
	dir := t.TempDir()
	body := fmt.Sprintf("hostname = \"mx.example.test\"\ndata_dir = %q\n[listen]\nmx = \"127.0.0.1:0\"\nlmtp = \"127.0.0.1:0\"\nsubmission = \"127.0.0.1:0\"\n", dir)
	p := filepath.Join(dir, "rookery.toml")
	os.WriteFile(p, []byte(body), 0o600)
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	d := srv.Directory()
	ctx := context.Background()
	if err := d.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.AddAccount(ctx, "alice@example.test", "pw-alice-123", ""); err != nil {
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
	return srv
}

// inbox waits for n messages in alice's INBOX and returns their bodies.
func inbox(t *testing.T, st mailstore.Store, n int) [][]byte {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(20 * time.Second)
	for {
		mb, err := st.Mailbox(ctx, "alice@example.test", "INBOX")
		if err == nil {
			msgs, _ := st.Messages(ctx, "alice@example.test", mb.ID)
			if len(msgs) >= n {
				var out [][]byte
				for _, m := range msgs {
					rc, _ := st.OpenBlob(ctx, m.BlobID)
					b := new(bytes.Buffer)
					b.ReadFrom(rc)
					rc.Close()
					out = append(out, b.Bytes())
				}
				return out
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alice's INBOX did not reach %d messages", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPostfixRelaysToRookery: Postfix accepts mail for example.test and
// relays it to Rookery's MX over SMTP, and delivers to Rookery's LMTP.
func TestPostfixRelaysToRookery(t *testing.T) {
	r := rookery(t)
	for _, tc := range []struct{ name, transport string }{
		{"smtp", "relay:[127.0.0.1]:" + portOf(r.Addr("mx").String())},
		{"lmtp", "lmtp:inet:127.0.0.1:" + portOf(r.Addr("lmtp").String())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pf := startPostfix(t, "relay_domains = example.test\ntransport_maps = inline:{example.test="+tc.transport+"}\n")
			token := fmt.Sprintf("via-postfix-%s-%d", tc.name, time.Now().UnixNano())
			msg := "From: someone@peer.localdomain\r\nTo: alice@example.test\r\nSubject: " + token + "\r\n\r\nrelayed by a real Postfix\r\n"
			c, err := smtp.Dial(pf.smtp)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.SendMail("someone@peer.localdomain", []string{"alice@example.test"}, strings.NewReader(msg)); err != nil {
				t.Fatal(err)
			}
			c.Quit()
			pf.waitLog("status=sent")
			found := false
			for _, b := range inbox(t, r.Stores()[server.DefaultMailstore], 1) {
				if bytes.Contains(b, []byte(token)) && bytes.Contains(b, []byte("relayed by a real Postfix")) {
					found = true
				}
			}
			if !found {
				t.Fatal("message relayed by Postfix not in alice's INBOX")
			}
		})
	}
}

func portOf(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }

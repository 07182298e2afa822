package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/dnstest"
)

// TestRookeryDeliversToPostfix: Rookery's outbound role finds peer.test's
// MX through DNS and delivers to a real Postfix, which stores the message
// in a Maildir.
func TestRookeryDeliversToPostfix(t *testing.T) {
	pf := startPostfix(t, `virtual_mailbox_domains = peer.test
virtual_mailbox_base = MAILDIR
virtual_mailbox_maps = inline:{bob@peer.test=bob/}
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
`)
	port := portOf(pf.smtp)
	dns := dnstest.Start(t, dnstest.Records{
		MX: map[string][]dnstest.MX{"peer.test": {{Pref: 10, Host: "mx.peer.test"}}},
		A:  map[string][]string{"mx.peer.test": {"127.0.0.1"}},
	})
	a := startNode(t, nodeConfig{hostname: "mx.a.test", domain: "a.test", user: "alice",
		extra: fmt.Sprintf("[outbound]\nresolver = %q\nport = %s\n", dns.Addr, port)})
	s := &twoSystems{a: a, dns: dns}
	token := fmt.Sprintf("to-postfix-%d", time.Now().UnixNano())
	s.submit(t, "bob@peer.test", "From: alice@a.test\r\nTo: bob@peer.test\r\nSubject: "+token+"\r\n\r\nfrom Rookery to Postfix\r\n")
	pf.waitLog("status=sent")
	files, _ := filepath.Glob(filepath.Join(pf.dir, "mail", "bob", "new", "*"))
	if len(files) != 1 {
		t.Fatalf("Postfix's maildir has %d new messages, want 1", len(files))
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), token) || !strings.Contains(string(b), "from Rookery to Postfix") {
		t.Fatalf("message in Postfix's maildir:\n%s", b)
	}
}

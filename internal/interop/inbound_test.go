package interop

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// TestPostfixRelaysToRookery: Postfix accepts mail for example.test and
// relays it to Rookery's MX over SMTP, and delivers to Rookery's LMTP.
func TestPostfixRelaysToRookery(t *testing.T) {
	n := startNode(t, nodeConfig{hostname: "mx.example.test", domain: "example.test", user: "alice"})
	r := n.srv
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
			for _, b := range n.messages(t, 1) {
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

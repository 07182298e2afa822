package server

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/config"
)

// TestProxyProtocol: with [listen] proxy_from covering the load balancer
// (loopback here), the MX takes the client's address from the PROXY
// header: it is the one in the Received field. A v1 header is written by
// hand, as HAProxy's send-proxy does.
func TestProxyProtocol(t *testing.T) {
	e := startEnv(t, func(c *config.Config) {
		c.Listen.ProxyFrom = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	c, err := net.Dial("tcp", e.addr("mx"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "PROXY TCP4 192.0.2.7 127.0.0.1 40000 25\r\n")
	r := bufio.NewReader(c)
	expect := func(code string) {
		t.Helper()
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("waiting for %s: %v", code, err)
			}
			if !strings.HasPrefix(line, code) {
				t.Fatalf("got %q, want %s", line, code)
			}
			if line[3] == ' ' {
				return
			}
		}
	}
	expect("220")
	for _, step := range []struct{ cmd, code string }{
		{"EHLO client.example", "250"}, {"MAIL FROM:<s@remote.test>", "250"}, {"RCPT TO:<alice@example.test>", "250"},
		{"DATA", "354"}, {"Subject: via a proxy\r\n\r\nhi\r\n.", "250"}, {"QUIT", "221"},
	} {
		fmt.Fprintf(c, "%s\r\n", step.cmd)
		expect(step.code)
	}
	msgs := e.waitMessages("alice@example.test", "INBOX", 1)
	if body := string(e.body(msgs[0])); !strings.Contains(body, "192.0.2.7") {
		t.Fatalf("the Received field does not name the client behind the proxy:\n%s", body)
	}
}

// TestProxyProtocolRequired: a connection from a proxy_from network that
// does not start with a PROXY header is closed, never served as if it
// came from the proxy itself.
func TestProxyProtocolRequired(t *testing.T) {
	e := startEnv(t, func(c *config.Config) {
		c.Listen.ProxyFrom = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	c, err := net.Dial("tcp", e.addr("imap"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "a1 CAPABILITY\r\n")
	if line, err := bufio.NewReader(c).ReadString('\n'); err == nil {
		t.Fatalf("a connection without a PROXY header was served: %q", line)
	}
}

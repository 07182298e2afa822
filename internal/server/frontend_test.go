package server

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/authlimit/authlimittest"
	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/frontend"
)

const testSecret = "a cluster secret of some length"

// backEnd is a node whose IMAP and POP3 listeners take PROXY headers from
// loopback, as a back end takes them from its cluster peers, with the
// cluster secret set after start (the proxy login checks it at each
// login; the node itself runs without the cluster's PostgreSQL).
func backEnd(t *testing.T, beforeStart func(*Server)) *testEnv {
	e := startEnvWith(t, func(c *config.Config) {
		c.Listen.POP3 = "127.0.0.1:0"
		c.Listen.ProxyFrom = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}, beforeStart)
	e.cfg.Cluster.Secret = testSecret
	return e
}

var farClient = frontend.Client{
	Remote: &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 40000},
	Local:  &net.TCPAddr{IP: net.ParseIP("198.51.100.1"), Port: 143},
}

func at(addr string) frontend.Resolve {
	return func(context.Context, bool) (frontend.Target, error) {
		return frontend.Target{Node: "back", Addr: addr}, nil
	}
}

// TestProxyLoginIMAP: a front end logs in as alice with the proxy
// identity and the secret, without alice's password, and gets her mail.
// The login neither waits for nor feeds the throttle of alice at the
// client's address, which the front end already went through.
func TestProxyLoginIMAP(t *testing.T) {
	clk := authlimittest.New()
	e := backEnd(t, withAuthClock(clk))
	ctx := t.Context()
	for range 9 { // alice at 192.0.2.7 is now throttled for 16 s
		e.srv.authenticate(ctx, "alice@example.test", "wrong", farClient.Remote)
	}
	slept := clk.Slept()
	d := frontend.Dialer{Secret: testSecret}
	up, err := d.IMAP(ctx, at(e.addr("imap")), "alice@example.test", farClient)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	if !strings.HasPrefix(up.Capability, "IMAP4rev1 ") || strings.Contains(up.Capability, "AUTH=") {
		t.Fatalf("capability after login %q", up.Capability)
	}
	if clk.Slept() != slept {
		t.Fatalf("the proxy login waited for the throttle (%v)", clk.Slept()-slept)
	}
	up.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := up.Write([]byte("S SELECT INBOX\r\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	var got string
	for !strings.Contains(got, "S OK") {
		n, err := up.Read(buf)
		if err != nil {
			t.Fatalf("SELECT: %v after %q", err, got)
		}
		got += string(buf[:n])
	}
	// The throttle is as the failures left it: alice's password from that
	// address is still refused.
	if _, err := e.srv.authenticate(ctx, "alice@example.test", testPassword, farClient.Remote); !errors.Is(err, directory.ErrAuthFailed) {
		t.Fatalf("throttled login after the proxy login: %v", err)
	}
}

// TestProxyLoginRefused: a wrong secret, an unknown user, or a node that
// is not clustered refuse the proxy identity; a user whose store this
// node does not serve gets "not here".
func TestProxyLoginRefused(t *testing.T) {
	e := backEnd(t, nil)
	ctx := t.Context()
	if _, err := e.srv.Directory().AddAccount(ctx, "dave@example.test", testPassword, "elsewhere"); err != nil {
		t.Fatal(err)
	}
	for _, proto := range []string{"imap", "pop3"} {
		dial := func(secret, user string) error {
			d := frontend.Dialer{Secret: secret}
			var up *frontend.Session
			var err error
			if proto == "imap" {
				up, err = d.IMAP(ctx, at(e.addr(proto)), user, farClient)
			} else {
				up, err = d.POP3(ctx, at(e.addr(proto)), user, farClient)
			}
			if err == nil {
				up.Close()
			}
			return err
		}
		refused := map[string]string{"imap": "[AUTHENTICATIONFAILED]", "pop3": "-ERR [AUTH]"}[proto]
		if err := dial(testSecret, "alice@example.test"); err != nil {
			t.Fatalf("%s: right secret: %v", proto, err)
		}
		if err := dial("not the secret, some length", "alice@example.test"); err == nil || !strings.Contains(err.Error(), refused) {
			t.Errorf("%s: wrong secret: %v", proto, err)
		}
		if err := dial(testSecret, "nobody@example.test"); err == nil || !strings.Contains(err.Error(), refused) {
			t.Errorf("%s: unknown user: %v", proto, err)
		}
		if err := dial(testSecret, "dave@example.test"); !errors.Is(err, frontend.ErrNotHere) {
			t.Errorf("%s: user on a store not served here: %v", proto, err)
		}
	}
	// Not clustered, the connection is a far client's like any other:
	// no plaintext login without TLS, let alone a proxy login.
	e.cfg.Cluster.Secret = ""
	d := frontend.Dialer{Secret: testSecret}
	if _, err := d.IMAP(ctx, at(e.addr("imap")), "alice@example.test", farClient); err == nil || !strings.Contains(err.Error(), "NO [PRIVACYREQUIRED]") {
		t.Errorf("imap, not clustered: %v", err)
	}
	if _, err := d.POP3(ctx, at(e.addr("pop3")), "alice@example.test", farClient); err == nil || !strings.Contains(err.Error(), "-ERR [AUTH] Plaintext") {
		t.Errorf("pop3, not clustered: %v", err)
	}
	// And from loopback itself, where plaintext is allowed, the proxy
	// identity is refused: there are no cluster peers.
	local := frontend.Client{Remote: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, Local: farClient.Local}
	if _, err := d.IMAP(ctx, at(e.addr("imap")), "alice@example.test", local); err == nil || !strings.Contains(err.Error(), "NO [AUTHORIZATIONFAILED]") {
		t.Errorf("imap, not clustered, from loopback: %v", err)
	}
	if _, err := d.POP3(ctx, at(e.addr("pop3")), "alice@example.test", local); err == nil || !strings.Contains(err.Error(), "Authorization identity not permitted") {
		t.Errorf("pop3, not clustered, from loopback: %v", err)
	}
}

// TestClusterPeer: the proxy identity is accepted from cluster.peers and
// loopback, and only in cluster mode.
func TestClusterPeer(t *testing.T) {
	cfg := &config.Config{}
	s := &Server{cfg: cfg}
	cfg.Cluster.Peers = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}
	peer := &net.TCPAddr{IP: net.ParseIP("10.0.0.5"), Port: 1}
	if s.clusterPeer(peer) {
		t.Error("a peer accepted without cluster mode")
	}
	cfg.Cluster.Secret = testSecret
	for addr, want := range map[string]bool{"10.0.0.5": true, "::ffff:10.0.0.5": true, "127.0.0.1": true, "::1": true, "10.0.1.5": false, "192.0.2.7": false} {
		if got := s.clusterPeer(&net.TCPAddr{IP: net.ParseIP(addr), Port: 1}); got != want {
			t.Errorf("clusterPeer(%s) = %v, want %v", addr, got, want)
		}
	}
}

package imap

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/frontend"
	"github.com/rookery-mail/rookery/internal/proxyproto"
)

// The proxy tests run two servers: a back end with the mail (a
// sqlitestore) and a front end without, whose logins reach the back end
// through package frontend, as a cluster's imap node does. The front end
// dials from 127.0.0.2, the back end's only cluster peer; test clients
// come from 127.0.0.1.

const testSecret = "a-cluster-secret-of-some-length"

var frontSource = netip.MustParseAddr("127.0.0.2")

// clusterBackend is a back end's Backend: testBackend plus proxy logins.
type clusterBackend struct {
	*testBackend
	notHere func(user string) bool // nil: serves everyone

	mu      sync.Mutex
	remotes []string // the client address each proxy login saw
}

func (b *clusterBackend) ClusterPeer(peer net.Addr) bool {
	a, ok := peer.(*net.TCPAddr)
	return ok && a.AddrPort().Addr().Unmap() == frontSource
}

func (b *clusterBackend) LoginAs(ctx context.Context, authzid, authcid, password string, remote net.Addr) (Login, error) {
	b.mu.Lock()
	b.remotes = append(b.remotes, remote.String())
	b.mu.Unlock()
	if authcid != config.ProxyIdentity || password != testSecret {
		return Login{}, ErrAuthFailed
	}
	if b.notHere != nil && b.notHere(authzid) {
		return Login{}, ErrNotHere
	}
	return Login{User: authzid, Store: b.store}, b.store.EnsureAccount(ctx, authzid)
}

func (b *clusterBackend) seen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.remotes...)
}

// frontBackend authenticates like testBackend and sends every user to
// the back end resolve names.
type frontBackend struct {
	users   map[string]string
	dialer  frontend.Dialer
	resolve frontend.Resolve
}

func (b *frontBackend) Login(ctx context.Context, username, password string, remote net.Addr) (Login, error) {
	user := strings.ToLower(username)
	if pw, ok := b.users[user]; !ok || pw != password {
		return Login{}, ErrAuthFailed
	}
	return Login{User: user, Upstream: func(ctx context.Context, client, local net.Addr) (UpstreamConn, error) {
		s, err := b.dialer.IMAP(ctx, b.resolve, user, frontend.Client{Remote: client, Local: local})
		if err != nil {
			return UpstreamConn{}, err
		}
		return UpstreamConn{Conn: s.Conn, Node: s.Node, Capability: s.Capability}, nil
	}}, nil
}

// startBackEnd runs a back end that takes PROXY headers from frontSource.
func startBackEnd(t testing.TB, notHere func(string) bool) (*testEnv, *clusterBackend) {
	t.Helper()
	var cb *clusterBackend
	env := startServerOn(t, nil, func(l net.Listener) net.Listener {
		return proxyproto.NewListener(l, proxyproto.Options{
			Trusted: []netip.Prefix{netip.PrefixFrom(frontSource, 32)}, Logger: slog.New(slog.DiscardHandler)})
	}, func(o *Options) {
		cb = &clusterBackend{testBackend: o.Backend.(*testBackend), notHere: notHere}
		o.Backend = cb
	})
	return env, cb
}

// startFrontEnd runs a front end routing every user by resolve.
func startFrontEnd(t testing.TB, resolve frontend.Resolve, tweak ...func(*Options)) *testEnv {
	t.Helper()
	fb := &frontBackend{
		users:   map[string]string{"alice": "alicepw", "bob": "bobpw"},
		dialer:  frontend.Dialer{Secret: testSecret, Source: frontSource},
		resolve: resolve,
	}
	return startServer(t, append([]func(*Options){func(o *Options) { o.Backend = fb }}, tweak...)...)
}

// to is a Resolve that always names addr.
func to(addr string) frontend.Resolve {
	return func(context.Context, bool) (frontend.Target, error) {
		return frontend.Target{Node: "back", Addr: addr}, nil
	}
}

// proxyPair is a back end with two messages for alice and a front end before it.
func proxyPair(t testing.TB) (back, front *testEnv, cb *clusterBackend) {
	t.Helper()
	back, cb = startBackEnd(t, nil)
	back.appendMessage(t, "alice", "INBOX", testMsg, `\Seen`)
	back.appendMessage(t, "alice", "INBOX", strings.Replace(testMsg, "Hello there", "Second", 1))
	return back, startFrontEnd(t, to(back.addr)), cb
}

// session runs the same commands directly and through the proxy; the
// transcripts must be the same, byte for byte.
func TestProxySameAsDirect(t *testing.T) {
	back, front, _ := proxyPair(t)
	script := []struct{ cmd, tag string }{
		{"L1 LOGIN alice alicepw", "L1"},
		{"C1 CAPABILITY", "C1"},
		{"S1 EXAMINE INBOX", "S1"}, // SELECT would take \Recent from the next session
		{"F1 FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE BODY.PEEK[])", "F1"},
		{"F2 UID FETCH 1:* (BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (SUBJECT)])", "F2"},
		{"N1 NOOP", "N1"},
	}
	transcript := func(addr string) []string {
		c := dialRaw(t, addr)
		var out []string
		for _, s := range script {
			c.send(s.cmd + "\r\n")
			out = append(out, c.readUntilTagged(s.tag)...)
		}
		c.cmd("Z LOGOUT", `\* BYE .*`, `Z OK .*`)
		return out
	}
	direct, proxied := transcript(back.addr), transcript(front.addr)
	if strings.Join(direct, "\n") != strings.Join(proxied, "\n") {
		t.Fatalf("proxied session differs from direct\ndirect:\n%s\nproxied:\n%s",
			strings.Join(direct, "\n"), strings.Join(proxied, "\n"))
	}
	if !strings.Contains(direct[0], "CAPABILITY IMAP4rev1") || !strings.Contains(strings.Join(direct, "\n"), "Hello there") {
		t.Fatalf("unexpected transcript:\n%s", strings.Join(direct, "\n"))
	}
}

// TestProxyIdle: IDLE through the proxy wakes on a new message and DONE ends it.
func TestProxyIdle(t *testing.T) {
	back, front, _ := proxyPair(t)
	c := dialRaw(t, front.addr)
	c.login("alice")
	c.send("S SELECT INBOX\r\n")
	c.readUntilTagged("S")
	c.cmd("I IDLE", `\+ idling`)
	back.appendMessage(t, "alice", "INBOX", testMsg)
	c.expect(`\* 3 EXISTS`, `\* \d RECENT`)
	c.cmd("DONE", `I OK IDLE terminated`)
}

// TestProxyPipelined: commands sent in the same packet as LOGIN reach the
// back end after the login, in order.
func TestProxyPipelined(t *testing.T) {
	_, front, _ := proxyPair(t)
	c := dialRaw(t, front.addr)
	c.send("L LOGIN alice alicepw\r\nS EXAMINE INBOX\r\nF FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n")
	c.expect(`L OK \[CAPABILITY .*\] Logged in`)
	c.readUntilTagged("S")
	lines := c.readUntilTagged("F")
	if !strings.Contains(strings.Join(lines, "\n"), "Subject: Second") {
		t.Fatalf("pipelined FETCH: %q", lines)
	}
}

// TestProxyPassesClientAddress: the back end's proxy login sees the
// client's own address and port (PROXY v2), not the front end's.
func TestProxyPassesClientAddress(t *testing.T) {
	_, front, cb := proxyPair(t)
	c := dialRaw(t, front.addr)
	c.login("alice")
	if got, want := cb.seen(), c.c.LocalAddr().String(); len(got) != 1 || got[0] != want {
		t.Fatalf("back end saw client %v, want [%s]", got, want)
	}
}

// TestProxyNotHereResolvesAgain: a back end that no longer serves the
// user answers "not here"; the front end resolves again, fresh, once.
func TestProxyNotHereResolvesAgain(t *testing.T) {
	stale, _ := startBackEnd(t, func(string) bool { return true })
	fresh, _ := startBackEnd(t, nil)
	var mu sync.Mutex
	var calls []bool
	resolve := func(ctx context.Context, f bool) (frontend.Target, error) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, f)
		if f {
			return frontend.Target{Node: "fresh", Addr: fresh.addr}, nil
		}
		return frontend.Target{Node: "stale", Addr: stale.addr}, nil
	}
	front := startFrontEnd(t, resolve)
	c := dialRaw(t, front.addr)
	c.login("alice")
	c.send("S SELECT INBOX\r\n")
	if l := c.readUntilTagged("S"); !strings.HasPrefix(l[len(l)-1], "S OK") {
		t.Fatalf("SELECT: %q", l)
	}
	if fmt.Sprint(calls) != "[false true]" {
		t.Fatalf("resolve calls (fresh?) %v, want [false true]", calls)
	}

	// Still not here after the fresh route: one retry only, then a
	// temporary failure for the client.
	calls = nil
	front2 := startFrontEnd(t, func(ctx context.Context, f bool) (frontend.Target, error) {
		calls = append(calls, f)
		return frontend.Target{Node: "stale", Addr: stale.addr}, nil
	})
	c2 := dialRaw(t, front2.addr)
	c2.cmd("L LOGIN alice alicepw", `L NO \[UNAVAILABLE\] .*`)
	if fmt.Sprint(calls) != "[false true]" {
		t.Fatalf("resolve calls %v, want [false true]", calls)
	}
	c2.cmd("L2 LOGIN alice alicepw", `L2 NO \[UNAVAILABLE\] .*`) // the user's session slot was released
}

// TestProxyBackEndDeath: when the back end goes, the client's connection
// ends too (after the back end's BYE).
func TestProxyBackEndDeath(t *testing.T) {
	back, front, _ := proxyPair(t)
	c := dialRaw(t, front.addr)
	c.login("alice")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := back.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c.expect(`\* BYE \[UNAVAILABLE\] Server shutting down`)
	expectEOF(t, c)
}

// TestProxyFrontEndShutdown: shutting the front end down ends its proxied
// sessions, and the back end sees its client go.
func TestProxyFrontEndShutdown(t *testing.T) {
	_, front, _ := proxyPair(t)
	c := dialRaw(t, front.addr)
	c.login("alice")
	c.cmd("I IDLE", `\+ idling`)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := front.srv.Shutdown(ctx); err != nil {
		t.Fatalf("front end shutdown: %v", err)
	}
	expectEOF(t, c)
}

// TestProxySessionLimits: proxied sessions count against the front end's
// per-user limit like local ones.
func TestProxySessionLimits(t *testing.T) {
	back, _, _ := proxyPair(t)
	front := startFrontEnd(t, to(back.addr), func(o *Options) { o.MaxUserIPSessions = 1 })
	c := dialRaw(t, front.addr)
	c.login("alice")
	c2 := dialRaw(t, front.addr)
	c2.cmd("L LOGIN alice alicepw", `L NO \[LIMIT\] .*`)
	c.cmd("Z LOGOUT", `\* BYE .*`, `Z OK .*`)
	expectEOF(t, c)
	waitFor(t, func() bool { return loggedIn(front.srv) == 0 })
	c2.cmd("L2 LOGIN alice alicepw", `L2 OK \[CAPABILITY .*\] Logged in`)
}

func loggedIn(s *Server) int {
	s.userMu.Lock()
	defer s.userMu.Unlock()
	return len(s.loggedIn)
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
	}
}

// TestProxyLoginRefusedFromOthers: only cluster peers may log in on
// another's behalf; a client that tries gets AUTHORIZATIONFAILED even with
// the right secret, and a wrong secret from a peer is a failed login.
func TestProxyLoginRefusedFromOthers(t *testing.T) {
	back, _ := startBackEnd(t, nil)
	plain := func(authz, authc, pass string) string {
		return base64.StdEncoding.EncodeToString([]byte(authz + "\x00" + authc + "\x00" + pass))
	}
	c := dialRaw(t, back.addr) // from 127.0.0.1: not a peer
	c.cmd("A AUTHENTICATE PLAIN "+plain("alice", config.ProxyIdentity, testSecret), `A NO \[AUTHORIZATIONFAILED\] .*`)

	d := frontend.Dialer{Secret: "wrong-secret-of-some-length", Source: frontSource}
	_, err := d.IMAP(context.Background(), to(back.addr), "alice", frontend.Client{
		Remote: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1}, Local: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 2), Port: 143}})
	if err == nil || !strings.Contains(err.Error(), "AUTHENTICATIONFAILED") {
		t.Fatalf("wrong secret: %v", err)
	}
}

// TestDisconnect: Disconnect ends the matching users' sessions with BYE,
// proxied ones too (the back end's BYE reaches the client), and leaves
// the others alone.
func TestDisconnect(t *testing.T) {
	back, front, _ := proxyPair(t)
	direct := dialRaw(t, back.addr)
	direct.login("alice")
	proxied := dialRaw(t, front.addr)
	proxied.login("alice")
	other := dialRaw(t, back.addr)
	other.login("bob")
	if n := back.srv.Disconnect(func(u string) bool { return u == "alice" }); n != 2 {
		t.Fatalf("Disconnect ended %d sessions, want 2", n)
	}
	for _, c := range []*tconn{direct, proxied} {
		c.expect(`\* BYE \[UNAVAILABLE\] .*`)
		expectEOF(t, c)
	}
	other.cmd("N NOOP", `N OK .*`)
}

// TestProxyPythonImaplib: Python's imaplib through the front end.
func TestProxyPythonImaplib(t *testing.T) {
	back, _ := startBackEnd(t, nil)
	front := startFrontEnd(t, to(back.addr))
	runPython(t, front, "imaplib_client.py", "alice", "alicepw")
}

// TestProxyTLSAndCompress: a client on TLS (STARTTLS at the front end)
// turns on COMPRESS after the proxied login; the back end compresses and
// the front end carries the stream untouched.
func TestProxyTLSAndCompress(t *testing.T) {
	back, _, _ := proxyPair(t)
	front := startFrontEnd(t, to(back.addr), func(o *Options) { o.TLSConfig = selfSignedTLS(t) })
	raw := dialRaw(t, front.addr)
	raw.cmd("a STARTTLS", `a OK .*`)
	tc := tls.Client(raw.c, &tls.Config{InsecureSkipVerify: true})
	sec := &tconn{t: t, c: tc, br: bufio.NewReader(tc)}
	sec.login("alice")
	sec.cmd("b COMPRESS DEFLATE", `b OK DEFLATE active`)
	c := sec.deflate()
	c.send("c1 SELECT INBOX\r\n")
	if lines := c.readUntilTagged("c1"); lines[len(lines)-1] != "c1 OK [READ-WRITE] SELECT completed" {
		t.Fatalf("SELECT: %q", lines)
	}
	c.send("c2 FETCH 2 BODY.PEEK[HEADER.FIELDS (SUBJECT)]\r\n")
	if lines := c.readUntilTagged("c2"); !strings.Contains(strings.Join(lines, "\n"), "Subject: Second") {
		t.Fatalf("FETCH: %q", lines)
	}
	c.cmd("c3 LOGOUT", `\* BYE .*`, `c3 OK .*`)
}

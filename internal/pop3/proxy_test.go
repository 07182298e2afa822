package pop3

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/frontend"
	"github.com/rookery-mail/rookery/internal/proxyproto"
)

// The proxy tests run two servers: a back end with the mail and a front
// end without, whose logins reach the back end through package frontend,
// as a cluster's pop3 node does. The front end dials from 127.0.0.2, the
// back end's only cluster peer; test clients come from 127.0.0.1.

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
		s, err := b.dialer.POP3(ctx, b.resolve, user, frontend.Client{Remote: client, Local: local})
		if err != nil {
			return UpstreamConn{}, err
		}
		return UpstreamConn{Conn: s.Conn, Node: s.Node}, nil
	}}, nil
}

func startBackEnd(t testing.TB, notHere func(string) bool) (*testEnv, *clusterBackend) {
	t.Helper()
	var cb *clusterBackend
	env := startServerOn(t, func(l net.Listener) net.Listener {
		return proxyproto.NewListener(l, proxyproto.Options{
			Trusted: []netip.Prefix{netip.PrefixFrom(frontSource, 32)}, Logger: slog.New(slog.DiscardHandler)})
	}, func(o *Options) {
		cb = &clusterBackend{testBackend: o.Backend.(*testBackend), notHere: notHere}
		o.Backend = cb
	})
	return env, cb
}

func startFrontEnd(t testing.TB, resolve frontend.Resolve, tweak ...func(*Options)) *testEnv {
	t.Helper()
	fb := &frontBackend{
		users:   map[string]string{"alice": "alicepw", "bob": "bobpw"},
		dialer:  frontend.Dialer{Secret: testSecret, Source: frontSource},
		resolve: resolve,
	}
	return startServer(t, append([]func(*Options){func(o *Options) { o.Backend = fb }}, tweak...)...)
}

func to(addr string) frontend.Resolve {
	return func(context.Context, bool) (frontend.Target, error) {
		return frontend.Target{Node: "back", Addr: addr}, nil
	}
}

func proxyPair(t testing.TB) (back, front *testEnv, cb *clusterBackend) {
	t.Helper()
	back, cb = startBackEnd(t, nil)
	back.appendMessage(t, "alice", testMsg)
	back.appendMessage(t, "alice", "Subject: two\r\n\r\nsecond\r\n")
	return back, startFrontEnd(t, to(back.addr)), cb
}

// TestProxySameAsDirect: the same commands directly and through the
// proxy give the same replies, byte for byte.
func TestProxySameAsDirect(t *testing.T) {
	back, front, _ := proxyPair(t)
	transcript := func(addr string) string {
		c := dialRaw(t, addr)
		c.login("alice")
		var out []string
		for _, cmd := range []string{"STAT", "LIST", "UIDL", "RETR 1", "TOP 2 0", "CAPA"} {
			c.send(cmd + "\r\n")
			line := c.readLine()
			out = append(out, line)
			if cmd != "STAT" {
				out = append(out, c.multi())
			}
		}
		c.cmd("QUIT", `\+OK Logging out\.`)
		c.expectClosed()
		return strings.Join(out, "\n")
	}
	direct, proxied := transcript(back.addr), transcript(front.addr)
	if direct != proxied {
		t.Fatalf("proxied session differs\ndirect:\n%s\nproxied:\n%s", direct, proxied)
	}
	if !strings.Contains(direct, "+OK 2 ") || !strings.Contains(direct, "Hi Bob") {
		t.Fatalf("unexpected transcript:\n%s", direct)
	}
}

// TestProxyPipelined: commands in the same packet as PASS reach the back
// end after the login (RFC 2449 PIPELINING), and so does AUTH PLAIN.
func TestProxyPipelined(t *testing.T) {
	_, front, cb := proxyPair(t)
	c := dialRaw(t, front.addr)
	c.send("USER alice\r\nPASS alicepw\r\nSTAT\r\nDELE 1\r\nQUIT\r\n")
	c.expect(`\+OK .*`, `\+OK Logged in\.`, `\+OK 2 \d+`, `\+OK .*`, `\+OK Logging out, messages deleted\.`)
	c.expectClosed()
	if got := cb.seenOne(t); got != c.c.LocalAddr().String() {
		t.Fatalf("back end saw client %s, want %s (PROXY v2)", got, c.c.LocalAddr())
	}

	c2 := dialRaw(t, front.addr)
	c2.cmd("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00alice\x00alicepw")), `\+OK Logged in\.`)
	c2.cmd("STAT", `\+OK 1 \d+`)
}

func (b *clusterBackend) seenOne(t *testing.T) string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.remotes) != 1 {
		t.Fatalf("proxy logins %v, want one", b.remotes)
	}
	return b.remotes[0]
}

// TestProxyNotHereResolvesAgain: "not here" from a stale back end makes
// the front end resolve again, fresh, once.
func TestProxyNotHereResolvesAgain(t *testing.T) {
	stale, _ := startBackEnd(t, func(string) bool { return true })
	fresh, _ := startBackEnd(t, nil)
	var mu sync.Mutex
	var calls []bool
	front := startFrontEnd(t, func(ctx context.Context, f bool) (frontend.Target, error) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, f)
		if f {
			return frontend.Target{Node: "fresh", Addr: fresh.addr}, nil
		}
		return frontend.Target{Node: "stale", Addr: stale.addr}, nil
	})
	c := dialRaw(t, front.addr)
	c.login("alice")
	c.cmd("STAT", `\+OK 0 0`)
	if fmt.Sprint(calls) != "[false true]" {
		t.Fatalf("resolve calls (fresh?) %v, want [false true]", calls)
	}
	// Directly, the stale back end's reply is the documented one.
	d := frontend.Dialer{Secret: testSecret, Source: frontSource}
	if _, err := d.POP3(context.Background(), to(stale.addr), "alice", frontend.Client{
		Remote: c.c.LocalAddr(), Local: c.c.RemoteAddr()}); !errors.Is(err, frontend.ErrNotHere) {
		t.Fatalf("stale back end: %v", err)
	}
}

// TestProxyBackEndDeath: when the back end goes, the client's connection
// ends too.
func TestProxyBackEndDeath(t *testing.T) {
	back, front, _ := proxyPair(t)
	c := dialRaw(t, front.addr)
	c.login("alice")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := back.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c.expect(`-ERR \[SYS/TEMP\] Server shutting down\.`)
	c.expectClosed()
}

// TestProxyFrontEndShutdown: shutting the front end down ends its
// proxied sessions.
func TestProxyFrontEndShutdown(t *testing.T) {
	_, front, _ := proxyPair(t)
	c := dialRaw(t, front.addr)
	c.login("alice")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := front.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c.expectClosed()
}

// TestProxyLoginRefusedFromOthers: only cluster peers may log in on
// another's behalf; a wrong secret from a peer is a failed login.
func TestProxyLoginRefusedFromOthers(t *testing.T) {
	back, _ := startBackEnd(t, nil)
	c := dialRaw(t, back.addr) // from 127.0.0.1: not a peer
	ir := base64.StdEncoding.EncodeToString([]byte("alice\x00" + config.ProxyIdentity + "\x00" + testSecret))
	c.cmd("AUTH PLAIN "+ir, `-ERR \[AUTH\] Authorization identity not permitted\.`)

	d := frontend.Dialer{Secret: "wrong-secret-of-some-length", Source: frontSource}
	_, err := d.POP3(context.Background(), to(back.addr), "alice", frontend.Client{
		Remote: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1}, Local: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 2), Port: 110}})
	if err == nil || !strings.Contains(err.Error(), "-ERR [AUTH]") {
		t.Fatalf("wrong secret: %v", err)
	}
}

// TestDisconnect: Disconnect ends the matching users' sessions, proxied
// ones too (through the back end), without committing deletions.
func TestDisconnect(t *testing.T) {
	back, front, _ := proxyPair(t)
	direct := dialRaw(t, back.addr)
	direct.login("alice")
	direct.cmd("DELE 1", `\+OK .*`)
	proxied := dialRaw(t, front.addr)
	proxied.login("alice")
	other := dialRaw(t, back.addr)
	other.login("bob")
	if n := back.srv.Disconnect(func(u string) bool { return u == "alice" }); n != 2 {
		t.Fatalf("Disconnect ended %d sessions, want 2", n)
	}
	for _, c := range []*tconn{direct, proxied} {
		c.expect(`-ERR \[SYS/TEMP\] Mailbox not served here any more, reconnect\.`)
		c.expectClosed()
	}
	if _, msgs := back.inbox(t, "alice"); len(msgs) != 2 {
		t.Fatalf("%d messages, want 2: a disconnected session must not commit", len(msgs))
	}
	other.cmd("STAT", `\+OK 0 0`)
}

// TestProxyPythonPoplib: Python's poplib through the front end, with
// STLS on the client's side and plain TCP to the back end.
func TestProxyPythonPoplib(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 is required in CI")
		}
		t.Skip("python3 not installed")
	}
	back, _ := startBackEnd(t, nil)
	back.appendMessage(t, "alice", testMsg)
	back.appendMessage(t, "alice", "Subject: two\r\n\r\n.starts with a dot\r\nsecond\r\n")
	back.appendMessage(t, "alice", "Subject: three\r\n\r\n"+strings.Repeat("x", 2000)+"\r\n")
	srvTLS, _ := testTLS(t)
	front := startFrontEnd(t, to(back.addr), func(o *Options) { o.TLSConfig = srvTLS })
	host, port, _ := net.SplitHostPort(front.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "testdata/poplib_client.py", host, port, "alice", "alicepw").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("poplib client: %v\n%s", err, out)
	}
	if _, msgs := back.inbox(t, "alice"); len(msgs) != 2 {
		t.Fatalf("%d messages left, want 2", len(msgs))
	}
}

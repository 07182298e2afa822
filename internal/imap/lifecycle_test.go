package imap

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

func TestShutdownSendsBye(t *testing.T) {
	env := startServer(t)
	idler := dialRaw(t, env.addr)
	idler.login("alice")
	idler.cmd("s SELECT INBOX", `.*`, `.*`, `.*`, `.*`, `.*`, `.*`, `.*`, `.*`, `s OK .*`)
	idler.cmd("i IDLE", `\+ idling`)
	plain := dialRaw(t, env.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := env.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	idler.expect(`\* BYE \[UNAVAILABLE\] Server shutting down`)
	plain.expect(`\* BYE \[UNAVAILABLE\] Server shutting down`)
	if _, err := net.Dial("tcp", env.addr); err == nil {
		t.Fatal("listener still accepting after Shutdown")
	}
}

func TestAutologout(t *testing.T) {
	env := startServer(t, func(o *Options) { o.IdleTimeout = 300 * time.Millisecond })
	c := dialRaw(t, env.addr)
	c.expect(`\* BYE Autologout; idle for too long`)

	c = dialRaw(t, env.addr)
	c.login("alice")
	c.cmd("i IDLE", `\+ idling`)
	c.expect(`\* BYE Autologout; idle for too long`)
}

func TestAuthDelayAndMetrics(t *testing.T) {
	env := startServer(t)
	var mu sync.Mutex
	var delays []int
	env.srv.authDelay = func(_ context.Context, failures int) {
		mu.Lock()
		delays = append(delays, failures)
		mu.Unlock()
	}
	c := dialRaw(t, env.addr)
	c.cmd("a LOGIN alice nope", `a NO \[AUTHENTICATIONFAILED\] .*`)
	c.cmd("b LOGIN alice nope2", `b NO \[AUTHENTICATIONFAILED\] .*`)
	c.cmd("c LOGIN alice alicepw", `c OK .*`)
	c.cmd("d LOGOUT", `\* BYE .*`, `d OK .*`)
	mu.Lock()
	if len(delays) != 2 || delays[0] != 1 || delays[1] != 2 {
		t.Errorf("auth delays = %v", delays)
	}
	mu.Unlock()
	families, err := env.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				key += " " + l.GetValue()
			}
			got[key] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	if got["rookery_imap_commands_total LOGIN no"] != 2 || got["rookery_imap_commands_total LOGIN ok"] != 1 {
		t.Errorf("metrics = %v", got)
	}
	if _, ok := got["rookery_imap_sessions_open"]; !ok {
		t.Errorf("no sessions gauge: %v", got)
	}
}

// TestTraceRedactsPasswords: the debug protocol trace never contains a
// password, in LOGIN (atom and literal forms) or AUTHENTICATE.
func TestTraceRedactsPasswords(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	env := startServer(t, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	c := dialRaw(t, env.addr)
	c.cmd("a LOGIN alice s3cretpw", `a NO .*`)
	c.send("b LOGIN {5}\r\n")
	c.expect(`\+ .*`)
	c.send("alice {8}\r\n")
	c.expect(`\+ .*`)
	c.cmd("s3cretpw", `b NO .*`)
	c.cmd("c AUTHENTICATE PLAIN AGFsaWNlAHMzY3JldHB3", `c NO .*`, `\* BYE .*`)
	c2 := dialRaw(t, env.addr)
	c2.cmd("d AUTHENTICATE PLAIN", `\+ `)
	c2.cmd("AGFsaWNlAHMzY3JldHB3", `d NO .*`)
	c2.cmd("e LOGOUT", `\* BYE .*`, `e OK .*`)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	env.srv.Shutdown(ctx)
	mu.Lock()
	defer mu.Unlock()
	log := buf.String()
	if strings.Contains(log, "s3cretpw") || strings.Contains(log, "AGFsaWNlAHMzY3JldHB3") {
		t.Fatalf("password in log:\n%s", log)
	}
	if !strings.Contains(log, "imap session end") || !strings.Contains(log, `outcome="auth failures"`) {
		t.Fatalf("no session end line:\n%s", log)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func selfSignedTLS(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "imap.test"},
		DNSNames: []string{"imap.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

func TestStartTLS(t *testing.T) {
	env := startServer(t, func(o *Options) { o.TLSConfig = selfSignedTLS(t) })
	raw := dialRaw(t, env.addr)
	raw.cmd("a CAPABILITY", `\* CAPABILITY .* STARTTLS AUTH=PLAIN .*`, `a OK .*`)
	// Command injection after STARTTLS is refused (CVE-2011-0411).
	raw.send("b STARTTLS\r\nc NOOP\r\n")
	raw.expect(`b BAD \[CLIENTBUG\] Data after STARTTLS`, `c OK NOOP completed`)

	c, err := imapclient.DialStartTLS(env.addr, &imapclient.Options{TLSConfig: &tls.Config{InsecureSkipVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Caps().Has("STARTTLS") {
		t.Error("STARTTLS still advertised inside TLS")
	}
	if err := c.Login("alice", "alicepw").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout().Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestImplicitTLS(t *testing.T) {
	cfg := selfSignedTLS(t)
	env := startServer(t)
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	go env.srv.Serve(l)
	c, err := imapclient.DialTLS(l.Addr().String(), &imapclient.Options{TLSConfig: &tls.Config{InsecureSkipVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("bob", "bobpw").Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout().Wait(); err != nil {
		t.Fatal(err)
	}
}

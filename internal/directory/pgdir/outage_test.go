package pgdir_test

import (
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/directory/pgdir"
	"github.com/rookery-mail/rookery/internal/testsvc"
)

// When PostgreSQL cannot be reached, Resolve, IsLocalDomain and
// Authenticate return errors that are not ErrNotFound or ErrAuthFailed, so
// SMTP answers 4xx and logins fail as temporary; once it is back, the
// same handle works again. The outage is a TCP proxy in front of the
// server that drops every connection and stops listening.
func TestOutage(t *testing.T) {
	ctx := t.Context()
	dsn := testsvc.Postgres(t)
	p := startProxy(t, dsn)
	d := open(t, p.dsn, "", pgdir.Options{})
	if err := d.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.AddAccount(ctx, "alice@example.test", "pw", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Resolve(ctx, "alice@example.test"); err != nil {
		t.Fatal(err)
	}

	p.stop()
	_, err := d.Resolve(ctx, "alice@example.test")
	if err == nil || errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("Resolve during outage: %v, want a non-NotFound error", err)
	}
	t.Logf("Resolve during outage: %v", err)
	if _, err := d.Resolve(ctx, "nobody@example.test"); err == nil || errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("Resolve of an unknown address during outage: %v, want a non-NotFound error", err)
	}
	if ok, err := d.IsLocalDomain(ctx, "example.test"); err == nil {
		t.Fatalf("IsLocalDomain during outage = %v, nil; want an error", ok)
	}
	if _, err := d.Authenticate(ctx, "alice@example.test", "pw"); err == nil || errors.Is(err, directory.ErrAuthFailed) {
		t.Fatalf("Authenticate during outage: %v, want a non-ErrAuthFailed error", err)
	}

	p.start(t)
	if res, err := d.Resolve(ctx, "alice@example.test"); err != nil || len(res.Accounts) != 1 {
		t.Fatalf("Resolve after outage = %+v, %v", res, err)
	}
}

// A closed handle fails the same way, not with ErrNotFound.
func TestResolveAfterClose(t *testing.T) {
	ctx := t.Context()
	d, err := pgdir.Open(ctx, pgdir.Options{DSN: testsvc.Postgres(t), Schema: newSchema()})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if _, err := d.Resolve(ctx, "nobody@example.test"); err == nil || errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("Resolve on a closed Dir: %v, want a non-NotFound error", err)
	}
}

// proxy forwards TCP connections on a fixed loopback address to the
// PostgreSQL server of a DSN.
type proxy struct {
	dsn, addr, target string
	mu                sync.Mutex
	ln                net.Listener
	conns             map[net.Conn]bool
}

func startProxy(t *testing.T, dsn string) *proxy {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{target: u.Host, conns: map[net.Conn]bool{}}
	p.start(t)
	t.Cleanup(p.stop)
	u.Host = p.addr
	p.dsn = u.String()
	return p
}

// start listens, on the same port as before after a stop.
func (p *proxy) start(t *testing.T) {
	t.Helper()
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if ln, err = net.Listen("tcp", addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go p.serve(ln)
}

func (p *proxy) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[s] = true, true
		p.mu.Unlock()
		go func() { io.Copy(s, c); s.Close() }()
		go func() { io.Copy(c, s); c.Close() }()
	}
}

// stop closes the listener and every forwarded connection.
func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

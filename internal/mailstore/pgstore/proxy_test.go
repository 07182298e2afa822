package pgstore

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// blackHole is a TCP proxy to PostgreSQL whose existing connections can be
// made to swallow everything without closing, as a dead peer behind a NAT
// does; connections made afterwards work.
type blackHole struct {
	ln     net.Listener
	target func() (net.Conn, error)
	mu     sync.Mutex
	pairs  []*holePair
}

type holePair struct {
	mu     sync.Mutex
	frozen bool
	conns  [2]net.Conn
}

// newBlackHole proxies to the server of dsn and returns the proxy and a
// DSN through it.
func newBlackHole(t *testing.T, dsn string) (*blackHole, string) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	network, addr := "tcp", net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port))
	if strings.HasPrefix(cfg.Host, "/") {
		network, addr = "unix", fmt.Sprintf("%s/.s.PGSQL.%d", cfg.Host, cfg.Port)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &blackHole{ln: ln, target: func() (net.Conn, error) { return net.Dial(network, addr) }}
	t.Cleanup(h.close)
	go h.accept()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Del("host")
	q.Del("port")
	u.RawQuery = q.Encode()
	u.Host = ln.Addr().String()
	return h, u.String()
}

func (h *blackHole) accept() {
	for {
		c, err := h.ln.Accept()
		if err != nil {
			return
		}
		s, err := h.target()
		if err != nil {
			c.Close()
			continue
		}
		p := &holePair{conns: [2]net.Conn{c, s}}
		h.mu.Lock()
		h.pairs = append(h.pairs, p)
		h.mu.Unlock()
		go p.pipe(c, s)
		go p.pipe(s, c)
	}
}

// pipe copies from src to dst until src fails, dropping what it reads
// while the pair is frozen.
func (p *holePair) pipe(src, dst net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		p.mu.Lock()
		frozen := p.frozen
		p.mu.Unlock()
		if frozen {
			continue
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

// freeze makes every existing connection a black hole.
func (h *blackHole) freeze() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.pairs {
		p.mu.Lock()
		p.frozen = true
		p.mu.Unlock()
	}
}

func (h *blackHole) close() {
	h.ln.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.pairs {
		for _, c := range p.conns {
			c.Close()
		}
	}
}

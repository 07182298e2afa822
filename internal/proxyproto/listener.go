// Package proxyproto accepts the HAProxy PROXY protocol (versions 1 and 2,
// https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt) in front of
// a TCP listener, so that a server behind a load balancer sees the client's
// address instead of the balancer's.
//
// Design: the listener runs one accept loop; each connection from a trusted
// source gets its own goroutine that reads the header under HeaderTimeout and
// only then hands the connection to Accept. A slow or silent client therefore
// occupies its own goroutine, never Accept, and servers that call RemoteAddr
// right after Accept (for logging, rate limits) get the final address without
// blocking. Connections from untrusted sources are handed over at once,
// untouched: their bytes are never parsed, so a client cannot claim an address.
package proxyproto

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Options configures NewListener.
type Options struct {
	// Trusted lists the proxies' source networks. A connection from one of
	// them must begin with a PROXY header; any other connection is passed
	// through unchanged.
	Trusted []netip.Prefix
	// HeaderTimeout bounds the wait for a trusted connection's header.
	// Zero means 5s.
	HeaderTimeout time.Duration
	// Logger receives one line per rejected connection. Nil means slog.Default().
	Logger *slog.Logger
}

const defaultHeaderTimeout = 5 * time.Second

type listener struct {
	inner   net.Listener
	opts    Options
	start   sync.Once
	conns   chan net.Conn
	errs    chan error
	done    chan struct{}
	closing sync.Once
}

// NewListener wraps inner so that connections from opts.Trusted carry the
// addresses of their PROXY header. The accept loop starts on the first Accept.
func NewListener(inner net.Listener, opts Options) net.Listener {
	if opts.HeaderTimeout <= 0 {
		opts.HeaderTimeout = defaultHeaderTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &listener{
		inner: inner,
		opts:  opts,
		conns: make(chan net.Conn),
		errs:  make(chan error),
		done:  make(chan struct{}),
	}
}

func (l *listener) Accept() (net.Conn, error) {
	l.start.Do(func() { go l.acceptLoop() })
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.errs:
		return nil, err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops Accept and the inner listener. A header still being read
// ends at its deadline at the latest; its connection is then closed
// instead of delivered.
func (l *listener) Close() error {
	l.closing.Do(func() { close(l.done) })
	return l.inner.Close()
}

func (l *listener) Addr() net.Addr { return l.inner.Addr() }

// acceptLoop passes the inner listener's errors to Accept one by one (so a
// caller's retry policy for temporary errors still applies) and stops once
// the inner listener is closed.
func (l *listener) acceptLoop() {
	for {
		c, err := l.inner.Accept()
		if errors.Is(err, net.ErrClosed) {
			// Closed directly (a server may close the listener it wrapped):
			// end Accept and have pending handshakes close their conns
			// rather than wait forever to be delivered.
			l.closing.Do(func() { close(l.done) })
			return
		}
		if err != nil {
			select {
			case l.errs <- err:
			case <-l.done:
				return
			}
			continue
		}
		if !l.trusted(c.RemoteAddr()) {
			l.deliver(c)
			continue
		}
		go func() {
			if pc := l.handshake(c); pc != nil {
				l.deliver(pc)
			}
		}()
	}
}

func (l *listener) deliver(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		c.Close()
	}
}

func (l *listener) trusted(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip := ta.AddrPort().Addr().Unmap()
	for _, p := range l.opts.Trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// handshake reads c's header and returns the wrapped conn, or closes c and
// returns nil when the header is missing, malformed, too long or late.
func (l *listener) handshake(c net.Conn) net.Conn {
	begin := time.Now()
	pc, err := readHeader(c, begin.Add(l.opts.HeaderTimeout))
	if err != nil {
		l.opts.Logger.Warn("proxy protocol header rejected",
			"remote", c.RemoteAddr().String(), "err", err, "duration", time.Since(begin))
		c.Close()
		return nil
	}
	return pc
}

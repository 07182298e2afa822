package netserve

import (
	"crypto/tls"
	"net"
	"net/netip"
	"sync"
	"time"
)

// refuseWriteTimeout bounds the refusal of an over-limit connection: the
// client gets its one line if it reads, but can never hold the descriptor.
const refuseWriteTimeout = time.Second

// Limiter counts the connections a set of listeners holds, per client IP
// and in total, so that one address cannot take every file descriptor of
// the process. It is safe for concurrent use; a zero bound means none.
type Limiter struct {
	perIP, total int
	exempt       []netip.Prefix

	mu   sync.Mutex
	n    int
	byIP map[string]int
}

// NewLimiter returns a limiter of perIP connections per address and total
// connections in all; 0 means no bound. Addresses in exempt have no
// per-address bound (local clients, as Postfix's $mynetworks exception),
// but count toward the total.
func NewLimiter(perIP, total int, exempt ...netip.Prefix) *Limiter {
	return &Limiter{perIP: perIP, total: total, exempt: exempt, byIP: map[string]int{}}
}

// Acquire takes a slot for a connection from ip, or reports false when a
// bound is reached. Each true must be paired with one Release.
func (l *Limiter) Acquire(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if (l.total > 0 && l.n >= l.total) || (l.perIP > 0 && l.byIP[ip] >= l.perIP && !l.exempted(ip)) {
		return false
	}
	l.n++
	l.byIP[ip]++
	return true
}

func (l *Limiter) exempted(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range l.exempt {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Release frees the slot of a connection from ip.
func (l *Limiter) Release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n--
	if l.byIP[ip]--; l.byIP[ip] <= 0 {
		delete(l.byIP, ip)
	}
}

// count returns the connections held from ip (for tests).
func (l *Limiter) count(ip string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byIP[ip]
}

// IPOf is the address a connection is counted under.
func IPOf(c net.Conn) string {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	return c.RemoteAddr().String()
}

// refuse closes an over-limit connection after say (which may be nil) has
// told the client why, without blocking the caller's accept loop.
func refuse(c net.Conn, say func(net.Conn)) {
	go func() {
		defer c.Close()
		if say != nil {
			c.SetWriteDeadline(time.Now().Add(refuseWriteTimeout))
			say(c)
		}
	}()
}

// ListenOptions configure a limited listener.
type ListenOptions struct {
	// Refuse writes the protocol's refusal to an over-limit connection
	// (nil: close without a word); its writes time out after a second.
	Refuse func(net.Conn)
	// GreetingTimeout caps every read deadline of a connection, counted
	// from its accept, until Greeted is called for it; 0 means no cap.
	GreetingTimeout time.Duration
}

// Listener wraps a raw listener so that every connection it returns holds
// a slot of l until closed; over-limit connections are refused and never
// returned. It must sit below TLS: servers recognise implicit TLS by the
// *tls.Conn type of what Accept returns.
func (l *Limiter) Listener(inner net.Listener, o ListenOptions) net.Listener {
	return &limitListener{Listener: inner, lim: l, opts: o}
}

type limitListener struct {
	net.Listener
	lim  *Limiter
	opts ListenOptions
}

func (ll *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := IPOf(c)
		if !ll.lim.Acquire(ip) {
			refuse(c, ll.opts.Refuse)
			continue
		}
		lc := &limitConn{Conn: c, release: func() { ll.lim.Release(ip) }}
		if d := ll.opts.GreetingTimeout; d > 0 {
			lc.greetBy = time.Now().Add(d)
			c.SetReadDeadline(lc.greetBy)
		}
		return lc, nil
	}
}

// limitConn releases its slot once, when closed, and holds its read
// deadlines to greetBy until the client has greeted.
type limitConn struct {
	net.Conn
	release   func()
	closeOnce sync.Once

	mu      sync.Mutex
	greetBy time.Time // zero once greeted, or without a greeting timeout
	asked   time.Time // the read deadline the server last asked for
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(c.release)
	return err
}

func (c *limitConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = t
	if !c.greetBy.IsZero() && (t.IsZero() || t.After(c.greetBy)) {
		t = c.greetBy
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *limitConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

func (c *limitConn) greeted() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.greetBy.IsZero() {
		return
	}
	c.greetBy = time.Time{}
	c.Conn.SetReadDeadline(c.asked)
}

// Greeted lifts the greeting timeout of c, a connection from a Listener
// or a TLS connection over one; other connections are left alone. A
// protocol calls it once the client has introduced itself (SMTP EHLO).
func Greeted(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if lc, ok := c.(*limitConn); ok {
		lc.greeted()
	}
}

// capFromRlimit is half of a descriptor limit, at least one and at most
// 1<<20 (an "unlimited" RLIMIT_NOFILE must not mean no bound).
func capFromRlimit(soft uint64) int {
	return int(max(min(soft/2, 1<<20), 1))
}

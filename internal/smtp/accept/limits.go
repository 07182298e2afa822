package accept

import (
	"net"
	"time"

	"github.com/rookery-mail/rookery/internal/netserve"
)

// Limits are the connection bounds every SMTP listener of a node shares
// (MX, submission, LMTP): connections per client address and in total,
// and the time a client has to say EHLO/HELO/LHLO.
type Limits struct {
	Limiter         *netserve.Limiter
	Hostname        string
	GreetingTimeout time.Duration
}

// Listener wraps a raw listener (below TLS, which an implicit-TLS port
// adds on top). An over-limit client gets 421 4.7.0, RFC 5321 §3.1's
// refusal at connection time; on an implicit-TLS port, where a plaintext
// line would be noise to a TLS client, it is closed without a word.
func (o *Limits) Listener(l net.Listener, implicitTLS bool) net.Listener {
	refuse := func(c net.Conn) {
		c.Write([]byte("421 4.7.0 " + o.Hostname + " Too many connections, try again later\r\n"))
	}
	if implicitTLS {
		refuse = nil
	}
	return o.Limiter.Listener(l, netserve.ListenOptions{Refuse: refuse, GreetingTimeout: o.GreetingTimeout})
}

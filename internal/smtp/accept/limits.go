package accept

import (
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rookery-mail/rookery/internal/netserve"
)

// Limits are the connection bounds every SMTP listener of a node shares
// (MX, submission, LMTP): connections per client address and in total,
// and the time a client has to say EHLO/HELO/LHLO.
type Limits struct {
	limiter         *netserve.Limiter
	hostname        string
	greetingTimeout time.Duration
	refused         prometheus.Counter
}

// NewLimits registers the refusal counter with reg (may be nil).
func NewLimits(lim *netserve.Limiter, hostname string, greetingTimeout time.Duration, reg prometheus.Registerer) *Limits {
	o := &Limits{limiter: lim, hostname: hostname, greetingTimeout: greetingTimeout,
		refused: prometheus.NewCounter(prometheus.CounterOpts{Name: "rookery_smtp_connections_refused_total",
			Help: "SMTP connections refused at connect because a per-address or total bound was reached."})}
	if reg != nil {
		reg.MustRegister(o.refused)
	}
	return o
}

// Listener wraps a raw listener (below TLS, which an implicit-TLS port
// adds on top). An over-limit client gets 421 4.7.0, RFC 5321 §3.1's
// refusal at connection time; on an implicit-TLS port, where a plaintext
// line would be noise to a TLS client, it is closed without a word.
func (o *Limits) Listener(l net.Listener, implicitTLS bool) net.Listener {
	refuse := func(c net.Conn) {
		o.refused.Inc()
		if !implicitTLS {
			c.Write([]byte("421 4.7.0 " + o.hostname + " Too many connections, try again later\r\n"))
		}
	}
	return o.limiter.Listener(l, netserve.ListenOptions{Refuse: refuse, GreetingTimeout: o.greetingTimeout})
}

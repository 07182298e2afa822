package server

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/rookery-mail/rookery/internal/cluster"
)

// joinCluster registers the node, with the listeners bindAll opened, and
// starts keeping its leases. Stores become served here (router.Serves) as
// leases are taken; until then their mail is relayed or waits.
func (s *Server) joinCluster(ctx context.Context) error {
	var stores []string
	if s.cfg.HasRole("mailstore") {
		stores = s.cfg.StoreNames()
	}
	reg, err := cluster.Open(ctx, cluster.Options{
		DSN: s.cfg.Cluster.DSN, Schema: s.cfg.Cluster.Schema, Node: s.cfg.Node,
		Roles: s.cfg.Roles, Endpoints: s.endpoints(), Stores: stores, TTL: s.cfg.Cluster.LeaseTTL.Duration,
		Logger:    s.log,
		OnAcquire: func(string, int64) { s.runner.Kick() },
		OnLose:    s.storeLost,
		OnMessage: func(topic, payload string) {
			if topic == loginTopic {
				observeLogin(s.limiter, payload, s.log)
			}
		},
	})
	if err != nil {
		return err
	}
	s.cluster = reg // before any goroutine that writes to a store starts
	s.router.Serves = reg.Serves
	rctx, cancel := context.WithCancel(context.Background())
	s.logins = newSharedLogins(rctx, reg.Broadcast, s.log)
	done := make(chan struct{})
	go func() { defer close(done); reg.Run(rctx) }()
	s.leaveCluster = func(ctx context.Context) {
		cancel()
		<-done
		reg.Release(ctx)
		reg.Close()
	}
	return nil
}

// endpoints are the listeners other nodes dial, as advertised host:port.
func (s *Server) endpoints() map[string]string {
	out := map[string]string{}
	for _, key := range []string{"mx", "submission", "imap", "pop3", "lmtp", "http"} {
		l, ok := s.bound[key]
		if !ok {
			continue
		}
		_, port, _ := net.SplitHostPort(l.Addr().String())
		out[key] = net.JoinHostPort(s.advertiseHost(l.Addr()), port)
	}
	return out
}

// advertiseHost is the host other nodes reach this node at: [cluster]
// advertise, else the listener's own address unless it is a wildcard,
// else the hostname.
func (s *Server) advertiseHost(a net.Addr) string {
	if s.cfg.Cluster.Advertise != "" {
		return s.cfg.Cluster.Advertise
	}
	if tcp, ok := a.(*net.TCPAddr); ok && !tcp.IP.IsUnspecified() {
		return tcp.IP.String()
	}
	return s.cfg.Hostname
}

// sourceIP is the local address of this node's connections to other
// nodes: cluster.advertise when it is an IP, so back ends recognise the
// connection as a cluster peer's; the zero Addr lets the system choose.
func (s *Server) sourceIP() netip.Addr {
	ip, _ := netip.ParseAddr(s.cfg.Cluster.Advertise)
	return ip
}

// peerDialer dials other nodes (LMTP relay) from sourceIP.
func (s *Server) peerDialer() *net.Dialer {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if ip := s.sourceIP(); ip.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: ip.AsSlice()}
	}
	return d
}

// storeLost runs when this node stops serving a store: its writes are
// already fenced; sessions of its users are ended so that clients
// reconnect through a front end to the new serving node.
func (s *Server) storeLost(store string) {
	s.log.Warn("no longer serving store", "store", store)
	s.endSessionsOf(store)
}

// endSessionsOf ends the IMAP and POP3 sessions of store's users (their
// clients reconnect, through a front end, to the new serving node).
func (s *Server) endSessionsOf(store string) {
	match := func(user string) bool {
		acct, err := s.dir.Account(context.Background(), user)
		return err == nil && acct.Mailstore == store
	}
	n := 0
	for _, d := range s.disconnectors {
		n += d(match)
	}
	s.log.Info("ended sessions of a store no longer served here", "store", store, "sessions", n)
}

// fenceToken is the stores' fencing token: this node's lease on store.
// Before the node joined the cluster it holds none, and writes are refused.
func (s *Server) fenceToken(store string) (string, int64, bool) {
	if s.cluster == nil {
		return "", 0, false
	}
	return s.cluster.Token(store)
}

// proxyTrusted lists the sources whose connections to listener key start
// with a PROXY header: [listen] proxy_from (a load balancer), and on IMAP
// and POP3 in a cluster the peers too, since a front end passes its
// client's address to the back end that way.
func (s *Server) proxyTrusted(key string) []netip.Prefix {
	trusted := s.cfg.Listen.ProxyFrom
	switch key {
	case "imap", "imaps", "pop3", "pop3s":
		if s.cfg.Clustered() {
			trusted = append(append([]netip.Prefix(nil), trusted...), s.cfg.Cluster.Peers...)
		}
	}
	return trusted
}

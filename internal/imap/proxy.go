package imap

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/rookery-mail/rookery/internal/frontend"
)

// Proxying (cluster-research §7.6). A front end's Backend answers a login
// with an Upstream when another node serves the user's mail: the session
// logs in there on the user's behalf, answers the client's LOGIN or
// AUTHENTICATE with the back end's capabilities, and from then on only
// copies bytes both ways, so the client cannot tell it from a direct
// session. The back end accepts that login from a ProxyBackend's cluster
// peers: SASL PLAIN whose authorization identity is the user.

// UpstreamConn is a connection logged in to the node serving a user's
// mail, positioned after that node's tagged OK to the login.
type UpstreamConn struct {
	net.Conn
	Node       string // for logs
	Capability string // the capabilities the tagged OK announced
}

// ProxyBackend is a Backend that front ends log in to on users' behalf.
type ProxyBackend interface {
	Backend
	// ClusterPeer reports whether peer, a connection's address before any
	// PROXY header rewrote it, is a node of the cluster. Only such
	// connections may log in on another's behalf, and they may do it
	// without TLS (the internal hop).
	ClusterPeer(peer net.Addr) bool
	// LoginAs checks that authcid may act for authzid (the cluster's
	// proxy identity and secret as password) and returns authzid's Login,
	// always with a Store. ErrNotHere: this node does not serve authzid's
	// mail; ErrAuthFailed: bad credentials.
	LoginAs(ctx context.Context, authzid, authcid, password string, remote net.Addr) (Login, error)
}

// ErrNotHere is what ProxyBackend.LoginAs returns when another node (or
// none) serves the user's mail: the front end's route was stale. It is
// answered "NO [UNAVAILABLE] not here", which front ends recognise.
var ErrNotHere = errors.New("imap: user's mail is not served here")

// dialTimeout bounds a Login.Upstream that has no deadline of its own.
const dialTimeout = 10 * time.Second

// fromClusterPeer: the connection's socket peer is a cluster node.
func (s *session) fromClusterPeer() bool {
	pb, ok := s.srv.opts.Backend.(ProxyBackend)
	return ok && pb.ClusterPeer(frontend.SocketPeer(s.conn()))
}

// proxyLogin is a front end logging in as authcid on authzid's behalf.
func (s *session) proxyLogin(c *command, authzid, authcid, password string) error {
	pb := s.srv.opts.Backend.(ProxyBackend) // fromClusterPeer checked it
	l, err := pb.LoginAs(s.ctx, authzid, authcid, password, s.c.RemoteAddr())
	if err == nil && l.Store == nil {
		err = ErrNotHere // never proxy a proxied session on: loops
	}
	if errors.Is(err, ErrNotHere) {
		s.log.Info("imap proxy login: not served here", "user", authzid)
		return errNo("UNAVAILABLE", "not here")
	}
	return s.loggedIn(c, authzid, l, err)
}

// dialUpstream logs in to the node serving the user and keeps the
// connection for splice; it returns the back end's capabilities.
func (s *session) dialUpstream(dial func(ctx context.Context, client, local net.Addr) (UpstreamConn, error)) (string, error) {
	ctx, cancel := context.WithTimeout(s.ctx, dialTimeout)
	defer cancel()
	up, err := dial(ctx, s.c.RemoteAddr(), s.c.LocalAddr())
	if err != nil {
		s.log.Warn("imap proxy: back end login failed", "user", s.user, "err", err)
		return "", err
	}
	s.mu.Lock()
	closing := s.closing
	if !closing {
		s.up, s.upNode = up.Conn, up.Node
	}
	s.mu.Unlock()
	if closing {
		up.Close()
		return "", errors.New("shutting down")
	}
	s.log.Info("imap login proxied", "user", s.user, "backend", up.Node)
	return up.Capability, nil
}

// splice copies bytes between client and back end until either side
// closes; what the client pipelined behind its login, already in br, goes
// first. The back end's own autologout and limits apply from here on.
func (s *session) splice() string {
	c := s.conn()
	c.SetDeadline(time.Time{})
	frontend.Splice(c, s.br, s.up)
	if s.isClosing() {
		return "shutdown"
	}
	return "proxied"
}

package pop3

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/rookery-mail/rookery/internal/frontend"
)

// Proxying (cluster-research §7.6), as in package imap: a front end's
// Backend answers a login with an Upstream when another node serves the
// user's mail; the session logs in there on the user's behalf (AUTH PLAIN
// with the user as authorization identity), answers the client's login
// with +OK and from then on copies bytes both ways. The back end accepts
// that login from a ProxyBackend's cluster peers.

// UpstreamConn is a connection logged in to the node serving a user's
// mail, positioned after that node's +OK to the login.
type UpstreamConn struct {
	net.Conn
	Node string // for logs
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
// answered "-ERR [SYS/TEMP] not here", which front ends recognise.
var ErrNotHere = errors.New("pop3: user's mail is not served here")

// dialTimeout bounds a Login.Upstream that has no deadline of its own.
const dialTimeout = 10 * time.Second

// fromClusterPeer: the connection's socket peer is a cluster node.
func (s *session) fromClusterPeer() bool {
	pb, ok := s.srv.opts.Backend.(ProxyBackend)
	return ok && pb.ClusterPeer(frontend.SocketPeer(s.conn()))
}

// proxyLogin is a front end logging in as authcid on authzid's behalf.
func (s *session) proxyLogin(authzid, authcid, password string) error {
	pb := s.srv.opts.Backend.(ProxyBackend) // fromClusterPeer checked it
	l, err := pb.LoginAs(s.ctx, authzid, authcid, password, s.conn().RemoteAddr())
	if err == nil && l.Store == nil {
		err = ErrNotHere // never proxy a proxied session on: loops
	}
	if errors.Is(err, ErrNotHere) {
		s.log.Info("pop3 proxy login: not served here", "user", authzid)
		return errReply("SYS/TEMP", "not here")
	}
	return s.loggedIn(authzid, l, err)
}

// dialUpstream logs in to the node serving l.User and keeps the
// connection for splice.
func (s *session) dialUpstream(l Login) error {
	ctx, cancel := context.WithTimeout(s.ctx, dialTimeout)
	defer cancel()
	c := s.conn()
	up, err := l.Upstream(ctx, c.RemoteAddr(), c.LocalAddr())
	if err != nil {
		s.log.Warn("pop3 proxy: back end login failed", "user", l.User, "err", err)
		return err
	}
	s.mu.Lock()
	closing := s.closing
	if !closing {
		s.up, s.upNode = up.Conn, up.Node
	}
	s.mu.Unlock()
	if closing {
		up.Close()
		return errors.New("shutting down")
	}
	s.user = l.User
	s.srv.track(s, s.user)
	s.log.Info("pop3 login proxied", "user", l.User, "backend", up.Node)
	return nil
}

// splice sends the pending +OK, then copies bytes between client and
// back end until either side closes; what the client pipelined behind
// its login, already in br, goes first.
func (s *session) splice() string {
	c := s.conn()
	c.SetDeadline(time.Time{})
	if err := s.bw.Flush(); err != nil {
		s.up.Close()
		return "write error"
	}
	frontend.Splice(c, s.br, s.up)
	if s.isClosing() {
		return "shutdown"
	}
	return "proxied"
}

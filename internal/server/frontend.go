package server

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/frontend"
	"github.com/rookery-mail/rookery/internal/imap"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/pop3"
)

// A front end (cluster-research §7.6) authenticates IMAP and POP3 users
// itself, then proxies the session to the node serving their store: the
// session logs in there on the user's behalf (package frontend) and
// splices bytes (packages imap and pop3).

// clientLogin authenticates a client and finds where its mail is: the
// store here (account ensured), or r, the route to the serving node.
func (s *Server) clientLogin(ctx context.Context, username, password string, remote net.Addr) (directory.Account, mailstore.Store, storeRoute, error) {
	acct, err := s.authenticate(ctx, username, password, remote)
	if err != nil {
		return acct, nil, storeRoute{}, err
	}
	r, err := s.route(ctx, acct, false)
	if err != nil {
		return acct, nil, r, err
	}
	if r.Local != nil {
		return acct, r.Local, r, r.Local.EnsureAccount(ctx, acct.Address)
	}
	return acct, nil, r, nil // only a cluster node routes elsewhere
}

// errMovedHere: the fresh route after a "not here" says this node serves
// the store now. The client's login fails temporarily; its next one is local.
var errMovedHere = errors.New("the user's store is served by this node now")

// resolver routes acct's sessions of proto ("imap", "pop3") to the
// serving node's listener: first by the route login found, then, after
// a "not here", by a fresh one.
func (s *Server) resolver(acct directory.Account, proto string, first storeRoute) frontend.Resolve {
	return func(ctx context.Context, fresh bool) (frontend.Target, error) {
		r := first
		if fresh {
			var err error
			if r, err = s.route(ctx, acct, true); err != nil {
				return frontend.Target{}, err
			}
		}
		if r.Local != nil {
			return frontend.Target{}, errMovedHere
		}
		addr, ok := r.Endpoints[proto]
		if !ok {
			return frontend.Target{}, fmt.Errorf("node %s serving %s has no %s listener", r.Node, acct.Address, proto)
		}
		return frontend.Target{Node: r.Node, Addr: addr}, nil
	}
}

// proxyDialer logs in to back ends from sourceIP.
func (s *Server) proxyDialer() *frontend.Dialer {
	return &frontend.Dialer{Secret: s.cfg.Cluster.Secret, Source: s.sourceIP()}
}

func (s *Server) imapUpstream(acct directory.Account, r storeRoute) func(context.Context, net.Addr, net.Addr) (imap.UpstreamConn, error) {
	resolve := s.resolver(acct, "imap", r)
	return func(ctx context.Context, client, local net.Addr) (imap.UpstreamConn, error) {
		up, err := s.proxyDialer().IMAP(ctx, resolve, acct.Address, frontend.Client{Remote: client, Local: local})
		if err != nil {
			return imap.UpstreamConn{}, err
		}
		return imap.UpstreamConn{Conn: up.Conn, Node: up.Node, Capability: up.Capability}, nil
	}
}

func (s *Server) pop3Upstream(acct directory.Account, r storeRoute) func(context.Context, net.Addr, net.Addr) (pop3.UpstreamConn, error) {
	resolve := s.resolver(acct, "pop3", r)
	return func(ctx context.Context, client, local net.Addr) (pop3.UpstreamConn, error) {
		up, err := s.proxyDialer().POP3(ctx, resolve, acct.Address, frontend.Client{Remote: client, Local: local})
		if err != nil {
			return pop3.UpstreamConn{}, err
		}
		return pop3.UpstreamConn{Conn: up.Conn, Node: up.Node}, nil
	}
}

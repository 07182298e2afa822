package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/rookery-mail/rookery/internal/authlimit"
	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/imap"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/pop3"
	"github.com/rookery-mail/rookery/internal/router"
)

// authPolicy is the login throttling of the config's [auth] section.
func authPolicy(a config.Auth) authlimit.Policy {
	p := authlimit.DefaultPolicy()
	p.PerAccountAddress, p.PerAddress, p.PerAccount = a.FailuresPerAccountAddress, a.FailuresPerAddress, a.FailuresPerAccount
	return p
}

// qualify adds the default domain to a bare user name.
func (s *Server) qualify(username string) string {
	if s.cfg.DefaultDomain != "" && !strings.Contains(username, "@") {
		return username + "@" + s.cfg.DefaultDomain
	}
	return username
}

// authenticate checks a user's password, under the login throttle and
// through the auth cache; it does not look for the user's store.
func (s *Server) authenticate(ctx context.Context, username, password string, remote net.Addr) (directory.Account, error) {
	username = s.qualify(username)
	account := strings.ToLower(username)
	attempt, err := s.limiter.Begin(ctx, account, addrOf(remote))
	if errors.Is(err, authlimit.ErrDenied) {
		// Answered as a wrong password, after the delay (as Dovecot does),
		// so a guesser learns nothing from it.
		s.log.Info("login throttled", "user", username, "remote", remote)
		return directory.Account{}, fmt.Errorf("%w: %w", directory.ErrAuthFailed, err)
	} else if err != nil {
		return directory.Account{}, err
	}
	acct, ok := s.authCache.lookup(username, password)
	if !ok {
		if acct, err = s.verifyPassword(ctx, username, password); errors.Is(err, directory.ErrAuthFailed) {
			attempt.Failed()
			s.logins.tell(account, addrOf(remote), false)
			return acct, err
		} else if err != nil {
			attempt.Abandoned() // the password was never judged
			return acct, fmt.Errorf("authenticate: %w", err)
		}
		s.authCache.store(username, password, acct)
	}
	attempt.Succeeded()
	s.logins.tell(account, addrOf(remote), true)
	return acct, nil
}

// errNotHere: a proxy login for a user whose store this node does not
// serve (any more); the front end re-resolves.
var errNotHere = errors.New("the user's store is not served here")

// loginAs is a front end logging in on authzid's behalf (SASL PLAIN proxy
// authorization, RFC 4616 §2): authcid must be config.ProxyIdentity and
// the password the cluster secret, on a cluster node. The user's password
// is not asked, so neither the login throttle nor the auth cache is
// involved: the front end already went through both. The protocol
// servers accept it only from ClusterPeer connections.
func (s *Server) loginAs(ctx context.Context, authzid, authcid, password string) (directory.Account, mailstore.Store, error) {
	if !s.cfg.Clustered() || authcid != config.ProxyIdentity ||
		subtle.ConstantTimeCompare([]byte(password), []byte(s.cfg.Cluster.Secret)) != 1 {
		s.log.Warn("proxy login refused: not the cluster's identity and secret", "authcid", authcid, "user", authzid)
		return directory.Account{}, nil, directory.ErrAuthFailed
	}
	acct, err := s.dir.Account(ctx, s.qualify(authzid))
	if errors.Is(err, directory.ErrNotFound) {
		return acct, nil, directory.ErrAuthFailed
	} else if err != nil {
		return acct, nil, err
	}
	r, err := s.route(ctx, acct, false)
	if errors.Is(err, router.ErrNoStore) || err == nil && r.Local == nil {
		return acct, nil, errNotHere
	} else if err != nil {
		return acct, nil, err
	}
	if err := r.Local.EnsureAccount(ctx, acct.Address); err != nil {
		return acct, nil, err
	}
	return acct, r.Local, nil
}

// clusterPeer: on a cluster node, peer (a connection's socket address,
// before any PROXY header) is another node (cluster.peers) or this host.
// Front ends connect from there; plain TCP is accepted for their proxy
// logins because the secret, not the network, is what authorizes them,
// and cluster.peers is the operator's statement that the hop is private.
func (s *Server) clusterPeer(peer net.Addr) bool {
	if !s.cfg.Clustered() {
		return false
	}
	ip := addrOf(peer).Unmap()
	if ip.IsLoopback() {
		return true
	}
	for _, p := range s.cfg.Cluster.Peers {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// verifyPassword checks a password against the directory. argon2id takes
// 64 MiB per check, so at most a few run at once: a burst of logins waits
// instead of exhausting memory.
func (s *Server) verifyPassword(ctx context.Context, username, password string) (directory.Account, error) {
	select {
	case s.hashSlots <- struct{}{}:
		defer func() { <-s.hashSlots }()
	case <-ctx.Done():
		return directory.Account{}, ctx.Err()
	}
	return s.dir.Authenticate(ctx, username, password)
}

// addrOf is the client's IP address; the zero Addr if there is none.
func addrOf(a net.Addr) netip.Addr {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.AddrPort().Addr()
	}
	return netip.Addr{}
}

// imapBackend adapts login to the IMAP server's Backend.
type imapBackend struct{ s *Server }

var _ imap.ProxyBackend = imapBackend{}

// Login authenticates and finds the user's store: here, or on the node
// the session is then proxied to (frontend.go).
func (b imapBackend) Login(ctx context.Context, username, password string, remote net.Addr) (imap.Login, error) {
	acct, store, r, err := b.s.clientLogin(ctx, username, password, remote)
	if errors.Is(err, directory.ErrAuthFailed) {
		return imap.Login{}, imap.ErrAuthFailed
	} else if err != nil || store != nil {
		return imap.Login{User: acct.Address, Store: store}, err
	}
	return imap.Login{User: acct.Address, Upstream: b.s.imapUpstream(acct, r)}, nil
}

func (b imapBackend) ClusterPeer(peer net.Addr) bool { return b.s.clusterPeer(peer) }

func (b imapBackend) LoginAs(ctx context.Context, authzid, authcid, password string, remote net.Addr) (imap.Login, error) {
	acct, store, err := b.s.loginAs(ctx, authzid, authcid, password)
	switch {
	case errors.Is(err, directory.ErrAuthFailed):
		return imap.Login{}, imap.ErrAuthFailed
	case errors.Is(err, errNotHere):
		return imap.Login{}, imap.ErrNotHere
	}
	return imap.Login{User: acct.Address, Store: store}, err
}

var _ imap.UserResolver = imapBackend{}

// ResolveUser canonicalizes an IMAP ACL identifier as login does (default
// domain, lower case: directory.Account.Address), so "bob" names the
// account bob@<default domain>.
func (b imapBackend) ResolveUser(ctx context.Context, name string) (string, error) {
	return strings.ToLower(b.s.qualify(name)), nil
}

// pop3Backend adapts login to the POP3 server's Backend.
type pop3Backend struct{ s *Server }

var _ pop3.ProxyBackend = pop3Backend{}

// Login authenticates and finds the user's store: here, or on the node
// the session is then proxied to (frontend.go).
func (b pop3Backend) Login(ctx context.Context, username, password string, remote net.Addr) (pop3.Login, error) {
	acct, store, r, err := b.s.clientLogin(ctx, username, password, remote)
	if errors.Is(err, directory.ErrAuthFailed) {
		return pop3.Login{}, pop3.ErrAuthFailed
	} else if err != nil || store != nil {
		return pop3.Login{User: acct.Address, Store: store}, err
	}
	return pop3.Login{User: acct.Address, Upstream: b.s.pop3Upstream(acct, r)}, nil
}

func (b pop3Backend) ClusterPeer(peer net.Addr) bool { return b.s.clusterPeer(peer) }

func (b pop3Backend) LoginAs(ctx context.Context, authzid, authcid, password string, remote net.Addr) (pop3.Login, error) {
	acct, store, err := b.s.loginAs(ctx, authzid, authcid, password)
	switch {
	case errors.Is(err, directory.ErrAuthFailed):
		return pop3.Login{}, pop3.ErrAuthFailed
	case errors.Is(err, errNotHere):
		return pop3.Login{}, pop3.ErrNotHere
	}
	return pop3.Login{User: acct.Address, Store: store}, err
}

func errorsIsNoAccount(err error) bool { return errors.Is(err, mailstore.ErrNoAccount) }

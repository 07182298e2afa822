package server

import (
	"context"
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

// login authenticates a user for any client protocol and finds their store.
func (s *Server) login(ctx context.Context, username, password string, remote net.Addr) (directory.Account, mailstore.Store, error) {
	username = s.qualify(username)
	attempt, err := s.limiter.Begin(ctx, strings.ToLower(username), addrOf(remote))
	if errors.Is(err, authlimit.ErrDenied) {
		// Answered as a wrong password, after the delay (as Dovecot does),
		// so a guesser learns nothing from it.
		s.log.Info("login throttled", "user", username, "remote", remote)
		return directory.Account{}, nil, fmt.Errorf("%w: %w", directory.ErrAuthFailed, err)
	} else if err != nil {
		return directory.Account{}, nil, err
	}
	acct, ok := s.authCache.lookup(username, password)
	if !ok {
		if acct, err = s.verifyPassword(ctx, username, password); errors.Is(err, directory.ErrAuthFailed) {
			attempt.Failed()
			return acct, nil, err
		} else if err != nil {
			attempt.Abandoned() // the password was never judged
			return acct, nil, fmt.Errorf("authenticate: %w", err)
		}
		s.authCache.store(username, password, acct)
	}
	attempt.Succeeded()
	store, err := s.router.Store(acct)
	if err != nil {
		return acct, nil, err
	}
	if err := store.EnsureAccount(ctx, acct.Address); err != nil {
		return acct, nil, err
	}
	return acct, store, nil
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

func (b imapBackend) Login(ctx context.Context, username, password string, remote net.Addr) (string, mailstore.Store, error) {
	acct, store, err := b.s.login(ctx, username, password, remote)
	if errors.Is(err, directory.ErrAuthFailed) {
		return "", nil, imap.ErrAuthFailed
	}
	return acct.Address, store, err
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

func (b pop3Backend) Login(ctx context.Context, username, password string, remote net.Addr) (string, mailstore.Store, error) {
	acct, store, err := b.s.login(ctx, username, password, remote)
	if errors.Is(err, directory.ErrAuthFailed) {
		return "", nil, pop3.ErrAuthFailed
	}
	return acct.Address, store, err
}

func errorsIsNoAccount(err error) bool { return errors.Is(err, mailstore.ErrNoAccount) }

package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/imap"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/pop3"
)

// authLimiter counts failed logins per client IP and per account and
// refuses further attempts for a while once a key fails too often, so
// password guessing is slow whatever the protocol.
type authLimiter struct {
	mu       sync.Mutex
	now      func() time.Time
	failures map[string][]time.Time
	max      int
	window   time.Duration
}

func newAuthLimiter() *authLimiter {
	return &authLimiter{now: time.Now, failures: map[string][]time.Time{}, max: 10, window: 5 * time.Minute}
}

// ErrThrottled means too many recent failures; the caller answers with a
// temporary error and does not check the password.
var ErrThrottled = errors.New("too many failed logins, try again later")

func (a *authLimiter) allowed(keys ...string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, k := range keys {
		if len(a.recent(k)) >= a.max {
			return false
		}
	}
	return true
}

func (a *authLimiter) fail(keys ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, k := range keys {
		a.failures[k] = append(a.recent(k), a.now())
	}
	if len(a.failures) > 100_000 { // bound memory under a spray of keys
		for k := range a.failures {
			if len(a.recent(k)) == 0 {
				delete(a.failures, k)
			}
		}
	}
}

// recent returns k's failures inside the window; a.mu is held.
func (a *authLimiter) recent(k string) []time.Time {
	ts := a.failures[k]
	cut := a.now().Add(-a.window)
	i := 0
	for i < len(ts) && ts[i].Before(cut) {
		i++
	}
	return ts[i:]
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
	ipKey, userKey := "ip:"+hostOf(remote), "user:"+username
	if !s.limiter.allowed(ipKey, userKey) {
		return directory.Account{}, nil, ErrThrottled
	}
	acct, ok := s.authCache.lookup(username, password)
	if !ok {
		var err error
		if acct, err = s.verifyPassword(ctx, username, password); errors.Is(err, directory.ErrAuthFailed) {
			s.limiter.fail(ipKey, userKey)
			return acct, nil, err
		} else if err != nil {
			return acct, nil, fmt.Errorf("authenticate: %w", err)
		}
		s.authCache.store(username, password, acct)
	}
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

func hostOf(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	if a == nil {
		return ""
	}
	return a.String()
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

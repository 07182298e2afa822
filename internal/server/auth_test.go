package server

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/authlimit"
	"github.com/rookery-mail/rookery/internal/authlimit/authlimittest"
	"github.com/rookery-mail/rookery/internal/directory"
)

// withAuthClock runs the server's login throttling on clk.
func withAuthClock(clk authlimit.Clock) func(*Server) {
	return func(s *Server) { s.limiter = authlimit.New(authPolicy(s.cfg.Auth), clk, nil) }
}

func TestLoginThrottledAfterRepeatedFailures(t *testing.T) {
	clk := authlimittest.New()
	e := startEnvWith(t, nil, withAuthClock(clk))
	ctx := t.Context()
	attacker := &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 4000}
	// Five wrong passwords for bob are checked at once, the next four
	// after 1, 2, 4 and 8 s.
	for i := range 9 {
		if _, _, _, err := e.srv.clientLogin(ctx, "bob@example.test", "wrong", attacker); !errors.Is(err, directory.ErrAuthFailed) {
			t.Fatalf("attempt %d: %v, want ErrAuthFailed", i, err)
		}
	}
	if got := clk.Slept(); got != 15*time.Second {
		t.Fatalf("held %v in all, want 1+2+4+8 s", got)
	}
	// The next turn is 16 s further: even the right password is refused
	// without a check, after 15 s, as if it were wrong.
	_, _, _, err := e.srv.clientLogin(ctx, "bob@example.test", testPassword, attacker)
	if !errors.Is(err, directory.ErrAuthFailed) || !errors.Is(err, authlimit.ErrDenied) {
		t.Fatalf("after 9 failures: %v, want a denied attempt answered as ErrAuthFailed", err)
	}
	// Bob elsewhere and other accounts from that address are not locked out.
	if _, _, _, err := e.srv.clientLogin(ctx, "bob@example.test", testPassword, &net.TCPAddr{IP: net.ParseIP("198.51.100.1")}); err != nil {
		t.Fatalf("bob from another address: %v", err)
	}
	if _, _, _, err := e.srv.clientLogin(ctx, "alice@example.test", testPassword, attacker); err != nil {
		t.Fatalf("another account from the attacker's address: %v", err)
	}
	// When its turn comes, the address gets one more check.
	clk.Advance(time.Second)
	if _, _, _, err := e.srv.clientLogin(ctx, "bob@example.test", testPassword, attacker); err != nil {
		t.Fatalf("at its turn: %v", err)
	}
}

func TestAuthCacheNeverAcceptsAnotherPassword(t *testing.T) {
	c := newAuthCache()
	acct := directory.Account{Address: "a@x.test"}
	c.store("a@x.test", "right", acct)
	if got, ok := c.lookup("a@x.test", "right"); !ok || got != acct {
		t.Fatal("cached login not found")
	}
	if _, ok := c.lookup("a@x.test", "wrong"); ok {
		t.Fatal("a different password matched the cache")
	}
	if _, ok := c.lookup("b@x.test", "right"); ok {
		t.Fatal("another user matched the cache")
	}
	c.now = func() time.Time { return time.Now().Add(authCacheTTL + time.Second) }
	if _, ok := c.lookup("a@x.test", "right"); ok {
		t.Fatal("expired entry used")
	}
}

func TestDefaultDomainCompletesLogin(t *testing.T) {
	e := startEnv(t, nil)
	e.cfg.DefaultDomain = "example.test"
	acct, _, _, err := e.srv.clientLogin(t.Context(), "alice", testPassword, &net.TCPAddr{IP: net.IPv6loopback})
	if err != nil || acct.Address != "alice@example.test" {
		t.Fatalf("login alice: %+v, %v", acct, err)
	}
}

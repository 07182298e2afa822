package server

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/directory"
)

func TestLoginThrottledAfterRepeatedFailures(t *testing.T) {
	e := startEnv(t, nil)
	ctx := t.Context()
	remote := &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 4000}
	if _, _, err := e.srv.login(ctx, "alice@example.test", testPassword, remote); err != nil {
		t.Fatalf("good login: %v", err)
	}
	for i := 0; i < 10; i++ {
		if _, _, err := e.srv.login(ctx, "bob@example.test", "wrong", remote); !errors.Is(err, directory.ErrAuthFailed) {
			t.Fatalf("attempt %d: %v, want ErrAuthFailed", i, err)
		}
	}
	// Now even the right password is refused from that address, without a check...
	if _, _, err := e.srv.login(ctx, "carol@example.test", testPassword, remote); !errors.Is(err, ErrThrottled) {
		t.Fatalf("after 10 failures: %v, want ErrThrottled", err)
	}
	// ...and for the attacked account from anywhere.
	other := &net.TCPAddr{IP: net.ParseIP("198.51.100.1"), Port: 4000}
	if _, _, err := e.srv.login(ctx, "bob@example.test", testPassword, other); !errors.Is(err, ErrThrottled) {
		t.Fatalf("attacked account: %v, want ErrThrottled", err)
	}
	// Other clients and accounts are unaffected.
	if _, _, err := e.srv.login(ctx, "alice@example.test", testPassword, other); err != nil {
		t.Fatalf("unrelated login: %v", err)
	}
	// The window passes.
	e.srv.limiter.now = func() time.Time { return time.Now().Add(6 * time.Minute) }
	if _, _, err := e.srv.login(ctx, "bob@example.test", testPassword, other); err != nil {
		t.Fatalf("after the window: %v", err)
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
	acct, _, err := e.srv.login(t.Context(), "alice", testPassword, &net.TCPAddr{IP: net.IPv6loopback})
	if err != nil || acct.Address != "alice@example.test" {
		t.Fatalf("login alice: %+v, %v", acct, err)
	}
}

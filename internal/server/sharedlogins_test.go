package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/config"
)

// TestClusterFrontEndsShareLoginFailures: guesses at one account spread
// over two front ends meet one budget. Four wrong passwords from four
// addresses on fe1 spend alice's account budget (2) and two delays (1 s,
// 2 s); fe2, told of them, holds a fifth guess from yet another address
// for the next delay (4 s after the fourth) before checking it. Without
// the sharing fe2's budget would be untouched and nothing held.
func TestClusterFrontEndsShareLoginFailures(t *testing.T) {
	c := newClusterEnv(t)
	small := func(cfg *config.Config) { cfg.Auth.FailuresPerAccount = 2 }
	ms := c.node(t, "ms1", "mailstore", "imap")
	ctx := context.Background()
	if err := ms.Directory().AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := ms.Directory().AddAccount(ctx, "alice@example.test", testPassword, "s1"); err != nil {
		t.Fatal(err)
	}
	fe1 := c.nodeWith(t, "fe1", small, "imap")
	fe2 := c.nodeWith(t, "fe2", small, "imap")
	for i := range 4 {
		err := imapLoginFrom(fe1.Addr("imap").String(), fmt.Sprintf("127.0.0.%d", 10+i), "alice@example.test", "wrong guess")
		wantAuthFailed(t, "guess on fe1", err)
	}
	// The outcomes travel over NOTIFY; give them a moment.
	time.Sleep(500 * time.Millisecond)
	if n := heldLogins(t, fe2); n != 0 {
		t.Fatalf("fe2 held %v logins before any reached it", n)
	}
	wantAuthFailed(t, "guess on fe2", imapLoginFrom(fe2.Addr("imap").String(), "127.0.0.20", "alice@example.test", "wrong guess"))
	if n := heldLogins(t, fe2); n != 1 {
		t.Fatalf("fe2 held %v logins for a fifth guess at alice: it did not count fe1's four", n)
	}
	// An unrelated account is not held.
	wantAuthFailed(t, "bob on fe2", imapLoginFrom(fe2.Addr("imap").String(), "127.0.0.21", "bob@example.test", "x"))
	if n := heldLogins(t, fe2); n != 1 {
		t.Fatalf("fe2 held %v logins after a guess at bob, want still 1", n)
	}
}

// heldLogins is how many login attempts srv's throttle held or denied.
func heldLogins(t *testing.T, srv *Server) float64 {
	t.Helper()
	mfs, err := srv.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() == "rookery_auth_throttled_total" {
			for _, m := range mf.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}

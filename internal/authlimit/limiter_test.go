package authlimit

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rookery-mail/rookery/internal/authlimit/authlimittest"
)

// smallPolicy keeps the transcripts short: 2 per account and address, 3
// per address, 4 per account, an hour each.
var smallPolicy = Policy{PerAccountAddress: 2, PerAddress: 3, PerAccount: 4}

// try makes one attempt that fails (or succeeds) and returns how long it
// was held, or ErrDenied.
func try(t *testing.T, l *Limiter, clk *authlimittest.Clock, account, addr string, succeed bool) (time.Duration, error) {
	t.Helper()
	before := clk.Now()
	a, err := l.Begin(t.Context(), account, netip.MustParseAddr(addr))
	if err != nil {
		return clk.Now().Sub(before), err
	}
	if succeed {
		a.Succeeded()
	} else {
		a.Failed()
	}
	return clk.Now().Sub(before), nil
}

type step struct {
	account, addr string
	succeed       bool
	wait          time.Duration // how long the attempt is held
	denied        bool          // refused after MaxHold
	then          time.Duration // the clock moves on after the step
}

func run(t *testing.T, l *Limiter, clk *authlimittest.Clock, steps []step) {
	t.Helper()
	for i, s := range steps {
		wait, err := try(t, l, clk, s.account, s.addr, s.succeed)
		switch {
		case s.denied && !errors.Is(err, ErrDenied):
			t.Fatalf("step %d (%s from %s): %v after %v, want denied", i, s.account, s.addr, err, wait)
		case s.denied && wait != l.p.MaxHold:
			t.Fatalf("step %d (%s from %s): denied after %v, want after MaxHold %v", i, s.account, s.addr, wait, l.p.MaxHold)
		case !s.denied && err != nil:
			t.Fatalf("step %d (%s from %s): %v, want allowed after %v", i, s.account, s.addr, err, s.wait)
		case !s.denied && wait != s.wait:
			t.Fatalf("step %d (%s from %s): held %v, want %v", i, s.account, s.addr, wait, s.wait)
		}
		clk.Advance(s.then)
	}
}

func TestPolicy(t *testing.T) {
	t.Run("per account and address: delays double past the budget", func(t *testing.T) {
		clk := authlimittest.New()
		l := New(DefaultPolicy(), clk, nil)
		var steps []step
		for range 5 {
			steps = append(steps, step{account: "alice", addr: "192.0.2.1"})
		}
		steps = append(steps,
			step{account: "alice", addr: "192.0.2.1", wait: time.Second},
			step{account: "alice", addr: "192.0.2.1", wait: 2 * time.Second},
			step{account: "alice", addr: "192.0.2.1", wait: 4 * time.Second},
			step{account: "alice", addr: "192.0.2.1", wait: 8 * time.Second},
			// 16 s is more than an attempt is held: denied after 15 s...
			step{account: "alice", addr: "192.0.2.1", denied: true},
			// ...and the turn comes 1 s later; the denial counted nothing.
			step{account: "alice", addr: "192.0.2.1", wait: time.Second},
			// The same address may still try other accounts, and others alice.
			step{account: "bob", addr: "192.0.2.1"},
			step{account: "alice", addr: "192.0.2.2", then: time.Hour},
			// An hour later the budget is back.
			step{account: "alice", addr: "192.0.2.1"},
		)
		run(t, l, clk, steps)
	})
	t.Run("per address, any account", func(t *testing.T) {
		clk := authlimittest.New()
		l := New(smallPolicy, clk, nil)
		run(t, l, clk, []step{
			{account: "a", addr: "192.0.2.1"},
			{account: "b", addr: "192.0.2.1"},
			{account: "c", addr: "192.0.2.1"},
			{account: "d", addr: "192.0.2.1", wait: time.Second},
			{account: "e", addr: "192.0.2.1", wait: 2 * time.Second},
			{account: "f", addr: "192.0.2.2"},
		})
	})
	t.Run("per account, any address", func(t *testing.T) {
		clk := authlimittest.New()
		l := New(smallPolicy, clk, nil)
		run(t, l, clk, []step{
			{account: "alice", addr: "192.0.2.1"},
			{account: "alice", addr: "192.0.2.2"},
			{account: "alice", addr: "192.0.2.3"},
			{account: "alice", addr: "192.0.2.4"},
			{account: "alice", addr: "192.0.2.5", wait: time.Second},
			{account: "alice", addr: "192.0.2.6", wait: 2 * time.Second},
			{account: "bob", addr: "192.0.2.7"},
		})
	})
	t.Run("a success costs nothing and restarts its own budget", func(t *testing.T) {
		clk := authlimittest.New()
		l := New(smallPolicy, clk, nil)
		run(t, l, clk, []step{
			{account: "alice", addr: "192.0.2.1"},
			{account: "alice", addr: "192.0.2.1"},
			{account: "alice", addr: "192.0.2.1", succeed: true, wait: time.Second},
			{account: "alice", addr: "192.0.2.1"},
			{account: "alice", addr: "192.0.2.1"},
			{account: "alice", addr: "192.0.2.1", wait: time.Second},
		})
	})
	t.Run("the delay is capped at MaxDelay", func(t *testing.T) {
		d := delays{first: time.Second, max: 15 * time.Minute}
		var got []time.Duration
		for debt := 1.0; debt <= 12; debt++ {
			got = append(got, d.after(debt))
		}
		want := fmt.Sprint([]time.Duration{1e9, 2e9, 4e9, 8e9, 16e9, 32e9, 64e9, 128e9, 256e9, 512e9, 900e9, 900e9})
		if fmt.Sprint(got) != want {
			t.Fatalf("delays %v, want %v", got, want)
		}
		if got := d.after(1e9); got != 15*time.Minute {
			t.Fatalf("huge debt: %v", got)
		}
	})
}

func TestAttemptsCountBeforeTheCheck(t *testing.T) {
	clk := authlimittest.NewFrozen()
	reg := prometheus.NewRegistry()
	l := New(DefaultPolicy(), clk, reg)
	addr := netip.MustParseAddr("192.0.2.1")
	// Twenty guesses in parallel, none checked yet: five go straight
	// through, the rest wait their turn or are denied.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []*Attempt
	for range 20 {
		wg.Go(func() {
			a, err := l.Begin(t.Context(), "alice", addr)
			if err == nil {
				mu.Lock()
				open = append(open, a)
				mu.Unlock()
			} else if !errors.Is(err, ErrDenied) {
				t.Errorf("Begin: %v", err)
			}
		})
	}
	wg.Wait()
	// Turns at +1, +3, +7 and +15 s are within MaxHold; the rest are
	// denied after it.
	if len(open) != 9 {
		t.Fatalf("%d of 20 parallel attempts let through, want 9 (5 and 4 delayed)", len(open))
	}
	if want := (1+3+7+15)*time.Second + 11*DefaultPolicy().MaxHold; clk.Slept() != want {
		t.Fatalf("held %v in all, want %v", clk.Slept(), want)
	}
	if got := throttled(t, reg); got != "denied=11 held=4 " {
		t.Fatalf("rookery_auth_throttled_total: %s, want denied=11 held=4", got)
	}
	for _, a := range open {
		a.Failed()
	}
}

// throttled returns the counts of rookery_auth_throttled_total as
// "action=n " in label order.
func throttled(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		if mf.GetName() != "rookery_auth_throttled_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			fmt.Fprintf(&b, "%s=%v ", m.GetLabel()[0].GetValue(), m.GetCounter().GetValue())
		}
	}
	return b.String()
}

func TestAbandonedAttemptsDoNotCount(t *testing.T) {
	clk := authlimittest.New()
	l := New(smallPolicy, clk, nil)
	addr := netip.MustParseAddr("192.0.2.1")
	for range 10 {
		a, err := l.Begin(t.Context(), "alice", addr)
		if err != nil {
			t.Fatal(err)
		}
		a.Abandoned()
		a.Failed() // a second end is ignored
	}
	// A client that leaves while it waits for its turn costs nothing either.
	run(t, l, clk, []step{{account: "alice", addr: "192.0.2.1"}, {account: "alice", addr: "192.0.2.1"}})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := l.Begin(ctx, "alice", addr); !errors.Is(err, context.Canceled) {
		t.Fatalf("Begin with a cancelled context while waiting: %v", err)
	}
	run(t, l, clk, []step{{account: "alice", addr: "192.0.2.1", wait: time.Second}})
}

func TestMemoryIsBounded(t *testing.T) {
	clk := authlimittest.New()
	p := smallPolicy
	p.MaxEntries = 100
	l := New(p, clk, nil)
	for i := range 10_000 {
		addr := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		a, err := l.Begin(t.Context(), fmt.Sprintf("user%d", i), addr)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			a.Succeeded()
		} else {
			a.Failed()
		}
	}
	if n, k := l.buckets.len(), l.known.len(); n > 100 || k > 100 {
		t.Fatalf("%d buckets and %d known-good entries, want at most 100 each", n, k)
	}
	// The most recent entries are the ones kept.
	if l.buckets.get("p\x00user9999\x0010.0.39.15") == nil {
		t.Fatal("the newest bucket was evicted")
	}
}

func TestKnownGoodAddressPassesAccountCeiling(t *testing.T) {
	t.Run("account ceiling", func(t *testing.T) {
		clk := authlimittest.New()
		l := New(smallPolicy, clk, nil)
		steps := []step{{account: "alice", addr: "192.0.2.1", succeed: true}} // alice at home
		// Guessers everywhere spend alice's account budget.
		for i := range 4 {
			steps = append(steps, step{account: "alice", addr: fmt.Sprintf("198.51.100.%d", i)})
		}
		steps = append(steps,
			// Alice at home goes straight in...
			step{account: "alice", addr: "192.0.2.1", succeed: true},
			// ...while a new address must wait for the account.
			step{account: "alice", addr: "198.51.100.77", wait: time.Second},
			// A known-good address is still held to its own budget.
			step{account: "alice", addr: "192.0.2.1"},
			step{account: "alice", addr: "192.0.2.1"},
			step{account: "alice", addr: "192.0.2.1", wait: time.Second, then: 31 * 24 * time.Hour},
		)
		// A month later home is forgotten: it counts against the account again.
		for i := range 4 {
			steps = append(steps, step{account: "alice", addr: fmt.Sprintf("198.51.100.%d", i)})
		}
		steps = append(steps, step{account: "alice", addr: "192.0.2.1", wait: time.Second})
		run(t, l, clk, steps)
	})
	t.Run("address ceiling behind a NAT", func(t *testing.T) {
		clk := authlimittest.New()
		l := New(smallPolicy, clk, nil)
		run(t, l, clk, []step{
			{account: "alice", addr: "203.0.113.9", succeed: true},
			// Colleagues behind the office NAT spend its address budget.
			{account: "bob", addr: "203.0.113.9"},
			{account: "carol", addr: "203.0.113.9"},
			{account: "dave", addr: "203.0.113.9"},
			// Alice, known there, goes straight in; a newcomer waits.
			{account: "alice", addr: "203.0.113.9", succeed: true},
			{account: "erin", addr: "203.0.113.9", wait: time.Second},
		})
	})
}

func TestIPv6Slash64(t *testing.T) {
	clk := authlimittest.New()
	l := New(smallPolicy, clk, nil)
	run(t, l, clk, []step{
		{account: "alice", addr: "2001:db8:1:2::1"},
		{account: "alice", addr: "2001:db8:1:2:ffff:ffff:ffff:fffe"},
		// Same /64: the (account, address) budget is spent.
		{account: "alice", addr: "2001:db8:1:2::3", wait: time.Second},
		// Another /64 is another address.
		{account: "alice", addr: "2001:db8:1:3::1"},
		// An IPv4-mapped address is the IPv4 address.
		{account: "bob", addr: "::ffff:192.0.2.1"},
		{account: "bob", addr: "192.0.2.1"},
		{account: "bob", addr: "::ffff:192.0.2.1", wait: time.Second},
	})
	for in, want := range map[string]string{
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"fe80::1%eth0":         "fe80::/64",
		"::ffff:198.51.100.7":  "198.51.100.7",
		"198.51.100.7":         "198.51.100.7",
	} {
		if got := addrKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("addrKey(%s) = %s, want %s", in, got, want)
		}
	}
	if got := addrKey(netip.Addr{}); got != "unknown" {
		t.Errorf("addrKey of no address = %q", got)
	}
}

// TestObserveSharesBudgets: failures judged on other front ends spend the
// same budgets here, and a success elsewhere makes the address known good
// here too.
func TestObserveSharesBudgets(t *testing.T) {
	clk := authlimittest.New()
	l := New(smallPolicy, clk, nil)
	// Another front end saw four guesses at alice from four addresses.
	for i := range 4 {
		l.Observe("alice", netip.MustParseAddr(fmt.Sprintf("198.51.100.%d", i)), false)
	}
	if clk.Now() != authlimittest.New().Now() {
		t.Fatal("Observe held the caller")
	}
	run(t, l, clk, []step{
		// A fifth address here waits for the account's budget.
		{account: "alice", addr: "198.51.100.77", wait: time.Second},
	})
	// Alice logged in from home on the other front end: home is known
	// good here and passes the spent account budget.
	l.Observe("alice", netip.MustParseAddr("192.0.2.1"), true)
	run(t, l, clk, []step{{account: "alice", addr: "192.0.2.1", succeed: true}})
	// Bob, untouched elsewhere, goes straight in.
	run(t, l, clk, []step{{account: "bob", addr: "198.51.100.9", succeed: true}})
}

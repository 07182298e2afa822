// Package authlimit slows password guessing without letting an attacker
// lock an account's owner out. Failed logins are budgeted per (account,
// address), per address and per account as token buckets; past a spent
// budget, attempts are delayed by a doubling delay. An address that logged
// in to the account before ("known good") is held only to its own
// (account, address) budget, so guessing from elsewhere does not stop the
// owner, and neither does a neighbour behind the same NAT.
package authlimit

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Policy is the budgets and delays. Zero fields get the defaults of
// DefaultPolicy.
type Policy struct {
	// PerAccountAddress, PerAddress and PerAccount are failures per Period
	// for one account from one address, for one address (any account) and
	// for one account from addresses not known good.
	PerAccountAddress, PerAddress, PerAccount int
	Period                                    time.Duration
	// FirstDelay doubles per attempt past a spent budget, up to MaxDelay.
	FirstDelay, MaxDelay time.Duration
	// MaxHold is the longest an attempt is held waiting for its turn; an
	// attempt that would wait longer is denied after MaxHold instead, so
	// a connection is not held for minutes.
	MaxHold time.Duration
	// KnownGoodFor is how long a successful login keeps its address known
	// good for that account.
	KnownGoodFor time.Duration
	// MaxEntries bounds the buckets and the known-good addresses each.
	MaxEntries int
}

// DefaultPolicy: 5 failures an hour per account and address, 60 per
// address, 100 per account; delays 1 s doubling to 15 min; an attempt is
// held at most 15 s (Dovecot's AUTH_PENALTY_MAX_SECS); known-good
// addresses are remembered 30 days; 100,000 entries.
func DefaultPolicy() Policy {
	return Policy{
		PerAccountAddress: 5, PerAddress: 60, PerAccount: 100, Period: time.Hour,
		FirstDelay: time.Second, MaxDelay: 15 * time.Minute, MaxHold: 15 * time.Second,
		KnownGoodFor: 30 * 24 * time.Hour, MaxEntries: 100_000,
	}
}

func (p Policy) withDefaults() Policy {
	d := DefaultPolicy()
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setD := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&p.PerAccountAddress, d.PerAccountAddress)
	set(&p.PerAddress, d.PerAddress)
	set(&p.PerAccount, d.PerAccount)
	set(&p.MaxEntries, d.MaxEntries)
	setD(&p.Period, d.Period)
	setD(&p.FirstDelay, d.FirstDelay)
	setD(&p.MaxDelay, d.MaxDelay)
	setD(&p.MaxHold, d.MaxHold)
	setD(&p.KnownGoodFor, d.KnownGoodFor)
	return p
}

// Clock is the time source; tests pass one that does not really sleep.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx ends, then returns ctx.Err().
	Sleep(ctx context.Context, d time.Duration) error
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ErrDenied means the attempt was refused without checking the password.
// Callers answer it exactly like a wrong password (as Dovecot's delayed
// failures do), so a guesser cannot tell a throttled attempt from a wrong
// guess.
var ErrDenied = errors.New("authlimit: too many failed logins")

// Limiter decides when a login attempt may check its password. It is safe
// for concurrent use; all protocols of a node share one.
type Limiter struct {
	p       Policy
	clock   Clock
	metrics *metrics

	mu      sync.Mutex
	buckets *table[bucket]
	known   *table[time.Time] // account and address -> known good until
}

// New returns a Limiter; a nil clock means the system clock. Its metrics
// are registered with reg unless reg is nil.
func New(p Policy, clock Clock, reg prometheus.Registerer) *Limiter {
	if clock == nil {
		clock = systemClock{}
	}
	p = p.withDefaults()
	return &Limiter{p: p, clock: clock, metrics: newMetrics(reg),
		buckets: newTable[bucket](p.MaxEntries), known: newTable[time.Time](p.MaxEntries)}
}

// Attempt is one login attempt let through by Begin. The caller ends it
// with exactly one of Failed, Succeeded or Abandoned.
type Attempt struct {
	l        *Limiter
	pair     string // the (account, address) key, also the known-good key
	receipts []receipt
	done     bool
}

// Begin counts an attempt to log in to account from addr before the
// password is checked, so parallel guesses cannot race past a budget. It
// waits (up to MaxHold) for the attempt's turn, or returns ErrDenied after
// MaxHold when the turn is further away, or ctx.Err() if ctx ends first
// (then nothing is counted).
func (l *Limiter) Begin(ctx context.Context, account string, addr netip.Addr) (*Attempt, error) {
	now := l.clock.Now()
	l.mu.Lock()
	pair, keys := l.keysLocked(account, addr, now)
	a := &Attempt{l: l, pair: pair}
	start := now
	for _, k := range keys {
		if s := l.buckets.at(k.key).start(now, l.budget(k.size), l.delays()); s.After(start) {
			start = s
		}
	}
	wait := start.Sub(now)
	if wait > l.p.MaxHold {
		l.mu.Unlock()
		l.metrics.throttled.WithLabelValues("denied").Inc()
		if err := l.clock.Sleep(ctx, l.p.MaxHold); err != nil {
			return nil, err
		}
		return nil, ErrDenied
	}
	for _, k := range keys {
		a.receipts = append(a.receipts, l.buckets.at(k.key).take(k.key, l.budget(k.size), start))
	}
	l.mu.Unlock()

	if wait > 0 {
		l.metrics.throttled.WithLabelValues("held").Inc()
		if err := l.clock.Sleep(ctx, wait); err != nil {
			a.Abandoned()
			return nil, err
		}
	}
	return a, nil
}

// keysLocked returns the (account, address) key and the budgets an
// attempt counts against: all three, or only its own pair's when the
// address is known good for the account.
func (l *Limiter) keysLocked(account string, addr netip.Addr, now time.Time) (string, []keyBudget) {
	ak := addrKey(addr)
	pair := "p\x00" + account + "\x00" + ak
	keys := []keyBudget{{pair, l.p.PerAccountAddress}}
	if until := l.known.get(pair); until == nil || !now.Before(*until) {
		keys = append(keys, keyBudget{"a\x00" + ak, l.p.PerAddress}, keyBudget{"u\x00" + account, l.p.PerAccount})
	}
	return pair, keys
}

// Observe counts a login that another node judged (a cluster's front
// ends tell each other, so a guesser spread over them meets one budget):
// a failure takes from the same budgets as a local one, at the earliest
// time it could have started, without holding anyone here; a success
// makes the address known good for the account, as Succeeded does.
func (l *Limiter) Observe(account string, addr netip.Addr, succeeded bool) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	pair, keys := l.keysLocked(account, addr, now)
	if succeeded {
		l.buckets.remove(pair)
		*l.known.at(pair) = now.Add(l.p.KnownGoodFor)
		return
	}
	for _, k := range keys {
		b := l.buckets.at(k.key)
		b.take(k.key, l.budget(k.size), b.start(now, l.budget(k.size), l.delays()))
	}
}

type keyBudget struct {
	key  string
	size int
}

func (l *Limiter) budget(size int) budget { return budget{size: size, period: l.p.Period} }

func (l *Limiter) delays() delays { return delays{first: l.p.FirstDelay, max: l.p.MaxDelay} }

// Failed ends an attempt whose password was wrong: it stays counted.
func (a *Attempt) Failed() { a.finish() }

// Succeeded ends an attempt whose password was right: it is not counted
// against any budget, the (account, address) budget starts afresh, and
// the address is known good for the account for KnownGoodFor.
func (a *Attempt) Succeeded() {
	if !a.finish() {
		return
	}
	l := a.l
	l.mu.Lock()
	defer l.mu.Unlock()
	a.refundLocked()
	l.buckets.remove(a.pair)
	*l.known.at(a.pair) = l.clock.Now().Add(l.p.KnownGoodFor)
}

// Abandoned ends an attempt whose password was never checked (the client
// left, the directory failed): it is not counted.
func (a *Attempt) Abandoned() {
	if !a.finish() {
		return
	}
	a.l.mu.Lock()
	defer a.l.mu.Unlock()
	a.refundLocked()
}

// finish marks the attempt ended and reports whether it was still open.
func (a *Attempt) finish() bool {
	if a.done {
		return false
	}
	a.done = true
	return true
}

func (a *Attempt) refundLocked() {
	for _, r := range a.receipts {
		if b := a.l.buckets.get(r.key); b != nil {
			b.give(r)
		}
	}
}

// addrKey is the unit an address is counted in: an IPv4 address, or the
// /64 of an IPv6 address, which one host or customer usually holds whole
// (RFC 6177), so hopping inside it gains nothing.
func addrKey(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	switch {
	case a.Is4():
		return a.String()
	case a.Is6():
		return netip.PrefixFrom(a, 64).Masked().String()
	}
	return "unknown"
}

package outbound

import (
	"context"
	"sync"
)

// limiter bounds busy connections globally and per destination domain
// (Postfix's default_process_limit and smtp_destination_concurrency_limit).
// Excess callers wait. Idle cached sessions are not counted.
type limiter struct {
	global    chan struct{}
	perDomain int
	mu        sync.Mutex
	domains   map[string]*domainSlot
}

type domainSlot struct {
	sem  chan struct{}
	refs int
}

func newLimiter(global, perDomain int) *limiter {
	return &limiter{global: make(chan struct{}, global), perDomain: perDomain, domains: map[string]*domainSlot{}}
}

// acquire takes a domain slot, then a global one (always in that order, so
// waiters cannot deadlock), and returns the function that gives both back.
func (l *limiter) acquire(ctx context.Context, domain string) (release func(), err error) {
	l.mu.Lock()
	d := l.domains[domain]
	if d == nil {
		d = &domainSlot{sem: make(chan struct{}, l.perDomain)}
		l.domains[domain] = d
	}
	d.refs++
	l.mu.Unlock()
	unref := func() {
		l.mu.Lock()
		if d.refs--; d.refs == 0 {
			delete(l.domains, domain)
		}
		l.mu.Unlock()
	}
	select {
	case d.sem <- struct{}{}:
	case <-ctx.Done():
		unref()
		return nil, ctx.Err()
	}
	select {
	case l.global <- struct{}{}:
	case <-ctx.Done():
		<-d.sem
		unref()
		return nil, ctx.Err()
	}
	return func() {
		<-l.global
		<-d.sem
		unref()
	}, nil
}

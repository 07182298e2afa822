package outbound

import (
	"sync"
	"time"
)

// pool keeps idle sessions per destination domain for a short while, so the
// next batch of mail to the same domain skips connect, TLS and EHLO (as
// Postfix's connection cache, smtp_connection_cache_time_limit).
type pool struct {
	ttl    time.Duration
	mu     sync.Mutex
	idle   map[string][]*conn
	closed bool
}

func newPool(ttl time.Duration) *pool {
	return &pool{ttl: ttl, idle: map[string][]*conn{}}
}

// get returns the most recently parked session for domain, or nil.
func (p *pool) get(domain string) *conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.idle[domain]
	for len(l) > 0 {
		cn := l[len(l)-1]
		l = l[:len(l)-1]
		if time.Since(cn.idleSince) < p.ttl {
			p.set(domain, l)
			return cn
		}
		go cn.close(true)
	}
	p.set(domain, l)
	return nil
}

func (p *pool) set(domain string, l []*conn) {
	if len(l) == 0 {
		delete(p.idle, domain)
	} else {
		p.idle[domain] = l
	}
}

// put parks cn; it is closed after the ttl unless taken again.
func (p *pool) put(domain string, cn *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.ttl <= 0 {
		go cn.close(true)
		return
	}
	cn.idleSince = time.Now()
	p.idle[domain] = append(p.idle[domain], cn)
	time.AfterFunc(p.ttl, func() { p.expire(domain, cn) })
}

// expire closes cn if it is still parked and has been idle for the ttl; a
// session taken and parked again has a newer timer.
func (p *pool) expire(domain string, cn *conn) {
	p.mu.Lock()
	l := p.idle[domain]
	for i, x := range l {
		if x == cn && time.Since(cn.idleSince) >= p.ttl {
			p.set(domain, append(l[:i:i], l[i+1:]...))
			p.mu.Unlock()
			cn.close(true)
			return
		}
	}
	p.mu.Unlock()
}

// closeAll closes every idle session and refuses new ones.
func (p *pool) closeAll() {
	p.mu.Lock()
	all := p.idle
	p.idle, p.closed = map[string][]*conn{}, true
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, l := range all {
		for _, cn := range l {
			wg.Go(func() { cn.close(true) })
		}
	}
	wg.Wait()
}

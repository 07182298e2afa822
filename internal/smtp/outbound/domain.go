package outbound

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/rookery-mail/rookery/internal/queue"
)

// msgsPerConn is how many transactions one connection should carry before
// another connection to the same domain is worth opening in parallel.
const msgsPerConn = 20

// deliverDomain routes domain once and runs its jobs over as few
// connections as the job count warrants, within the concurrency limits.
func (c *Client) deliverDomain(ctx context.Context, domain string, jobs []job) []queue.Result {
	rt, err := c.resolveRoute(ctx, domain)
	if err != nil {
		var out []queue.Result
		de := classify(domain, "", err)
		for _, j := range jobs {
			out = append(out, jobResults(j, de)...)
			c.logTx(j, domain, nil, de, 0)
		}
		return out
	}
	workers := min(c.opts.MaxConnsPerDomain, (len(jobs)+msgsPerConn-1)/msgsPerConn)
	ch := make(chan job)
	var mu sync.Mutex
	var out []queue.Result
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			res := c.worker(ctx, rt, ch)
			mu.Lock()
			out = append(out, res...)
			mu.Unlock()
		})
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	return out
}

// worker delivers jobs from ch over one session, reconnecting after a
// broken one. Once no host can be reached, the remaining jobs get that
// error without further attempts.
func (c *Client) worker(ctx context.Context, rt *route, ch <-chan job) []queue.Result {
	var out []queue.Result
	var cn *conn
	var down *deliveryError
	release, err := c.limits.acquire(ctx, rt.domain)
	if err != nil {
		down = tempErr("4.4.2", "delivery to %s interrupted: %v", rt.domain, err)
	} else {
		defer release()
	}
	for j := range ch {
		if down == nil && cn == nil {
			cn, err = c.connect(ctx, rt)
			if err != nil {
				down = classify(rt.domain, "", err)
			}
		}
		if down != nil {
			out = append(out, jobResults(j, down)...)
			c.logTx(j, rt.domain, nil, down, 0)
			continue
		}
		if j.msg.RequireTLS && requireTLSErr(cn) != nil {
			out = append(out, c.sendRequireTLS(ctx, rt, cn, j)...)
			continue
		}
		res, broken := c.send(ctx, cn, rt.domain, j)
		out = append(out, res...)
		if broken {
			cn.close(false)
			cn = nil
		}
	}
	if cn != nil {
		c.pool.put(rt.domain, cn)
	}
	return out
}

// connect returns a cached session for the domain, or opens one to the
// first host in route order that answers with a 220 greeting (RFC 5321
// §5.1: try the hosts in order; a failure moves on to the next).
func (c *Client) connect(ctx context.Context, rt *route) (*conn, error) {
	for cn := c.pool.get(rt.domain); cn != nil; cn = c.pool.get(rt.domain) {
		// RFC 5321 §4.1.1.9: NOOP checks that the parked session still works.
		if err := cn.c.Noop(); err == nil {
			return cn, nil
		}
		cn.close(false)
	}
	var last error
	for _, host := range rt.hosts {
		ips, err := c.opts.Resolver.LookupIP(ctx, host)
		if err != nil {
			if rt.implicit && errors.Is(err, ErrNotFound) {
				// No MX and no address: the domain cannot receive mail.
				return nil, permErr(550, "5.1.2", "domain %s not found: %v", rt.domain, err)
			}
			last = fmt.Errorf("lookup %s: %w", host, err)
			continue
		}
		for _, ip := range ips {
			cn, err := c.dial(ctx, host, ip, true)
			if errors.Is(err, errTLSHandshake) {
				c.log.Warn("STARTTLS handshake failed, retrying in plaintext", "host", host, "ip", ip.String(), "err", err)
				cn, err = c.dial(ctx, host, ip, false)
			}
			if err == nil {
				return cn, nil
			}
			last = classify(host, ip.String(), err)
			c.log.Info("outbound connect failed", "domain", rt.domain, "host", host, "ip", ip.String(), "err", last.Error())
			if ctx.Err() != nil {
				return nil, tempErr("4.4.2", "delivery to %s interrupted: %v", rt.domain, ctx.Err())
			}
		}
	}
	return nil, tempErr("4.4.1", "no MX host of %s answered: %v", rt.domain, last)
}

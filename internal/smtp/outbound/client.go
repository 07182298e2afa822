// Package outbound is the outbound role's SMTP client: it delivers queued
// mail for external domains to their MX hosts (RFC 5321 §5), with
// opportunistic STARTTLS, per-domain and global concurrency limits and a
// short-lived connection cache. Postfix's smtp(8) is the behavioural model.
package outbound

import (
	"context"
	"crypto/tls"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rookery-mail/rookery/internal/queue"
)

// Options configures a Client. Zero values take the documented defaults.
type Options struct {
	// Hostname is the EHLO name (default "localhost"); it should resolve to
	// this host's address. An MX record naming it marks a mail loop.
	Hostname string
	// Resolver finds MX hosts and addresses; default NewResolver("").
	Resolver Resolver
	// Port is the remote SMTP port, 25 by default; tests use others.
	Port int
	// TLS is the client config for STARTTLS. TLS is opportunistic: used
	// when offered, and an unverified certificate is logged, not fatal.
	TLS *tls.Config
	// DialTimeout (default 30s) bounds connecting; CommandTimeout (default
	// 5min, RFC 5321 §4.5.3.2) bounds each reply.
	DialTimeout, CommandTimeout time.Duration
	// MaxConnsPerDomain (default 10) and MaxConns (default 100) bound busy
	// connections; deliveries beyond them wait.
	MaxConnsPerDomain, MaxConns int
	// IdleTimeout is how long an idle session is cached, default 5s.
	IdleTimeout time.Duration
	Logger      *slog.Logger
	Registerer  prometheus.Registerer
}

func (o *Options) setDefaults() {
	if o.Hostname == "" {
		o.Hostname = "localhost"
	}
	if o.Resolver == nil {
		o.Resolver = NewResolver("")
	}
	if o.Port == 0 {
		o.Port = 25
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = 30 * time.Second
	}
	if o.CommandTimeout == 0 {
		o.CommandTimeout = 5 * time.Minute
	}
	if o.MaxConnsPerDomain <= 0 {
		o.MaxConnsPerDomain = 10
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 100
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Client delivers messages to remote MTAs. It is safe for concurrent use.
type Client struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics
	limits  *limiter
	pool    *pool
}

var _ queue.Deliverer = (*Client)(nil)

// New returns a Client; it opens no connection until Deliver.
func New(opts Options) *Client {
	opts.setDefaults()
	return &Client{
		opts:    opts,
		log:     opts.Logger.With("role", "outbound"),
		metrics: newMetrics(opts.Registerer),
		limits:  newLimiter(opts.MaxConns, opts.MaxConnsPerDomain),
		pool:    newPool(opts.IdleTimeout),
	}
}

// Close closes the cached idle connections. Deliver calls already running
// finish; their sessions are then closed instead of cached.
func (c *Client) Close() { c.pool.closeAll() }

// job is one message's recipients at one domain: one SMTP transaction.
type job struct {
	msg   *queue.Message
	rcpts []string
}

// Deliver attempts every recipient of msgs (bodies loaded), which the
// caller has already chosen as remote, and returns one Result per
// recipient. Domains are delivered in parallel; a message's recipients at
// one domain share one transaction.
func (c *Client) Deliver(ctx context.Context, msgs []*queue.Message) []queue.Result {
	var results []queue.Result
	byDomain := map[string][]job{}
	var order []string
	for _, m := range msgs {
		idx := map[string]int{}
		for _, r := range m.Recipients {
			at := strings.LastIndexByte(r.Address, '@')
			if at < 0 || at == len(r.Address)-1 {
				results = append(results, queue.Result{MessageID: m.ID, Recipient: r.Address, Status: queue.Failed,
					Error: "553 5.1.3 bad recipient address syntax"})
				continue
			}
			d := strings.ToLower(strings.TrimSuffix(r.Address[at+1:], "."))
			if _, ok := byDomain[d]; !ok {
				order = append(order, d)
			}
			i, ok := idx[d]
			if !ok {
				i = len(byDomain[d])
				idx[d] = i
				byDomain[d] = append(byDomain[d], job{msg: m})
			}
			byDomain[d][i].rcpts = append(byDomain[d][i].rcpts, r.Address)
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, d := range order {
		wg.Go(func() {
			res := c.deliverDomain(ctx, d, byDomain[d])
			mu.Lock()
			results = append(results, res...)
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, r := range results {
		c.metrics.deliveries.WithLabelValues(string(r.Status)).Inc()
	}
	return results
}

// jobResults gives every recipient of j the outcome err.
func jobResults(j job, err *deliveryError) []queue.Result {
	out := make([]queue.Result, 0, len(j.rcpts))
	for _, r := range j.rcpts {
		out = append(out, queue.Result{MessageID: j.msg.ID, Recipient: r, Status: err.status, Error: err.text})
	}
	return out
}

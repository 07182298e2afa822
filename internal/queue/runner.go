package queue

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Deliverer attempts delivery of the pending recipients of msgs (bodies
// loaded) and returns one Result per recipient. Status Pending means retry;
// the runner picks the retry time by Policy unless NextAttempt is set.
type Deliverer interface {
	Deliver(ctx context.Context, msgs []*Message) []Result
}

// RunnerOptions configures a Runner; every field may be left zero.
type RunnerOptions struct {
	Policy     Policy
	Logger     *slog.Logger          // nil discards
	Registerer prometheus.Registerer // nil registers no metrics
	Now        func() time.Time      // nil is time.Now; tests pass a fake clock
	// Hostname names this MTA in DSNs (Reporting-MTA, MAILER-DAEMON@);
	// "localhost" when empty.
	Hostname string
	// IsLocal tells whether a DSN's recipient (the original sender) is
	// delivered locally; a DSN to a non-local address is marked Remote.
	// Nil treats every address as local.
	IsLocal func(ctx context.Context, address string) (bool, error)
	// Owner names this runner in its claims (the node's name), so runners
	// of several nodes can share one store; "" is the hostname.
	Owner string
	// ClaimTTL is how long a claim lasts: a runner that dies mid-batch
	// leaves its recipients to others after it. It must exceed a batch's
	// delivery time, or a slow batch is taken twice; default 10 minutes.
	ClaimTTL time.Duration
	// Local and Remote choose which recipients this runner delivers: to a
	// local mailstore, by outbound SMTP. Neither set takes both.
	Local, Remote bool
}

// DefaultClaimTTL is RunnerOptions.ClaimTTL's default.
const DefaultClaimTTL = 10 * time.Minute

// Runner is the delivery loop over a Store. One loop takes due messages in
// batches, so one mailstore commit covers many messages. Runners on several
// nodes may share a store: each claims its batch (ClaimRequest).
type Runner struct {
	store     Store
	deliver   Deliverer
	opts      RunnerOptions
	log       *slog.Logger
	now       func() time.Time
	kick      chan struct{}
	metrics   *runnerMetrics
	lastPurge time.Time
	// Batch is the most messages attempted together.
	Batch int
	// Poll is how often the runner looks for due retries without a kick.
	Poll time.Duration
	// space tracks mail deferred for a full disk (space.go).
	space spaceWait
}

// NewRunner returns a runner; Run starts it. It registers the queue's
// metrics with opts.Registerer, so call it once per registry.
func NewRunner(store Store, d Deliverer, opts RunnerOptions) *Runner {
	opts.Policy = opts.Policy.withDefaults()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Hostname == "" {
		opts.Hostname = "localhost"
	}
	if opts.Owner == "" {
		opts.Owner = opts.Hostname
	}
	if opts.ClaimTTL <= 0 {
		opts.ClaimTTL = DefaultClaimTTL
	}
	if !opts.Local && !opts.Remote {
		opts.Local, opts.Remote = true, true
	}
	return &Runner{store: store, deliver: d, opts: opts, log: opts.Logger, now: opts.Now, kick: make(chan struct{}, 1),
		metrics: newRunnerMetrics(opts.Registerer, store, opts.Now), Batch: 256, Poll: 5 * time.Second}
}

// Kick wakes the runner, typically right after an Enqueue.
func (r *Runner) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is cancelled.
func (r *Runner) Run(ctx context.Context) {
	if n, err := r.store.ReleaseClaims(ctx, r.opts.Owner); err != nil {
		r.log.Error("queue release claims", "owner", r.opts.Owner, "err", err)
	} else if n > 0 {
		r.log.Info("queue: released claims of an earlier run", "owner", r.opts.Owner, "recipients", n)
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		case <-t.C:
		}
		for ctx.Err() == nil && r.Process(ctx) {
		}
		r.purge(ctx)
		t.Reset(r.Poll)
	}
}

// purge drops expired failure records, at most hourly.
func (r *Runner) purge(ctx context.Context) {
	now := r.now()
	if now.Sub(r.lastPurge) < time.Hour {
		return
	}
	r.lastPurge = now
	n, err := r.store.Purge(ctx, now.Add(-r.opts.Policy.KeepFailed))
	if err != nil {
		r.log.Error("queue purge", "err", err)
	} else if n > 0 {
		r.log.Info("queue purge", "messages", n)
	}
}

// Process attempts one batch of due messages and reports whether more may
// be due. Run calls it in a loop; tests call it directly with a fake clock.
func (r *Runner) Process(ctx context.Context) bool {
	r.space.retryIfBack(ctx, r)
	now := r.now()
	msgs, err := r.store.Due(ctx, r.claim(now))
	if err != nil {
		r.log.Error("queue due", "err", err)
		return false
	}
	if len(msgs) == 0 {
		return false
	}
	ready := msgs[:0]
	for _, m := range msgs {
		body, err := r.store.Body(ctx, m.ID)
		if err != nil {
			// Its claim lapses after ClaimTTL, and it is tried again.
			r.log.Error("queue body", "queue_id", m.ID, "err", err)
			continue
		}
		m.Body = body
		ready = append(ready, m)
	}
	results := r.deliver.Deliver(ctx, ready)
	r.schedule(ready, results, now)
	r.notify(ctx, ready, results, now)
	for _, res := range results {
		r.metrics.deliveries.WithLabelValues(string(res.Status)).Inc()
		r.log.Info("delivery", "queue_id", res.MessageID, "rcpt", res.Recipient, "status", res.Status, "err", res.Error)
	}
	if err := r.store.Complete(ctx, results); err != nil {
		// The deliveries happened; a retry is de-duplicated by delivery ID.
		r.log.Error("queue complete", "err", err)
		return false
	}
	return r.space.note(ready, results) || len(msgs) == r.Batch
}

// claim is the runner's request for a batch due at now.
func (r *Runner) claim(now time.Time) ClaimRequest {
	o := r.opts
	return ClaimRequest{Owner: o.Owner, Now: now, TTL: o.ClaimTTL, Limit: r.Batch, Local: o.Local, Remote: o.Remote}
}

// schedule stamps each result with the attempt time, sets the retry time of
// temporary failures by the policy, and fails those of messages older than
// MaxAge. Local failures (a mailstore down) take the same path: nothing
// bounces for a temporary reason before MaxAge.
func (r *Runner) schedule(msgs []*Message, results []Result, now time.Time) {
	byID := make(map[string]*Message, len(msgs))
	for _, m := range msgs {
		byID[m.ID] = m
	}
	for i := range results {
		res := &results[i]
		res.Attempted = now
		m := byID[res.MessageID]
		if m == nil {
			continue
		}
		switch res.Status {
		case Delivered:
			r.metrics.latency.Observe(now.Sub(m.Received).Seconds())
		case Pending:
			if now.Sub(m.Received) >= r.opts.Policy.MaxAge {
				// RFC 3463 §3.5: X.4.7 delivery time expired.
				res.Status = Failed
				res.Error = expiredText(res.Error)
				continue
			}
			if res.NextAttempt.IsZero() {
				res.NextAttempt = now.Add(r.opts.Policy.Backoff(attempts(m, res.Recipient)))
			}
		}
	}
}

// expiredPrefix starts the error of a recipient failed by MaxAge.
const expiredPrefix = "4.4.7 Delivery time expired"

func expiredText(last string) string {
	if last == "" {
		return expiredPrefix
	}
	return expiredPrefix + "; last error: " + last
}

func attempts(m *Message, rcpt string) int {
	for _, rc := range m.Recipients {
		if rc.Address == rcpt {
			return rc.Attempts
		}
	}
	return 0
}

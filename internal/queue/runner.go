package queue

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Deliverer attempts delivery of the pending recipients of msgs (bodies
// loaded) and returns one Result per recipient. Status Pending means retry.
type Deliverer interface {
	Deliver(ctx context.Context, msgs []*Message) []Result
}

// Runner is the delivery loop over a Store. One loop takes due messages in
// batches, so one mailstore commit covers many messages.
type Runner struct {
	store   Store
	deliver Deliverer
	log     *slog.Logger
	now     func() time.Time
	kick    chan struct{}
	metrics *runnerMetrics
	// Batch is the most messages attempted together.
	Batch int
	// Poll is how often the runner looks for due retries without a kick.
	Poll time.Duration
}

// NewRunner returns a runner; Run starts it. reg may be nil.
func NewRunner(store Store, d Deliverer, log *slog.Logger, reg prometheus.Registerer) *Runner {
	return &Runner{store: store, deliver: d, log: log, now: time.Now, kick: make(chan struct{}, 1),
		metrics: newRunnerMetrics(reg), Batch: 256, Poll: 5 * time.Second}
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
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		case <-t.C:
		}
		for ctx.Err() == nil && r.runOnce(ctx) {
		}
		t.Reset(r.Poll)
	}
}

// runOnce attempts one batch and reports whether there may be more due.
func (r *Runner) runOnce(ctx context.Context) bool {
	msgs, err := r.store.Due(ctx, r.now(), r.Batch)
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
			r.log.Error("queue body", "queue_id", m.ID, "err", err)
			continue
		}
		m.Body = body
		ready = append(ready, m)
	}
	results := r.deliver.Deliver(ctx, ready)
	attempts := map[[2]string]int{}
	received := map[string]time.Time{}
	for _, m := range ready {
		received[m.ID] = m.Received
		for _, rc := range m.Recipients {
			attempts[[2]string{m.ID, rc.Address}] = rc.Attempts
		}
	}
	for i := range results {
		res := &results[i]
		if res.Status == Pending && res.NextAttempt.IsZero() {
			res.NextAttempt = r.now().Add(Backoff(attempts[[2]string{res.MessageID, res.Recipient}]))
		}
		r.metrics.deliveries.WithLabelValues(string(res.Status)).Inc()
		if res.Status == Delivered {
			r.metrics.latency.Observe(r.now().Sub(received[res.MessageID]).Seconds())
		}
		r.log.Info("delivery", "queue_id", res.MessageID, "rcpt", res.Recipient, "status", res.Status, "err", res.Error)
	}
	if err := r.store.Complete(ctx, results); err != nil {
		// The deliveries happened; a retry is de-duplicated by delivery ID.
		r.log.Error("queue complete", "err", err)
		return false
	}
	return len(msgs) == r.Batch
}

// Backoff is the wait before retry number attempts+1: 30s doubling, capped
// at 30 minutes.
func Backoff(attempts int) time.Duration {
	d := 30 * time.Second
	for i := 0; i < attempts && d < 30*time.Minute; i++ {
		d *= 2
	}
	return min(d, 30*time.Minute)
}

type runnerMetrics struct {
	deliveries *prometheus.CounterVec
	latency    prometheus.Histogram
}

func newRunnerMetrics(reg prometheus.Registerer) *runnerMetrics {
	m := &runnerMetrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rookery_queue_deliveries_total",
			Help: "Delivery attempts per recipient, by resulting status (delivered, pending = retry, failed)."}, []string{"status"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rookery_delivery_latency_seconds",
			Help: "Time from acceptance to delivery into the mailbox.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 12)}),
	}
	if reg != nil {
		reg.MustRegister(m.deliveries, m.latency)
	}
	return m
}

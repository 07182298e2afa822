package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// blobCollector runs every open mailstore's CollectGarbage on a schedule
// ([mailstore] gc_interval, gc_grace), so expunged and deleted mail gives
// its disk space back, and every sweepEvery the full Sweep of an engine
// that has one, for blobs a crash left unlisted. The queue's spool is not
// a mailstore and not its business.
type blobCollector struct {
	stores     map[string]mailstore.Store
	interval   time.Duration
	grace      time.Duration
	sweepEvery time.Duration
	now        func() time.Time // tests move the clock past the grace
	log        *slog.Logger
	deleted    *prometheus.CounterVec // by mailstore and pass (collect, sweep)
	failed     *prometheus.CounterVec

	lastSweep time.Time
}

// newBlobCollector registers the collector's metrics with reg.
func newBlobCollector(c blobCollector, reg prometheus.Registerer) *blobCollector {
	c.deleted = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rookery_mailstore_blobs_deleted_total",
		Help: "Message bodies garbage collection deleted, by mailstore and pass (collect, sweep)."}, []string{"mailstore", "pass"})
	c.failed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rookery_mailstore_gc_failures_total",
		Help: "Garbage collection passes that failed, by mailstore and pass (collect, sweep)."}, []string{"mailstore", "pass"})
	reg.MustRegister(c.deleted, c.failed)
	return &c
}

// sweeper is an engine with a full walk of its blobs (sqlitestore.Sweep).
type sweeper interface {
	Sweep(ctx context.Context, grace time.Duration) (int, error)
}

// Run collects every interval until ctx ends. The first run is one
// interval after start: nothing orphaned since is past the grace yet.
func (c *blobCollector) Run(ctx context.Context) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	c.lastSweep = c.now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.collect(ctx)
		}
	}
}

// collect runs one collection on each store; a failing store is logged
// and tried again next time, without holding up the others.
func (c *blobCollector) collect(ctx context.Context) {
	now := c.now()
	sweep := now.Sub(c.lastSweep) >= c.sweepEvery
	if sweep {
		c.lastSweep = now
	}
	cutoff := now.Add(-c.grace)
	for name, st := range c.stores {
		if sw, ok := st.(sweeper); ok && sweep {
			n, err := sw.Sweep(ctx, c.grace)
			c.count(ctx, name, "sweep", n, err)
		}
		n, err := st.CollectGarbage(ctx, cutoff)
		c.count(ctx, name, "collect", n, err)
	}
}

// count records one pass's outcome; a pass cut short by shutdown is no
// failure.
func (c *blobCollector) count(ctx context.Context, store, pass string, deleted int, err error) {
	c.deleted.WithLabelValues(store, pass).Add(float64(deleted))
	if err != nil && ctx.Err() == nil {
		c.failed.WithLabelValues(store, pass).Inc()
		c.log.Error("mailstore garbage collection failed", "mailstore", store, "pass", pass, "deleted", deleted, "err", err)
	}
}

package server

import (
	"context"
	"log/slog"
	"time"

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

	lastSweep time.Time
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
			if n, err := sw.Sweep(ctx, c.grace); err != nil && ctx.Err() == nil {
				c.log.Error("mailstore blob sweep failed", "mailstore", name, "deleted", n, "err", err)
			}
		}
		n, err := st.CollectGarbage(ctx, cutoff)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Error("mailstore garbage collection failed", "mailstore", name, "deleted", n, "err", err)
			}
			continue
		}
		c.log.Debug("mailstore garbage collection", "mailstore", name, "deleted", n)
	}
}

package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// blobCollector runs every open mailstore's CollectGarbage on a schedule
// ([mailstore] gc_interval, gc_grace), so expunged and deleted mail gives
// its disk space back. It does not sweep for blobs a crash left behind
// (sqlitestore.Sweep); the queue's spool is not a mailstore and not its
// business.
type blobCollector struct {
	stores   map[string]mailstore.Store
	interval time.Duration
	grace    time.Duration
	now      func() time.Time // tests move the clock past the grace
	log      *slog.Logger
}

// Run collects every interval until ctx ends. The first run is one
// interval after start: nothing orphaned since is past the grace yet.
func (c *blobCollector) Run(ctx context.Context) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
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
	cutoff := c.now().Add(-c.grace)
	for name, st := range c.stores {
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

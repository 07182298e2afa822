// Package diskspace watches the free space of the file system holding the
// data directory. Below a reserve, background work (the full-text
// indexer) pauses so that what space is left goes to deliveries, which
// go on until the disk is truly full; when space comes back, the queue is
// told so that mail deferred for a full disk is retried at once.
package diskspace

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a Monitor. Zero values get the documented defaults.
type Options struct {
	Dir     string  // a directory on the file system to watch
	Reserve Reserve // the free space to keep
	// Interval is how often free space is measured; default 10s.
	Interval time.Duration
	// Free measures the file system holding dir: bytes available to this
	// process and its total size. The default is statfs; tests pass a fake.
	Free func(dir string) (avail, total uint64, err error)
	// OnReturn is called (from Run's goroutine) when free space has grown
	// since a measurement below the reserve, whether or not it is back
	// above it: writes that failed for want of space may succeed now.
	OnReturn   func()
	Logger     *slog.Logger
	Registerer prometheus.Registerer // may be nil
}

// Monitor measures free space periodically. Create it with New; Low is
// safe to call from any goroutine.
type Monitor struct {
	opts      Options
	metrics   *metrics
	low       atomic.Bool
	lastAvail uint64
	failing   bool // the last measurement failed (logged once)
}

// New returns a monitor; it measures nothing until Check or Run.
func New(opts Options) *Monitor {
	if opts.Interval <= 0 {
		opts.Interval = 10 * time.Second
	}
	if opts.Free == nil {
		opts.Free = statfs
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Monitor{opts: opts, metrics: newMetrics(opts.Registerer)}
}

// Low reports whether the last measurement was below the reserve:
// background work should wait.
func (m *Monitor) Low() bool { return m.low.Load() }

// Check measures once. A failed measurement changes nothing and is
// logged once until one succeeds.
func (m *Monitor) Check() {
	avail, total, err := m.opts.Free(m.opts.Dir)
	if err != nil {
		if !m.failing {
			m.opts.Logger.Warn("free space check failed", "dir", m.opts.Dir, "err", err)
		}
		m.failing = true
		return
	}
	m.failing = false
	reserve := m.opts.Reserve.bytesOf(total)
	m.metrics.free.Set(float64(avail))
	m.metrics.reserve.Set(float64(reserve))
	wasLow, grew := m.low.Load(), avail > m.lastAvail
	low := avail < reserve
	m.low.Store(low)
	m.lastAvail = avail
	switch {
	case low && !wasLow:
		m.opts.Logger.Warn("free space below the reserve: background work paused",
			"dir", m.opts.Dir, "avail", avail, "reserve", reserve)
	case !low && wasLow:
		m.opts.Logger.Info("free space above the reserve again: background work resumed",
			"dir", m.opts.Dir, "avail", avail, "reserve", reserve)
	}
	if wasLow && grew && m.opts.OnReturn != nil {
		m.opts.OnReturn()
	}
}

// Run checks at once and then every Interval until ctx ends.
func (m *Monitor) Run(ctx context.Context) {
	t := time.NewTicker(m.opts.Interval)
	defer t.Stop()
	for {
		m.Check()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

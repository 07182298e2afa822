// Package authlimittest has a fake clock for tests of login throttling,
// so delays of minutes run instantly.
package authlimittest

import (
	"context"
	"sync"
	"time"
)

// Clock is an authlimit.Clock under a test's control. Sleep adds up how
// long it was asked to sleep and moves the time forward by as much,
// unless the clock is frozen: then only Advance moves it, so parallel
// sleepers do not move each other's time.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	frozen bool
	slept  time.Duration
}

// New returns a running clock at a fixed date.
func New() *Clock { return &Clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

// NewFrozen returns a clock whose time moves only by Advance.
func NewFrozen() *Clock {
	c := New()
	c.frozen = true
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep returns at once: ctx.Err() if ctx has ended, else nil after
// counting d.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept += d
	if !c.frozen {
		c.now = c.now.Add(d)
	}
	return nil
}

// Advance moves the time forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Slept returns the total of all Sleeps.
func (c *Clock) Slept() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slept
}

package netserve

import (
	"fmt"
	"sync/atomic"
	"time"
)

// forceGrace is how long a shutdown past its deadline waits for the
// sessions it closed to return. One stuck in work that does not look at
// its context must not keep the process from exiting.
const forceGrace = 2 * time.Second

// Reporter is a Session that can log what it is doing; a shutdown past
// its deadline asks each session it closes, so an administrator learns
// what was still running.
type Reporter interface {
	ReportForced()
}

// force closes the sessions still running at the shutdown deadline (which
// cancels their work), waits forceGrace for them, and returns either way.
func (s *Server) force(done <-chan struct{}, cause error) error {
	s.mu.Lock()
	sessions := make([]Session, 0, len(s.sessions))
	for sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	s.mu.Unlock()
	for _, sess := range sessions {
		if r, ok := sess.(Reporter); ok {
			r.ReportForced()
		}
		sess.Close()
	}
	select {
	case <-done:
		return cause
	case <-time.After(forceGrace):
	}
	s.mu.Lock()
	n := len(s.sessions)
	s.mu.Unlock()
	return fmt.Errorf("%d sessions still running after being closed, left behind: %w", n, cause)
}

// Activity is what a session is doing, for its ReportForced; it is safe to
// read from the shutting-down goroutine while the session writes it.
type Activity struct{ p atomic.Pointer[activity] }

type activity struct {
	user, command string
	since         time.Time
}

// Set records the logged-in user and the command now running ("" between
// commands).
func (a *Activity) Set(user, command string) {
	a.p.Store(&activity{user: user, command: command, since: time.Now()})
}

// LogAttrs returns user, command and how long it has run, as slog
// key-value pairs.
func (a *Activity) LogAttrs() []any {
	v := a.p.Load()
	if v == nil {
		return []any{"user", "", "command", ""}
	}
	attrs := []any{"user", v.user, "command", v.command}
	if v.command != "" {
		attrs = append(attrs, "running", time.Since(v.since).Round(time.Millisecond))
	}
	return attrs
}

package netserve

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// wedged is a session stuck in work that ignores Shutdown and Close, like
// a command spinning in a loop that never looks at its context.
type wedged struct {
	release  chan struct{}
	reported *atomic.Int32
	c        net.Conn
}

func (w *wedged) Serve()        { <-w.release; w.c.Close() }
func (w *wedged) Shutdown()     {}
func (w *wedged) Close()        {}
func (w *wedged) ReportForced() { w.reported.Add(1) }

// TestShutdownDoesNotWaitForWedgedSessions: past its deadline Shutdown
// reports each session it closes and returns although one never ends.
func TestShutdownDoesNotWaitForWedgedSessions(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	reported := &atomic.Int32{}
	srv := New(func(c net.Conn) Session { return &wedged{release: release, reported: reported, c: c} }, Limits{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	dialN(t, l.Addr().String(), 1)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		srv.mu.Lock()
		n := len(srv.sessions)
		srv.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("session did not start")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	select {
	case err = <-done:
	case <-time.After(forceGrace + 10*time.Second):
		t.Fatal("Shutdown still waiting for a wedged session")
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "1 sessions still running") {
		t.Errorf("Shutdown = %v, want a deadline error naming 1 session", err)
	}
	if d := time.Since(start); d > forceGrace+5*time.Second {
		t.Errorf("Shutdown took %v", d)
	}
	if reported.Load() != 1 {
		t.Errorf("ReportForced called %d times, want 1", reported.Load())
	}
}

func TestActivityLogAttrs(t *testing.T) {
	var a Activity
	if got := a.LogAttrs(); len(got) != 4 {
		t.Errorf("empty activity: %v", got)
	}
	a.Set("alice", "LIST")
	got := a.LogAttrs()
	if len(got) != 6 || got[1] != "alice" || got[3] != "LIST" || got[4] != "running" {
		t.Errorf("activity attrs %v", got)
	}
}

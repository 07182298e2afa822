package imap

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// stuckStore is a store whose Mailboxes call works until its context
// ends, like a LIST over a huge hierarchy; it reports when it gave up.
type stuckStore struct {
	mailstore.Store
	started, ended chan struct{}
}

func (s *stuckStore) Mailboxes(ctx context.Context, user string) ([]mailstore.MailboxInfo, error) {
	s.started <- struct{}{}
	<-ctx.Done()
	s.ended <- struct{}{}
	return nil, ctx.Err()
}

// TestHangupStopsCommand: a client that starts a long command and hangs
// up has the command's work cancelled (issue #8: a LIST kept a core busy
// after its client left), and the session ends.
func TestHangupStopsCommand(t *testing.T) {
	stuck := &stuckStore{started: make(chan struct{}, 1), ended: make(chan struct{}, 1)}
	env := startServer(t, func(o *Options) {
		tb := o.Backend.(*testBackend)
		stuck.Store = tb.store
		tb.store = stuck
	})
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.send("L1 LIST \"\" \"*\"\r\n")
	select {
	case <-stuck.started:
	case <-time.After(10 * time.Second):
		t.Fatal("LIST did not reach the store")
	}
	c.c.Close()
	select {
	case <-stuck.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the command still runs 10s after its client hung up")
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		n := testutil.ToFloat64(env.srv.metrics.sessionsOpen)
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v sessions still open after the hang-up", n)
		}
	}
}

// TestInterruptedEvery: a loop learns of a cancelled session within
// interruptEvery iterations, and not before it is cancelled.
func TestInterruptedEvery(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{ctx: ctx}
	for i := range 3 * interruptEvery {
		if err := s.interrupted(i); err != nil {
			t.Fatalf("interrupted(%d) = %v before cancel", i, err)
		}
	}
	cancel()
	var n int
	for n = 0; s.interrupted(n) == nil; n++ {
	}
	if n > interruptEvery {
		t.Fatalf("noticed after %d iterations, want at most %d", n, interruptEvery)
	}
}

// wedgedStore is a store whose Mailboxes ignores its context until
// released: work that does not stop when asked.
type wedgedStore struct {
	mailstore.Store
	started chan struct{}
	release chan struct{}
}

func (s *wedgedStore) Mailboxes(ctx context.Context, user string) ([]mailstore.MailboxInfo, error) {
	s.started <- struct{}{}
	<-s.release
	return nil, ctx.Err()
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestShutdownDoesNotWaitForWedgedSessions: a session stuck in a command
// does not hold Shutdown past its deadline (issue #8 item 2); the log
// names its user and command.
func TestShutdownDoesNotWaitForWedgedSessions(t *testing.T) {
	wedged := &wedgedStore{started: make(chan struct{}, 1), release: make(chan struct{})}
	var logs syncBuffer
	env := startServer(t, func(o *Options) {
		tb := o.Backend.(*testBackend)
		wedged.Store = tb.store
		tb.store = wedged
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	defer close(wedged.release) // before the cleanup's Shutdown
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.send("L1 LIST \"\" \"*\"\r\n")
	<-wedged.started
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- env.srv.Shutdown(ctx) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown = %v, want a deadline error", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Shutdown still waits for a session stuck in LIST")
	}
	if l := logs.String(); !regexp.MustCompile(`imap session closed by forced shutdown.* remote=127\.0\.0\.1:\d+ user=alice command=LIST running=`).MatchString(l) {
		t.Errorf("no forced-shutdown line naming the session in the log:\n%s", l)
	}
}

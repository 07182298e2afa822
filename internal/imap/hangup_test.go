package imap

import (
	"context"
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

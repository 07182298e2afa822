package pop3

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// wedgedStore is a store whose OpenBlob ignores its context until
// released: work that does not stop when asked.
type wedgedStore struct {
	mailstore.Store
	started chan struct{}
	release chan struct{}
}

func (s *wedgedStore) OpenBlob(ctx context.Context, id string) (io.ReadCloser, error) {
	s.started <- struct{}{}
	<-s.release
	return nil, ctx.Err()
}

// TestShutdownDoesNotWaitForWedgedSessions: a POP3 session stuck in RETR
// does not hold Shutdown past its deadline (issue #8 item 2); the log
// names its user and command.
func TestShutdownDoesNotWaitForWedgedSessions(t *testing.T) {
	wedged := &wedgedStore{started: make(chan struct{}, 1), release: make(chan struct{})}
	var logs syncBuffer
	e := startServer(t, func(o *Options) {
		tb := o.Backend.(*testBackend)
		wedged.Store = tb.store
		tb.store = wedged
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	defer close(wedged.release) // before the cleanup's Shutdown
	e.appendMessage(t, "alice", testMsg)
	c := dialRaw(t, e.addr)
	c.login("alice")
	c.send("RETR 1\r\n")
	<-wedged.started
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.srv.Shutdown(ctx) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown = %v, want a deadline error", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Shutdown still waits for a session stuck in RETR")
	}
	if l := logs.String(); !regexp.MustCompile(`pop3 session closed by forced shutdown.* remote=127\.0\.0\.1:\d+ user=alice command=RETR running=`).MatchString(l) {
		t.Errorf("no forced-shutdown line naming the session in the log:\n%s", l)
	}
}

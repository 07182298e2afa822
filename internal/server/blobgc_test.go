package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

// cutoffStore records the cutoffs CollectGarbage is called with.
type cutoffStore struct {
	mailstore.Store
	mu      sync.Mutex
	cutoffs []time.Time
	err     error
}

func (s *cutoffStore) CollectGarbage(_ context.Context, orphanedBefore time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cutoffs = append(s.cutoffs, orphanedBefore)
	return 0, s.err
}

// sweepStore is a cutoffStore with a full sweep, counting sweeps.
type sweepStore struct {
	cutoffStore
	sweeps int
}

func (s *sweepStore) Sweep(_ context.Context, grace time.Duration) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweeps++
	return 0, nil
}

func (s *cutoffStore) calls() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.cutoffs...)
}

// TestBlobCollectorSchedule: every store is collected each interval with
// the cutoff now - grace, a failing store does not stop the others, and
// Run returns when its context ends.
func TestBlobCollectorSchedule(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	good, failing := &sweepStore{}, &cutoffStore{err: errors.New("disk on fire")}
	c := newBlobCollector(blobCollector{stores: map[string]mailstore.Store{"good": good, "failing": failing},
		interval: 10 * time.Millisecond, grace: time.Hour, sweepEvery: 24 * time.Hour, now: func() time.Time { return now },
		log: slog.New(slog.NewTextHandler(testWriter{t}, nil))}, prometheus.NewRegistry())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(good.calls()) < 3 || len(failing.calls()) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("collections after 10s: good %d, failing %d; want 3 each", len(good.calls()), len(failing.calls()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	for _, got := range append(good.calls(), failing.calls()...) {
		if want := now.Add(-time.Hour); !got.Equal(want) {
			t.Errorf("cutoff %v, want now - grace = %v", got, want)
		}
	}
	if good.sweeps != 0 {
		t.Errorf("swept %d times before the sweep interval", good.sweeps)
	}
	// A day later (fake clock): one sweep, then none until the next day.
	now = now.Add(24 * time.Hour)
	c.collect(context.Background())
	c.collect(context.Background())
	if good.sweeps != 1 {
		t.Errorf("swept %d times in the day after the sweep interval, want 1", good.sweeps)
	}
	if n := testutil.ToFloat64(c.failed.WithLabelValues("failing", "collect")); n < 3 {
		t.Errorf("rookery_mailstore_gc_failures_total of the failing store = %v, want at least 3", n)
	}
	if n := testutil.ToFloat64(c.failed.WithLabelValues("good", "collect")); n != 0 {
		t.Errorf("rookery_mailstore_gc_failures_total of the good store = %v", n)
	}
}

// TestNodeCollectsExpungedBodies: a running node deletes the body of a
// message expunged over IMAP on its own once the grace period is over.
func TestNodeCollectsExpungedBodies(t *testing.T) {
	ctx := context.Background()
	e := startEnvWith(t, func(c *config.Config) { c.Mailstore.GCInterval.Duration = 20 * time.Millisecond }, func(srv *Server) {
		srv.gc.now = func() time.Time { return time.Now().Add(srv.cfg.Mailstore.GCGrace.Duration + time.Minute) }
	})
	srv, cfg := e.srv, e.cfg

	c := imapLogin(t, srv.Addr("imap").String(), "alice@example.test", nil)
	msg := "Subject: gone\r\n\r\nsoon\r\n"
	app := c.Append("INBOX", int64(len(msg)), nil)
	if _, err := io.WriteString(app, msg); err != nil {
		t.Fatal(err)
	}
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Wait(); err != nil {
		t.Fatalf("APPEND: %v", err)
	}
	st := srv.stores[config.DefaultMailstore]
	inbox, err := st.Mailbox(ctx, "alice@example.test", mailstore.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := st.Messages(ctx, "alice@example.test", inbox.ID)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Messages = %+v, %v", msgs, err)
	}
	id := msgs[0].BlobID
	file := filepath.Join(cfg.DataDir, "mailstores", config.DefaultMailstore, "blobs", id[:2], id[2:4], id)
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("body file: %v", err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatalf("STORE: %v", err)
	}
	if _, err := c.Expunge().Collect(); err != nil {
		t.Fatalf("EXPUNGE: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := os.Stat(file)
		// The counter moves just after the file goes.
		if errors.Is(err, os.ErrNotExist) && testutil.ToFloat64(srv.gc.deleted.WithLabelValues(config.DefaultMailstore, "collect")) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("expunged message's body still on disk 10s later")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := testutil.ToFloat64(srv.gc.deleted.WithLabelValues(config.DefaultMailstore, "collect")); n != 1 {
		t.Errorf("rookery_mailstore_blobs_deleted_total = %v, want 1", n)
	}
}

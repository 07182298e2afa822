// Package queuetest is the conformance suite of queue.Store: every engine's
// tests call Run, and an engine is done when the suite passes.
package queuetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/queue"
)

// Opener makes a new empty store for one test and returns a function that
// opens a handle on it. Each call opens another handle on the same store,
// as a second process or node would; the suite closes every handle.
type Opener func(t *testing.T) (open func() queue.Store)

// Run runs the suite.
func Run(t *testing.T, newStore Opener) {
	single := []struct {
		name string
		f    func(*testing.T, queue.Store)
	}{
		{"HoldRelease", testHoldRelease},
		{"UnknownID", testUnknownID},
		{"RetryNowWarnedDelete", testRetryNowWarnedDelete},
		{"StatsPurge", testStatsPurge},
		{"RequireTLS", testRequireTLS},
		{"Lifecycle", testLifecycle},
		{"DueOrderAndLimit", testDueOrderAndLimit},
		{"ConcurrentEnqueue", testConcurrentEnqueue},
		{"ClaimKinds", testClaimKinds},
		{"ClaimHoldRetry", testClaimHoldRetry},
		{"ClaimDelete", testClaimDelete},
	}
	for _, tt := range single {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)()
			defer s.Close()
			tt.f(t, s)
		})
	}
	// These take two handles on one store, as two nodes sharing a queue.
	shared := []struct {
		name string
		f    func(t *testing.T, a, b queue.Store)
	}{
		{"ClaimExclusive", testClaimExclusive},
		{"ClaimExpiry", testClaimExpiry},
		{"ReleaseClaims", testReleaseClaims},
		{"ConcurrentClaims", testConcurrentClaims},
		{"RunnersExactlyOnce", testRunnersExactlyOnce},
		{"DeadRunner", testDeadRunner},
	}
	for _, tt := range shared {
		t.Run(tt.name, func(t *testing.T) {
			open := newStore(t)
			a := open()
			defer a.Close()
			b := open()
			defer b.Close()
			tt.f(t, a, b)
		})
	}
}

// peek returns what is due at now for every kind of recipient without
// keeping it from anyone: its claims end at now (a zero TTL).
func peek(t *testing.T, s queue.Store, now time.Time, limit int) []*queue.Message {
	t.Helper()
	due, err := s.Due(context.Background(), queue.ClaimRequest{Owner: "peek", Now: now, Limit: limit, Local: true, Remote: true})
	if err != nil {
		t.Fatalf("Due: %v", err)
	}
	return due
}

func message(id string, received time.Time, rcpts ...string) *queue.Message {
	m := &queue.Message{ID: id, From: "s@remote.test", Received: received, Body: []byte("Subject: x\r\n\r\nx\r\n")}
	for _, r := range rcpts {
		m.Recipients = append(m.Recipients, queue.Recipient{Address: r, Orig: r})
	}
	return m
}

func enqueue(t *testing.T, s queue.Store, msgs ...*queue.Message) {
	t.Helper()
	for _, m := range msgs {
		if err := s.Enqueue(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
}

func testHoldRelease(t *testing.T, s queue.Store) {
	ctx := context.Background()
	now := time.Now()
	enqueue(t, s, message("h1", now, "a@x.test"))
	if err := s.Hold(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	if due := peek(t, s, now.Add(time.Hour), 10); len(due) != 0 {
		t.Fatalf("a held message is never due: %+v", due)
	}
	if got, err := s.Get(ctx, "h1"); err != nil || !got.Held || len(got.Recipients) != 1 || got.Body != nil {
		t.Fatalf("Get = %+v, %v; want held, one recipient, no body", got, err)
	}
	if err := s.Release(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	if due := peek(t, s, now.Add(time.Hour), 10); len(due) != 1 {
		t.Fatalf("released: due = %+v", due)
	}
}

func testUnknownID(t *testing.T, s queue.Store) {
	ctx := context.Background()
	for name, f := range map[string]func(context.Context, string) error{
		"Hold": s.Hold, "Release": s.Release, "Delete": s.Delete, "RetryNow": s.RetryNow, "MarkWarned": s.MarkWarned,
		"Get": func(ctx context.Context, id string) error { _, err := s.Get(ctx, id); return err },
	} {
		if err := f(ctx, "nope"); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("%s(unknown) = %v, want ErrNotFound", name, err)
		}
	}
}

func testRetryNowWarnedDelete(t *testing.T, s queue.Store) {
	ctx := context.Background()
	now := time.Now()
	enqueue(t, s, message("r1", now, "a@x.test", "b@x.test"))
	err := s.Complete(ctx, []queue.Result{
		{MessageID: "r1", Recipient: "a@x.test", Status: queue.Pending, Error: "451 4.3.0 later", NextAttempt: now.Add(time.Hour), Attempted: now},
		{MessageID: "r1", Recipient: "b@x.test", Status: queue.Failed, Error: "550 5.1.1 no", Attempted: now},
	})
	if err != nil {
		t.Fatal(err)
	}
	if due := peek(t, s, now, 10); len(due) != 0 {
		t.Fatal("deferred recipient due early")
	}
	if err := s.RetryNow(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	due := peek(t, s, time.Now(), 10)
	if len(due) != 1 || len(due[0].Recipients) != 1 || due[0].Recipients[0].Address != "a@x.test" {
		t.Fatalf("after RetryNow only the pending recipient is due: %+v", due)
	}
	if err := s.MarkWarned(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "r1")
	if err != nil || !got.Warned || len(got.Recipients) != 2 {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	for _, rc := range got.Recipients {
		if rc.Address == "b@x.test" && (rc.Status != queue.Failed || rc.LastError != "550 5.1.1 no" || !rc.LastAttempt.Equal(now)) {
			t.Fatalf("failed recipient %+v", rc)
		}
	}
	if err := s.Delete(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.List(ctx); len(all) != 0 {
		t.Fatalf("deleted: %+v", all)
	}
	if _, err := s.Body(ctx, "r1"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Body after Delete: %v", err)
	}
}

func testStatsPurge(t *testing.T, s queue.Store) {
	ctx := context.Background()
	if st, err := s.Stats(ctx); err != nil || st != (queue.Stats{}) {
		t.Fatalf("empty Stats = %+v, %v", st, err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	enqueue(t, s, message("s1", t0, "a@x.test", "b@x.test"), message("s2", t0.Add(time.Hour), "c@x.test"),
		message("s3", t0.Add(2*time.Hour), "d@x.test"))
	s.Hold(ctx, "s1")
	s.Complete(ctx, []queue.Result{{MessageID: "s3", Recipient: "d@x.test", Status: queue.Failed, Error: "550", Attempted: t0.Add(3 * time.Hour)}})
	st, err := s.Stats(ctx)
	if err != nil || st.Messages != 2 || st.Held != 1 || st.Recipients != 3 || st.Failed != 1 || !st.Oldest.Equal(t0.Add(time.Hour)) {
		t.Fatalf("Stats = %+v, %v; want 2 messages, 1 held, 3 recipients, 1 failed, oldest unheld at +1h", st, err)
	}
	if n, err := s.Purge(ctx, t0.Add(3*time.Hour)); err != nil || n != 0 {
		t.Fatalf("Purge before the failure = %d, %v", n, err)
	}
	if n, err := s.Purge(ctx, t0.Add(4*time.Hour)); err != nil || n != 1 {
		t.Fatalf("Purge after the failure = %d, %v; want 1", n, err)
	}
	if _, err := s.Get(ctx, "s3"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatal("purged message still there")
	}
	if all, _ := s.List(ctx); len(all) != 2 {
		t.Fatalf("Purge must keep messages with pending recipients: %d left", len(all))
	}
}

// testRequireTLS: the REQUIRETLS mark survives the store, as outbound reads
// it from Due to refuse plaintext delivery (RFC 8689).
func testRequireTLS(t *testing.T, s queue.Store) {
	ctx := context.Background()
	now := time.Now()
	m := message("t1", now, "a@x.test")
	m.RequireTLS = true
	enqueue(t, s, m, message("t2", now.Add(time.Second), "b@x.test"))
	due := peek(t, s, now.Add(time.Hour), 10)
	if len(due) != 2 || !due[0].RequireTLS || due[1].RequireTLS {
		t.Fatalf("Due = %+v; want t1 with RequireTLS, t2 without", due)
	}
	if got, err := s.Get(ctx, "t1"); err != nil || !got.RequireTLS {
		t.Fatalf("Get = %+v, %v; want RequireTLS", got, err)
	}
}

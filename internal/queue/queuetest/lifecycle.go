package queuetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/queue"
)

// testLifecycle follows one message from Enqueue through a partial
// delivery and a retry to removal: Due hands out only due recipients and
// no body, a Pending result is due again exactly at its NextAttempt with
// the attempt counted, and the last Delivered result removes the message.
func testLifecycle(t *testing.T, s queue.Store) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	m := message("", now, "a@x.test", "b@remote.test")
	m.Recipients[1].Remote = true
	enqueue(t, s, m)
	if m.ID == "" {
		t.Fatal("Enqueue assigned no ID")
	}
	due, err := s.Due(ctx, claimAll("r1", now, time.Minute))
	if err != nil || len(due) != 1 || len(due[0].Recipients) != 2 {
		t.Fatalf("Due after Enqueue = %+v, %v; want the message with 2 recipients", due, err)
	}
	if rc := due[0].Recipients[0]; rc.ClaimOwner != "r1" || !rc.ClaimUntil.Equal(now.Add(time.Minute)) {
		t.Fatalf("claimed recipient = %+v; want claimed by r1 until now+1m", rc)
	}
	if d := due[0]; d.ID != m.ID || d.From != m.From || d.Body != nil || !d.Recipients[1].Remote {
		t.Fatalf("Due message = %+v; want ID %s, From %s, no body, the remote mark kept", d, m.ID, m.From)
	}
	if body, err := s.Body(ctx, m.ID); err != nil || string(body) != string(m.Body) {
		t.Fatalf("Body = %q, %v", body, err)
	}
	retry := now.Add(10 * time.Minute)
	if err := s.Complete(ctx, []queue.Result{
		{MessageID: m.ID, Recipient: "a@x.test", Status: queue.Delivered, Attempted: now},
		{MessageID: m.ID, Recipient: "b@remote.test", Status: queue.Pending, Error: "451 try later", NextAttempt: retry, Attempted: now},
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, m.ID); err != nil || len(got.Recipients) != 2 || got.Recipients[1].ClaimOwner != "" || !got.Recipients[1].ClaimUntil.IsZero() {
		t.Fatalf("Get after Complete = %+v, %v; Complete must end the claims", got, err)
	}
	if due := peek(t, s, retry.Add(-time.Second), 10); len(due) != 0 {
		t.Fatalf("due before its NextAttempt: %+v", due)
	}
	// A claim by another runner: Complete ended r1's claim, so r2 may take it.
	due, err = s.Due(ctx, claimAll("r2", retry, time.Minute))
	if err != nil || len(due) != 1 || len(due[0].Recipients) != 1 {
		t.Fatalf("Due at NextAttempt = %+v, %v; want only the pending recipient", due, err)
	}
	if r := due[0].Recipients[0]; r.Address != "b@remote.test" || r.Attempts != 1 || r.LastError != "451 try later" {
		t.Fatalf("pending recipient = %+v; want 1 attempt and the last error", r)
	}
	if err := s.Complete(ctx, []queue.Result{{MessageID: m.ID, Recipient: "b@remote.test", Status: queue.Delivered, Attempted: retry}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, m.ID); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Get after every recipient was delivered = %v, want ErrNotFound", err)
	}
	if st, err := s.Stats(ctx); err != nil || st.Messages != 0 || st.Failed != 0 {
		t.Fatalf("Stats after delivery = %+v, %v; want an empty queue", st, err)
	}
}

// testDueOrderAndLimit: Due returns the oldest messages first and no more
// than limit, so a backlog drains in arrival order.
func testDueOrderAndLimit(t *testing.T, s queue.Store) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	var ids []string
	for i := range 5 {
		m := message("", now.Add(time.Duration(i)*time.Second), fmt.Sprintf("r%d@x.test", i))
		enqueue(t, s, m)
		ids = append(ids, m.ID)
	}
	first := claimAll("r1", now.Add(time.Minute), time.Hour)
	first.Limit = 3
	due, err := s.Due(ctx, first)
	if err != nil || len(due) != 3 {
		t.Fatalf("Due(limit 3) = %d messages, %v", len(due), err)
	}
	for i, m := range due {
		if m.ID != ids[i] {
			t.Errorf("Due[%d] = %s, want %s (oldest first)", i, m.ID, ids[i])
		}
	}
	// The rest of the backlog is for the next claim.
	due, err = s.Due(ctx, claimAll("r1", now.Add(time.Minute), time.Hour))
	if err != nil || len(due) != 2 || due[0].ID != ids[3] || due[1].ID != ids[4] {
		t.Fatalf("second Due = %+v, %v; want the two messages not yet claimed", due, err)
	}
}

// testConcurrentEnqueue: concurrent Enqueues (which engines may group into
// one commit) each get their own ID and are all stored with their bodies.
func testConcurrentEnqueue(t *testing.T, s queue.Store) {
	ctx := context.Background()
	const n = 32
	msgs := make([]*queue.Message, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range msgs {
		msgs[i] = message("", time.Now(), fmt.Sprintf("r%d@x.test", i))
		msgs[i].Body = fmt.Appendf(nil, "Subject: %d\r\n\r\nbody %d\r\n", i, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Enqueue(ctx, msgs[i])
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, m := range msgs {
		if errs[i] != nil {
			t.Fatalf("Enqueue %d: %v", i, errs[i])
		}
		if seen[m.ID] {
			t.Fatalf("ID %s assigned twice", m.ID)
		}
		seen[m.ID] = true
		if body, err := s.Body(ctx, m.ID); err != nil || string(body) != string(m.Body) {
			t.Errorf("Body(%s) = %q, %v; want %q", m.ID, body, err, m.Body)
		}
	}
	if st, err := s.Stats(ctx); err != nil || st.Messages != n || st.Recipients != n {
		t.Errorf("Stats = %+v, %v; want %d messages and recipients", st, err, n)
	}
}

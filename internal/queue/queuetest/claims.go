package queuetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/queue"
)

// claimAll asks for up to 10 messages of every kind for owner.
func claimAll(owner string, now time.Time, ttl time.Duration) queue.ClaimRequest {
	return queue.ClaimRequest{Owner: owner, Now: now, TTL: ttl, Limit: 10, Local: true, Remote: true}
}

// claimed returns "id rcpt" for every recipient in msgs.
func claimed(msgs []*queue.Message) []string {
	var out []string
	for _, m := range msgs {
		for _, rc := range m.Recipients {
			out = append(out, m.ID+" "+rc.Address)
		}
	}
	return out
}

// testClaimExclusive: what one handle claimed, another handle of the same
// store (another node) does not get until the claim is completed, and
// Get shows who holds the claim.
func testClaimExclusive(t *testing.T, a, b queue.Store) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	enqueue(t, a, message("c1", now, "a@x.test", "b@x.test"), message("c2", now.Add(time.Second), "c@x.test"))
	due, err := a.Due(ctx, claimAll("node-a", now.Add(time.Minute), 10*time.Minute))
	if got := claimed(due); err != nil || len(got) != 3 {
		t.Fatalf("node-a claimed %v, %v; want all 3 recipients", got, err)
	}
	for _, at := range []time.Duration{time.Minute, 10*time.Minute + time.Minute - time.Nanosecond} {
		if due, err := b.Due(ctx, claimAll("node-b", now.Add(at), 10*time.Minute)); err != nil || len(due) != 0 {
			t.Fatalf("node-b at +%v claimed %v, %v; node-a's claims last until +11m", at, claimed(due), err)
		}
	}
	if due, err := a.Due(ctx, claimAll("node-a", now.Add(time.Minute), 10*time.Minute)); err != nil || len(due) != 0 {
		t.Fatalf("node-a claimed its own claims again: %v, %v", claimed(due), err)
	}
	got, err := b.Get(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range got.Recipients {
		if rc.ClaimOwner != "node-a" || !rc.ClaimUntil.Equal(now.Add(11*time.Minute)) {
			t.Fatalf("Get shows recipient %+v; want claimed by node-a until +11m", rc)
		}
	}
	// node-a defers one recipient: once due, node-b may take it, alone.
	retry := now.Add(2 * time.Minute)
	if err := a.Complete(ctx, []queue.Result{
		{MessageID: "c1", Recipient: "a@x.test", Status: queue.Delivered, Attempted: now},
		{MessageID: "c1", Recipient: "b@x.test", Status: queue.Pending, NextAttempt: retry, Attempted: now},
	}); err != nil {
		t.Fatal(err)
	}
	due, err = b.Due(ctx, claimAll("node-b", retry, 10*time.Minute))
	if got := claimed(due); err != nil || len(got) != 1 || got[0] != "c1 b@x.test" {
		t.Fatalf("node-b claimed %v, %v; want only c1 b@x.test (c2 is still node-a's)", got, err)
	}
}

// testClaimExpiry: a claim never completed (its runner died) lapses at
// Now+TTL; then another runner claims the recipient, with no attempt
// counted for the dead one.
func testClaimExpiry(t *testing.T, a, b queue.Store) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	ttl := 5 * time.Minute
	enqueue(t, a, message("e1", now, "a@x.test"))
	if due, err := a.Due(ctx, claimAll("dead", now, ttl)); err != nil || len(due) != 1 {
		t.Fatalf("claim = %v, %v", claimed(due), err)
	}
	if due, err := b.Due(ctx, claimAll("alive", now.Add(ttl-time.Nanosecond), ttl)); err != nil || len(due) != 0 {
		t.Fatalf("claimed before the claim ended: %v, %v", claimed(due), err)
	}
	due, err := b.Due(ctx, claimAll("alive", now.Add(ttl), ttl))
	if err != nil || len(due) != 1 || len(due[0].Recipients) != 1 {
		t.Fatalf("after the claim ended: %v, %v; want e1 again", claimed(due), err)
	}
	if rc := due[0].Recipients[0]; rc.ClaimOwner != "alive" || rc.Attempts != 0 || !rc.ClaimUntil.Equal(now.Add(2*ttl)) {
		t.Fatalf("taken over: %+v; want owner alive until +2 TTL, no attempt counted", rc)
	}
	if due, err := a.Due(ctx, claimAll("dead", now.Add(ttl+time.Minute), ttl)); err != nil || len(due) != 0 {
		t.Fatalf("the new claim is exclusive too: %v, %v", claimed(due), err)
	}
	if err := b.Complete(ctx, []queue.Result{{MessageID: "e1", Recipient: "a@x.test", Status: queue.Delivered, Attempted: now.Add(ttl)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get(ctx, "e1"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Get after delivery = %v, want ErrNotFound", err)
	}
}

// testClaimKinds: a runner claims only the kinds of recipient it asks for
// (local, remote), so a node without the outbound role never takes remote
// mail, and two runners of different kinds share one message.
func testClaimKinds(t *testing.T, s queue.Store) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	mixed := message("k1", now, "local@x.test", "far@remote.test")
	mixed.Recipients[1].Remote = true
	remote := message("k2", now.Add(time.Second), "far2@remote.test")
	remote.Recipients[0].Remote = true
	enqueue(t, s, mixed, remote)
	if due, err := s.Due(ctx, queue.ClaimRequest{Owner: "none", Now: now.Add(time.Minute), TTL: time.Hour, Limit: 10}); err != nil || len(due) != 0 {
		t.Fatalf("a claim of no kind took %v, %v", claimed(due), err)
	}
	local := queue.ClaimRequest{Owner: "store-node", Now: now.Add(time.Minute), TTL: time.Hour, Limit: 10, Local: true}
	due, err := s.Due(ctx, local)
	if got := claimed(due); err != nil || len(got) != 1 || got[0] != "k1 local@x.test" {
		t.Fatalf("local claim = %v, %v; want only k1 local@x.test", got, err)
	}
	if due, err := s.Due(ctx, local); err != nil || len(due) != 0 {
		t.Fatalf("second local claim = %v, %v; want nothing", claimed(due), err)
	}
	out := queue.ClaimRequest{Owner: "outbound-node", Now: now.Add(time.Minute), TTL: time.Hour, Limit: 10, Remote: true}
	due, err = s.Due(ctx, out)
	if got := claimed(due); err != nil || len(got) != 2 || got[0] != "k1 far@remote.test" || got[1] != "k2 far2@remote.test" {
		t.Fatalf("remote claim = %v, %v; want k1 far@remote.test and k2 far2@remote.test", got, err)
	}
	if !due[0].Recipients[0].Remote {
		t.Fatalf("remote mark lost: %+v", due[0].Recipients[0])
	}
}

// testClaimHoldRetry defines how administration meets claims: Hold keeps
// a message from being claimed but lets a claim under way complete;
// RetryNow makes a deferred recipient due but never takes a claimed one
// from its runner.
func testClaimHoldRetry(t *testing.T, s queue.Store) {
	ctx := context.Background()
	now := time.Now()
	enqueue(t, s, message("h1", now.Add(-time.Hour), "a@x.test", "b@x.test"))
	if due, err := s.Due(ctx, claimAll("r1", now, time.Hour)); err != nil || len(claimed(due)) != 2 {
		t.Fatalf("claim = %v, %v", claimed(due), err)
	}
	if err := s.Hold(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	// RetryNow on a claimed recipient: still the runner's.
	if err := s.RetryNow(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	if due, err := s.Due(ctx, claimAll("r2", time.Now(), time.Hour)); err != nil || len(due) != 0 {
		t.Fatalf("claimed recipients taken by RetryNow/Release: %v, %v", claimed(due), err)
	}
	if err := s.Hold(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	far := now.Add(24 * time.Hour)
	if err := s.Complete(ctx, []queue.Result{
		{MessageID: "h1", Recipient: "a@x.test", Status: queue.Pending, Error: "451 later", NextAttempt: far, Attempted: now},
		{MessageID: "h1", Recipient: "b@x.test", Status: queue.Pending, Error: "451 later", NextAttempt: far, Attempted: now},
	}); err != nil {
		t.Fatalf("Complete of a claim on a message held meanwhile: %v", err)
	}
	got, err := s.Get(ctx, "h1")
	if err != nil || !got.Held || got.Recipients[0].Attempts != 1 || got.Recipients[0].LastError != "451 later" {
		t.Fatalf("Get = %+v, %v; want held, the attempt recorded", got, err)
	}
	if due := peek(t, s, far.Add(time.Hour), 10); len(due) != 0 {
		t.Fatalf("held message claimed: %v", claimed(due))
	}
	if err := s.Release(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	if due := peek(t, s, time.Now(), 10); len(due) != 0 {
		t.Fatalf("deferred recipients due before RetryNow: %v", claimed(due))
	}
	if err := s.RetryNow(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	if due, err := s.Due(ctx, claimAll("r2", time.Now().Add(time.Second), time.Hour)); err != nil || len(claimed(due)) != 2 {
		t.Fatalf("after RetryNow = %v, %v; want both recipients", claimed(due), err)
	}
}

// testClaimDelete: a message deleted while a runner holds a claim is gone
// for good; the runner's Complete is ignored, not an error and not a
// resurrection.
func testClaimDelete(t *testing.T, s queue.Store) {
	ctx := context.Background()
	now := time.Now()
	enqueue(t, s, message("d1", now, "a@x.test"))
	if due, err := s.Due(ctx, claimAll("r1", now, time.Hour)); err != nil || len(due) != 1 {
		t.Fatalf("claim = %v, %v", claimed(due), err)
	}
	if err := s.Delete(ctx, "d1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, []queue.Result{{MessageID: "d1", Recipient: "a@x.test", Status: queue.Pending, NextAttempt: now, Attempted: now}}); err != nil {
		t.Fatalf("Complete after Delete = %v, want nil", err)
	}
	if _, err := s.Get(ctx, "d1"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Get after Delete and Complete = %v, want ErrNotFound", err)
	}
	if all, err := s.List(ctx); err != nil || len(all) != 0 {
		t.Fatalf("List = %d messages, %v; want none", len(all), err)
	}
}

// testConcurrentClaims hammers one store from two handles: many goroutines
// on each claim small batches and complete them. Every recipient must be
// handed out exactly once, and all of them.
func testConcurrentClaims(t *testing.T, a, b queue.Store) {
	ctx := context.Background()
	now := time.Now()
	const messages, perHandle = 150, 6
	want := map[string]bool{}
	var msgs []*queue.Message
	for i := range messages {
		rcpts := []string{fmt.Sprintf("r%d@x.test", i)}
		if i%3 == 0 {
			rcpts = append(rcpts, fmt.Sprintf("s%d@remote.test", i))
		}
		m := message(fmt.Sprintf("m%03d", i), now.Add(-time.Duration(messages-i)*time.Millisecond), rcpts...)
		if i%3 == 0 {
			m.Recipients[1].Remote = true
		}
		msgs = append(msgs, m)
		for _, r := range rcpts {
			want[m.ID+" "+r] = true
		}
	}
	enqueue(t, a, msgs...)
	var (
		mu      sync.Mutex
		got     = map[string]string{} // recipient → claimer
		dups    []string
		total   atomic.Int64
		wg      sync.WaitGroup
		errs    = make(chan error, 2*perHandle)
		timeout = time.Now().Add(time.Minute)
	)
	for h, s := range []queue.Store{a, b} {
		for g := range perHandle {
			wg.Add(1)
			go func() {
				defer wg.Done()
				owner := fmt.Sprintf("h%d-g%d", h, g)
				for total.Load() < int64(len(want)) {
					if time.Now().After(timeout) {
						errs <- fmt.Errorf("%s: timed out with %d of %d claimed", owner, total.Load(), len(want))
						return
					}
					due, err := s.Due(ctx, queue.ClaimRequest{Owner: owner, Now: time.Now(), TTL: time.Hour, Limit: 4, Local: true, Remote: true})
					if err != nil {
						errs <- fmt.Errorf("%s: Due: %w", owner, err)
						return
					}
					var results []queue.Result
					mu.Lock()
					for _, m := range due {
						for _, rc := range m.Recipients {
							k := m.ID + " " + rc.Address
							if prev, dup := got[k]; dup {
								dups = append(dups, k+" by "+prev+" and "+owner)
							}
							got[k] = owner
							results = append(results, queue.Result{MessageID: m.ID, Recipient: rc.Address, Status: queue.Delivered, Attempted: now})
						}
					}
					mu.Unlock()
					total.Add(int64(len(results)))
					if err := s.Complete(ctx, results); err != nil {
						errs <- fmt.Errorf("%s: Complete: %w", owner, err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(dups) > 0 {
		t.Fatalf("%d recipients claimed twice, e.g. %v", len(dups), dups[:min(len(dups), 5)])
	}
	for k := range want {
		if got[k] == "" {
			t.Errorf("%s never claimed", k)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d recipients claimed, want %d", len(got), len(want))
	}
	if all, err := b.List(ctx); err != nil || len(all) != 0 {
		t.Errorf("List after every delivery = %d messages, %v; want none", len(all), err)
	}
}

// testReleaseClaims: a restarted node ends the claims under its name at
// once; other nodes' claims stay.
func testReleaseClaims(t *testing.T, a, b queue.Store) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	enqueue(t, a, message("r1", now, "a@x.test"), message("r2", now.Add(time.Second), "b@x.test"))
	if due, err := a.Due(ctx, queue.ClaimRequest{Owner: "node-a", Now: now.Add(time.Minute), TTL: time.Hour, Limit: 1, Local: true, Remote: true}); err != nil || len(due) != 1 {
		t.Fatalf("node-a claimed %v, %v; want r1", claimed(due), err)
	}
	if due, err := b.Due(ctx, queue.ClaimRequest{Owner: "node-b", Now: now.Add(time.Minute), TTL: time.Hour, Limit: 1, Local: true, Remote: true}); err != nil || len(due) != 1 {
		t.Fatalf("node-b claimed %v, %v; want r2", claimed(due), err)
	}
	if n, err := b.ReleaseClaims(ctx, "node-a"); err != nil || n != 1 {
		t.Fatalf("release node-a's claims: %d, %v; want 1", n, err)
	}
	due, err := a.Due(ctx, claimAll("node-c", now.Add(time.Minute), time.Hour))
	if got := claimed(due); err != nil || len(got) != 1 || got[0] != "r1 a@x.test" {
		t.Fatalf("after the release node-c claimed %v, %v; want only r1 (r2 is still node-b's)", got, err)
	}
	if n, err := a.ReleaseClaims(ctx, "node-a"); err != nil || n != 0 {
		t.Fatalf("second release: %d, %v; want 0", n, err)
	}
}

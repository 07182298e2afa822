package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/queue"
)

// diskDeliverer fails local deliveries with a full disk while full is set.
type diskDeliverer struct {
	full     bool
	attempts int
}

func (d *diskDeliverer) Deliver(_ context.Context, msgs []*queue.Message) []queue.Result {
	var out []queue.Result
	for _, m := range msgs {
		for _, rc := range m.Recipients {
			d.attempts++
			r := queue.Result{MessageID: m.ID, Recipient: rc.Address, Status: queue.Delivered}
			if d.full {
				r.Status, r.Error, r.NoSpace = queue.Pending, "452 4.3.1 Insufficient system storage", true
			}
			out = append(out, r)
		}
	}
	return out
}

// TestQueueRetriesPromptlyWhenSpaceReturns: mail deferred because the
// mailstore's disk was full is retried as soon as space returns (the
// free-space monitor calls SpaceReturned) or another local delivery
// succeeds, not at its next backoff slot; mail deferred for other reasons
// keeps its schedule.
func TestQueueRetriesPromptlyWhenSpaceReturns(t *testing.T) {
	f := newFixture(t, func(string) (queue.Status, string) { return queue.Delivered, "" })
	// Store.RetryNow stamps the real time: keep the fake clock after it.
	f.clock.t = time.Now().Add(time.Hour)
	d := &diskDeliverer{full: true}
	r := queue.NewRunner(f.store, d, queue.RunnerOptions{Now: f.clock.Now, Hostname: "mx.local.test"})
	pending := func() int {
		t.Helper()
		st, err := f.store.Stats(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return st.Recipients
	}

	f.enqueue(t, "a@remote.test", "alice@local.test")
	r.Process(t.Context())
	if d.attempts != 1 || pending() != 1 {
		t.Fatalf("attempts %d, pending %d; want 1, 1", d.attempts, pending())
	}
	d.full = false
	f.clock.Add(10 * time.Second)
	r.Process(t.Context())
	if d.attempts != 1 {
		t.Fatalf("retried before its slot without a signal: %d attempts", d.attempts)
	}

	// The monitor reports that space is back: retried now.
	r.SpaceReturned()
	r.Process(t.Context())
	if d.attempts != 2 || pending() != 0 {
		t.Fatalf("after SpaceReturned: attempts %d, pending %d; want 2, 0", d.attempts, pending())
	}

	// Deferred again; then a fresh delivery succeeds: the deferred one follows at once.
	d.full = true
	f.enqueue(t, "a@remote.test", "bob@local.test")
	r.Process(t.Context())
	d.full = false
	f.enqueue(t, "a@remote.test", "carol@local.test")
	r.Process(t.Context())
	r.Process(t.Context())
	if d.attempts != 5 || pending() != 0 {
		t.Fatalf("after a successful delivery: attempts %d, pending %d; want 5, 0", d.attempts, pending())
	}
}

package queuetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/queue"
)

// recorder is a Deliverer that delivers everything and counts deliveries
// per recipient, for every runner that shares it.
type recorder struct {
	mu    sync.Mutex
	count map[string]int    // "id rcpt" → deliveries
	by    map[string]string // "id rcpt" → the last runner's name
}

func newRecorder() *recorder { return &recorder{count: map[string]int{}, by: map[string]string{}} }

// as returns a Deliverer recording into r under a runner's name.
func (r *recorder) as(name string) queue.Deliverer {
	return deliverFunc(func(ctx context.Context, msgs []*queue.Message) []queue.Result {
		var out []queue.Result
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, m := range msgs {
			for _, rc := range m.Recipients {
				k := m.ID + " " + rc.Address
				r.count[k]++
				r.by[k] = name
				out = append(out, queue.Result{MessageID: m.ID, Recipient: rc.Address, Status: queue.Delivered})
			}
		}
		return out
	})
}

type deliverFunc func(ctx context.Context, msgs []*queue.Message) []queue.Result

func (f deliverFunc) Deliver(ctx context.Context, msgs []*queue.Message) []queue.Result {
	return f(ctx, msgs)
}

// testRunnersExactlyOnce: two runners of different owners on two handles
// of one store (two nodes) deliver 500 messages enqueued through both
// handles while they run; every recipient is delivered exactly once and
// the queue ends empty.
func testRunnersExactlyOnce(t *testing.T, a, b queue.Store) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var (
		want     = map[string]bool{}
		enqueued atomic.Bool
		wg       sync.WaitGroup
		msgs     []*queue.Message
	)
	for i := range 500 {
		rcpts := []string{fmt.Sprintf("u%d@x.test", i)}
		if i%5 == 0 {
			rcpts = append(rcpts, fmt.Sprintf("v%d@x.test", i))
		}
		m := message("", time.Now(), rcpts...)
		m.ID = queue.NewID(m.Received) // known before Enqueue, to name what must be delivered
		msgs = append(msgs, m)
		for _, r := range rcpts {
			want[m.ID+" "+r] = true
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer enqueued.Store(true)
		for i, m := range msgs {
			if err := []queue.Store{a, b}[i%2].Enqueue(ctx, m); err != nil {
				t.Errorf("Enqueue: %v", err)
				return
			}
		}
	}()
	rec := newRecorder()
	for i, s := range []queue.Store{a, b} {
		name := fmt.Sprintf("node-%c", 'a'+i)
		r := queue.NewRunner(s, rec.as(name), queue.RunnerOptions{Owner: name})
		r.Batch = 16 // many small claims, so the two interleave
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if r.Process(ctx) {
					continue
				}
				done := enqueued.Load() // read before Stats: nothing can arrive after
				st, err := s.Stats(ctx)
				if err != nil {
					t.Errorf("%s: Stats: %v", name, err)
					return
				}
				if done && st.Messages == 0 {
					return
				}
				time.Sleep(time.Millisecond) // new mail, or the rest claimed by the other runner
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatal("runners did not drain the queue in time")
	}
	perRunner := map[string]int{}
	for k := range want {
		if n := rec.count[k]; n != 1 {
			t.Errorf("%s delivered %d times, want once", k, n)
		}
		perRunner[rec.by[k]]++
	}
	if len(rec.count) != len(want) {
		t.Errorf("%d recipients delivered, want %d", len(rec.count), len(want))
	}
	t.Logf("deliveries per runner: %v", perRunner)
	if st, err := a.Stats(ctx); err != nil || st.Messages != 0 || st.Failed != 0 {
		t.Errorf("Stats after draining = %+v, %v; want an empty queue", st, err)
	}
}

// testDeadRunner: a runner that claimed a batch and died before completing
// it (its Deliverer never returns results) holds the work only until its
// claims end; then another node's runner delivers each recipient once.
func testDeadRunner(t *testing.T, a, b queue.Store) {
	ctx := context.Background()
	clock := &fakeClock{t: time.Now().Truncate(time.Second)}
	const ttl = 10 * time.Minute
	var ids []string
	for i := range 3 {
		m := message("", clock.Now(), fmt.Sprintf("r%d@x.test", i))
		enqueue(t, a, m)
		ids = append(ids, m.ID)
	}
	var attempted int
	dying := deliverFunc(func(_ context.Context, msgs []*queue.Message) []queue.Result {
		attempted += len(msgs)
		return nil // the process died here
	})
	queue.NewRunner(a, dying, queue.RunnerOptions{Owner: "dead", ClaimTTL: ttl, Now: clock.Now}).Process(ctx)
	if attempted != 3 {
		t.Fatalf("the dying runner took %d messages, want 3", attempted)
	}
	got, err := b.Get(ctx, ids[0])
	if err != nil || got.Recipients[0].ClaimOwner != "dead" {
		t.Fatalf("Get = %+v, %v; want the claim of the dead runner shown", got, err)
	}
	rec := newRecorder()
	alive := queue.NewRunner(b, rec.as("alive"), queue.RunnerOptions{Owner: "alive", ClaimTTL: ttl, Now: clock.Now})
	clock.Add(ttl - time.Second)
	alive.Process(ctx)
	if len(rec.count) != 0 {
		t.Fatalf("delivered %v while the dead runner's claims held", rec.count)
	}
	clock.Add(time.Second)
	alive.Process(ctx)
	if len(rec.count) != 3 {
		t.Fatalf("after the claims ended %d recipients delivered, want 3: %v", len(rec.count), rec.count)
	}
	for k, n := range rec.count {
		if n != 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
	}
	if all, err := a.List(ctx); err != nil || len(all) != 0 {
		t.Fatalf("List = %d messages, %v; want none", len(all), err)
	}
}

// fakeClock is a time source the test advances by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

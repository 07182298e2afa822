package pgstore

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// twoHandles opens two handles (two pools, as two nodes) on one new
// schema with accounts alice and bob.
func twoHandles(t *testing.T) (a, b *Store) {
	env := newEnv(t)
	schema := newSchema()
	a, b = env.open(t, schema, 0), env.open(t, schema, 0)
	for _, u := range []string{"alice", "bob"} {
		if err := a.EnsureAccount(t.Context(), u); err != nil {
			t.Fatal(err)
		}
	}
	return a, b
}

func wantHealthy(t *testing.T, s *Store) {
	t.Helper()
	if problems, err := s.Check(t.Context()); err != nil || len(problems) > 0 {
		t.Errorf("Check: %v %v", problems, err)
	}
}

// TestConcurrentDuplicateDelivery: the same delivery id delivered through
// two handles at once is stored once; the loser's transaction fails on the
// unique index, runs again and reports the winner's message as a duplicate.
func TestConcurrentDuplicateDelivery(t *testing.T) {
	a, b := twoHandles(t)
	ctx := t.Context()
	const rounds = 20
	for i := range rounds {
		id := fmt.Sprintf("dup-%d", i)
		var wg sync.WaitGroup
		res := make([]mailstore.DeliveryResult, 2)
		for j, s := range []*Store{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := s.Deliver(ctx, []mailstore.Delivery{{User: "alice", Message: mailstore.NewMessage{
					Body: strings.NewReader(fmt.Sprintf("Subject: %d\r\n\r\nbody\r\n", i)), DeliveryID: id}}})
				if err != nil {
					t.Errorf("round %d handle %d: %v", i, j, err)
					return
				}
				res[j] = r[0]
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		if res[0].Err != nil || res[1].Err != nil || res[0].UID != res[1].UID || res[0].Duplicate == res[1].Duplicate {
			t.Fatalf("round %d: results %+v", i, res)
		}
	}
	inbox, err := a.Mailbox(ctx, "alice", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := b.Status(ctx, "alice", inbox.ID); err != nil || st.Messages != rounds {
		t.Errorf("INBOX has %d messages (%v), want %d", st.Messages, err, rounds)
	}
	wantHealthy(t, a)
}

// TestCrossingDeliveries: batches for alice then bob on one handle and bob
// then alice on the other, racing, each land exactly once (Deliver takes
// its locks in user order; a deadlock anyway would be retried by write).
func TestCrossingDeliveries(t *testing.T) {
	a, b := twoHandles(t)
	ctx := t.Context()
	const rounds = 30
	var wg sync.WaitGroup
	for j, s := range []*Store{a, b} {
		users := []string{"alice", "bob"}
		if j == 1 {
			users = []string{"bob", "alice"}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				body := fmt.Sprintf("Subject: %d/%d\r\n\r\nshared by both recipients\r\n", j, i)
				var ds []mailstore.Delivery
				for _, u := range users {
					ds = append(ds, mailstore.Delivery{User: u, Message: mailstore.NewMessage{Body: strings.NewReader(body)}})
				}
				res, err := s.Deliver(ctx, ds)
				if err != nil {
					t.Errorf("handle %d round %d: %v", j, i, err)
					return
				}
				for _, r := range res {
					if r.Err != nil {
						t.Errorf("handle %d round %d: %v", j, i, r.Err)
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, u := range []string{"alice", "bob"} {
		q, err := a.Quota(ctx, u)
		if err != nil || q.MessagesUsed != 2*rounds {
			t.Errorf("%s has %d messages (%v), want %d", u, q.MessagesUsed, err, 2*rounds)
		}
	}
	wantHealthy(t, b)
	t.Logf("deadlocks: %d", deadlocks(t, a))
}

// deadlocks is how many deadlocks PostgreSQL broke in the store's database.
func deadlocks(t *testing.T, s *Store) int64 {
	var n int64
	if err := s.pool.QueryRow(t.Context(), `SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCrossingExpunges: two handles expunge mailboxes whose messages share
// blobs in opposite orders, so their reference-count updates can deadlock;
// write runs the victim again and both expunges complete, with every
// count right.
func TestCrossingExpunges(t *testing.T) {
	a, b := twoHandles(t)
	ctx := t.Context()
	const rounds, perBox = 10, 6
	var wg sync.WaitGroup
	for r := range rounds {
		boxes := map[string]int64{}
		for _, u := range []string{"alice", "bob"} {
			mb, err := a.Mailbox(ctx, u, "INBOX")
			if err != nil {
				t.Fatal(err)
			}
			boxes[u] = mb.ID
			for i := range perBox {
				k := i
				if u == "bob" {
					k = perBox - 1 - i
				}
				body := fmt.Sprintf("Subject: %d/%d\r\n\r\nbody\r\n", r, k)
				if _, err := a.Append(ctx, u, mb.ID, mailstore.NewMessage{Body: strings.NewReader(body), Flags: []string{`\Deleted`}}); err != nil {
					t.Fatal(err)
				}
			}
		}
		for u, s := range map[string]*Store{"alice": a, "bob": b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if uids, err := s.Expunge(ctx, u, boxes[u], nil); err != nil || len(uids) != perBox {
					t.Errorf("round %d: expunge %s: %v, %v", r, u, uids, err)
				}
			}()
		}
		wg.Wait()
	}
	wantHealthy(t, a)
	t.Logf("deadlocks: %d", deadlocks(t, a))
}

// TestConcurrentCollectGarbage: two nodes collecting at once claim
// disjoint batches (SKIP LOCKED), so each body is deleted once and the
// total is every orphan.
func TestConcurrentCollectGarbage(t *testing.T) {
	a, b := twoHandles(t)
	ctx := t.Context()
	inbox, err := a.Mailbox(ctx, "alice", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	var blobs []string
	for i := range n {
		if _, err := a.Append(ctx, "alice", inbox.ID, mailstore.NewMessage{
			Body: strings.NewReader(fmt.Sprintf("Subject: %d\r\n\r\nbody\r\n", i)), Flags: []string{`\Deleted`}}); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := a.Messages(ctx, "alice", inbox.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		blobs = append(blobs, m.BlobID)
	}
	if _, err := b.Expunge(ctx, "alice", inbox.ID, nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for j, s := range []*Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := s.CollectGarbage(ctx, time.Now().Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			counts[j] = c
		}()
	}
	wg.Wait()
	if counts[0]+counts[1] != n {
		t.Errorf("collected %v, want %d in all", counts, n)
	}
	for _, id := range blobs {
		if rc, err := a.OpenBlob(ctx, id); err == nil {
			rc.Close()
			t.Errorf("blob %s survived", id)
		}
	}
	wantHealthy(t, a)
}

// TestSweep: a body no message ever referenced (a delivery that failed
// after its Put) is deleted once older than the grace; bodies of stored
// and of orphaned messages are left (the latter to CollectGarbage).
func TestSweep(t *testing.T) {
	env := newEnv(t)
	schema := newSchema()
	s := env.open(t, schema, 0)
	ctx := t.Context()
	if err := s.EnsureAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	inbox, err := s.Mailbox(ctx, "alice", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	for i, flags := range [][]string{nil, {`\Deleted`}} {
		if _, err := s.Append(ctx, "alice", inbox.ID, mailstore.NewMessage{
			Body: strings.NewReader(fmt.Sprintf("Subject: %d\r\n\r\nkept\r\n", i)), Flags: flags}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Expunge(ctx, "alice", inbox.ID, nil); err != nil {
		t.Fatal(err)
	}
	stray, _, err := s.blobs.Put(ctx, strings.NewReader("Subject: never stored\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	dir := filepath.Join(env.blobs, schema)
	if err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			err = os.Chtimes(p, old, old)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	n, err := s.Sweep(ctx, time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	if rc, err := s.OpenBlob(ctx, stray); err == nil {
		rc.Close()
		t.Error("stray blob survived the sweep")
	}
	if n, err := s.CollectGarbage(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Errorf("CollectGarbage after sweep = %d, %v; want the expunged body", n, err)
	}
	wantHealthy(t, s)
}

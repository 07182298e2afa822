package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// testHandlesExpungeCopy: one handle expunges messages while the other
// copies them. Each message is expunged once, each copy holds its
// source's body and flags, and afterwards Check is clean, the usage is
// right, and collecting garbage keeps every copied body and deletes the
// rest.
func testHandlesExpungeCopy(t *testing.T, h *harness) {
	a, b := h, h.other()
	a.account("alice")
	inbox := a.box("alice", mailstore.Inbox)
	archive := a.box("alice", "Archive")
	const n = 30
	for i := range n {
		a.append("alice", inbox.ID, msg(i), `\Deleted`)
	}
	bodies := map[uint32]string{}
	for _, m := range a.messages("alice", inbox.ID) {
		bodies[m.UID] = a.body(m.BlobID)
	}
	uids := a.uids("alice", inbox.ID)
	backward := slices.Clone(uids) // copy from the other end
	slices.Reverse(backward)
	var expunged []uint32
	copied := map[uint32]uint32{} // destination UID -> source UID
	// The expunger starts after the first copy, so the race is never
	// won outright by one side (a copy of nothing would prove nothing).
	started := make(chan struct{})
	release := sync.OnceFunc(func() { close(started) })
	together(t,
		func() {
			<-started
			for c := range slices.Chunk(uids, 3) {
				got, err := a.s.Expunge(a.ctx, "alice", inbox.ID, c)
				if err != nil {
					t.Errorf("Expunge(%v): %v", c, err)
					return
				}
				expunged = append(expunged, got...)
			}
		},
		func() {
			defer release()
			for c := range slices.Chunk(backward, 2) {
				src, dst, err := b.s.Copy(b.ctx, "alice", inbox.ID, c, archive.ID)
				if err != nil || len(src) != len(dst) {
					t.Errorf("Copy(%v) = %v, %v, %v", c, src, dst, err)
					return
				}
				for i := range src {
					copied[dst[i]] = src[i]
				}
				release()
			}
		},
	)
	slices.Sort(expunged)
	if !slices.Equal(expunged, uids) {
		t.Errorf("expunged %v, want each of %v once", expunged, uids)
	}
	if len(copied) == 0 {
		t.Error("Copy copied nothing")
	}
	for _, x := range []*harness{a, b} {
		if left := x.messages("alice", inbox.ID); len(left) != 0 {
			t.Errorf("INBOX keeps %d messages after expunging all", len(left))
		}
		x.wantCheck("expunge racing copy")
	}
	check := func(when string) {
		t.Helper()
		got := b.messages("alice", archive.ID)
		if len(got) != len(copied) {
			t.Errorf("%s: Archive has %d messages, Copy reported %d", when, len(got), len(copied))
		}
		for _, m := range got {
			src, ok := copied[m.UID]
			if !ok || !slices.Equal(m.Flags, []string{`\Deleted`}) {
				t.Errorf("%s: Archive message %+v (copy of %d, %v)", when, m, src, ok)
				continue
			}
			if body := b.body(m.BlobID); body != bodies[src] {
				t.Errorf("%s: copy of UID %d holds %q, want %q", when, src, body, bodies[src])
			}
		}
	}
	check("after the race")
	a.wantUsage("alice", "expunge racing copy", sumSizes(b.messages("alice", archive.ID)), int64(len(copied)))
	if got := a.collect(time.Now().Add(time.Minute)); got != n-len(copied) {
		t.Errorf("CollectGarbage deleted %d bodies, want the %d not copied", got, n-len(copied))
	}
	check("after collecting garbage")
	b.wantCheck("collecting garbage")
}

// testHandlesCollectRacingDelivery: one handle collects garbage while the
// other delivers again bodies the collector is about to delete. A body
// delivered after the grace period began is never lost: afterwards every
// message's body opens, while bodies nobody delivered again are gone. The
// race is run for several rounds, as one round may miss the window.
func testHandlesCollectRacingDelivery(t *testing.T, h *harness) {
	a, b := h, h.other()
	a.account("alice")
	inbox := a.box("alice", mailstore.Inbox)
	const rounds, n = 3, 12 // per round, n bodies delivered again and n left orphaned
	verify := func(when string, want int) {
		t.Helper()
		msgs := a.messages("alice", inbox.ID)
		if len(msgs) != want {
			t.Fatalf("%s: %d messages, want %d", when, len(msgs), want)
		}
		for _, m := range msgs {
			rc, err := b.s.OpenBlob(b.ctx, m.BlobID)
			if err != nil {
				t.Errorf("%s: body of UID %d lost: %v", when, m.UID, err)
				continue
			}
			rc.Close()
		}
		a.wantCheck(when)
	}
	for r := range rounds {
		body := func(i int) string {
			return fmt.Sprintf("From: a@example.org\r\nSubject: gc %d/%d\r\n\r\nbody %d\r\n", r, i, i)
		}
		box := a.create("alice", fmt.Sprintf("Round%d", r))
		for i := range 2 * n {
			a.append("alice", box.ID, body(i))
		}
		blobs := map[int]string{}
		for i, m := range a.messages("alice", box.ID) {
			blobs[i] = m.BlobID
		}
		a.expungeAll("alice", box.ID)
		// The grace period is what separates an orphan from a delivery
		// in flight: the cutoff is after the orphaning (the wait covers
		// clock granularity between the engine and the test) and before
		// every delivery below begins.
		time.Sleep(200 * time.Millisecond)
		cutoff := time.Now()

		collected := 0
		together(t,
			func() {
				for range 3 {
					got, err := a.s.CollectGarbage(a.ctx, cutoff)
					if err != nil {
						t.Errorf("CollectGarbage: %v", err)
						return
					}
					collected += got
				}
			},
			func() {
				for i := range n {
					res, err := b.s.Deliver(b.ctx, []mailstore.Delivery{delivery("alice", "", body(i), fmt.Sprintf("again/%d/%d", r, i))})
					if err == nil {
						err = res[0].Err
					}
					if err != nil {
						t.Errorf("Deliver of body %d again: %v", i, err)
					}
				}
			},
		)
		verify(fmt.Sprintf("round %d of collection racing delivery", r), (r+1)*n)
		for i := n; i < 2*n; i++ {
			if a.blobExists(blobs[i]) {
				t.Errorf("round %d: body %d, orphaned before the cutoff and not delivered again, survived collection", r, i)
			}
		}
		if collected < n {
			t.Errorf("round %d: CollectGarbage deleted %d bodies, want at least the %d orphans", r, collected, n)
		}
	}
	a.collect(time.Now().Add(time.Minute))
	verify("a second collection", rounds*n)
}

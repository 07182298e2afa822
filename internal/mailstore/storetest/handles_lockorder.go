package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// The tests in this file change two mailboxes or accounts in one call, in
// opposite orders from the two handles: an engine that locks rows in the
// order the call names them deadlocks, and must not let that reach the
// caller as an error.

// testHandlesDeliverBatches: batches for alice and bob, in opposite
// orders on the two handles, all delivered.
func testHandlesDeliverBatches(t *testing.T, h *harness) {
	a, b := h, h.other()
	a.account("alice")
	a.account("bob")
	const rounds = 12
	deliverer := func(x *harness, name string, users ...string) func() {
		return func() {
			for r := range rounds {
				var ds []mailstore.Delivery
				for _, u := range users {
					ds = append(ds, delivery(u, "", msg(r), fmt.Sprintf("%s%d/%s", name, r, u)))
				}
				res, err := x.s.Deliver(x.ctx, ds)
				if err != nil {
					t.Errorf("%s: Deliver round %d: %v", name, r, err)
					return
				}
				for i, got := range res {
					if got.Err != nil || got.Duplicate || got.UID == 0 {
						t.Errorf("%s: round %d delivery %d = %+v", name, r, i, got)
					}
				}
			}
		}
	}
	together(t, deliverer(a, "a", "alice", "bob"), deliverer(b, "b", "bob", "alice"))
	for _, u := range []string{"alice", "bob"} {
		box := b.box(u, mailstore.Inbox)
		if st := b.status(u, box.ID); st.Messages != 2*rounds || st.UIDNext != 2*rounds+1 {
			t.Errorf("%s's INBOX = %+v, want %d messages", u, st, 2*rounds)
		}
		b.wantUsage(u, "crossed batches", sumSizes(b.messages(u, box.ID)), 2*rounds)
	}
}

// testHandlesCrossMove: one handle moves messages from A to B while the
// other moves others from B to A, and both copy into the mailbox the other
// copies from. Every call succeeds, nothing is lost or doubled, and the
// UIDs each destination hands out are unique.
func testHandlesCrossMove(t *testing.T, h *harness) {
	a, b := h, h.other()
	a.account("alice")
	boxes := []mailstore.MailboxInfo{a.create("alice", "A"), a.create("alice", "B")}
	const n = 16
	bodies := map[string]bool{}
	for i := range 2 * n {
		body := fmt.Sprintf("From: a@example.org\r\nSubject: cross %d\r\n\r\nbody\r\n", i)
		a.append("alice", boxes[i%2].ID, body)
		bodies[body] = true
	}
	var mu sync.Mutex
	var dstUIDs [2][]uint32
	// Each side moves what its source held before the race.
	mover := func(x *harness, from, to int) func() {
		uids := x.uids("alice", boxes[from].ID)
		return func() {
			for i, c := range slices.Collect(slices.Chunk(uids, 2)) {
				call := x.s.Move
				if i%2 == 1 {
					call = x.s.Copy
				}
				src, dst, err := call(x.ctx, "alice", boxes[from].ID, c, boxes[to].ID)
				if err != nil || len(src) != len(c) || len(dst) != len(c) {
					t.Errorf("%s → %s of %v = %v, %v, %v", boxes[from].Name, boxes[to].Name, c, src, dst, err)
					return
				}
				mu.Lock()
				dstUIDs[to] = append(dstUIDs[to], dst...)
				mu.Unlock()
			}
		}
	}
	together(t, mover(a, 0, 1), mover(b, 1, 0))
	count := map[string]int{}
	total := 0
	for i, mb := range boxes {
		msgs := b.messages("alice", mb.ID)
		total += len(msgs)
		for _, m := range msgs {
			count[b.body(m.BlobID)]++
		}
		got := slices.Sorted(slices.Values(dstUIDs[i]))
		if len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Errorf("%s handed out a UID twice: %v", mb.Name, got)
		}
	}
	// Half of each side's chunks were moved and half copied: a body
	// is in one place, or in two if it was copied.
	for body := range bodies {
		if c := count[body]; c < 1 || c > 2 {
			t.Errorf("%q stored %d times", body, c)
		}
	}
	// Each side copies 4 of its 8 chunks of 2: n copies in all.
	if len(count) != 2*n || total != 3*n {
		t.Errorf("%d distinct bodies in %d messages, want %d in %d", len(count), total, 2*n, 3*n)
	}
	a.wantUsage("alice", "crossed moves", sumSizes(b.messages("alice", boxes[0].ID))+sumSizes(b.messages("alice", boxes[1].ID)), int64(total))
}

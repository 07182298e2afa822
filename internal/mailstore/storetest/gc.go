package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// collect runs CollectGarbage as if the grace period ended at orphanedBefore.
func (h *harness) collect(orphanedBefore time.Time) int {
	h.t.Helper()
	n, err := h.s.CollectGarbage(h.ctx, orphanedBefore)
	if err != nil {
		h.t.Fatalf("CollectGarbage: %v", err)
	}
	return n
}

func (h *harness) expungeAll(user string, mailboxID int64) {
	h.t.Helper()
	if _, err := h.s.SetFlags(h.ctx, user, mailboxID, h.uids(user, mailboxID), mailstore.FlagsAdd, []string{`\Deleted`}); err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.s.Expunge(h.ctx, user, mailboxID, nil); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) blobExists(blobID string) bool {
	h.t.Helper()
	rc, err := h.s.OpenBlob(h.ctx, blobID)
	if err != nil {
		return false
	}
	rc.Close()
	return true
}

// testCollectGarbage: bodies whose last message went away by expunge,
// mailbox delete or account delete are deleted once the grace period is
// over, not before; a body still referenced by a copy, or delivered again
// during the grace period, stays.
func testCollectGarbage(t *testing.T, h *harness) {
	h.account("alice")
	h.account("bob")
	inbox := h.box("alice", "INBOX")
	work := h.create("alice", "Work")
	h.append("alice", inbox.ID, msg(1)) // expunged
	h.append("alice", inbox.ID, msg(2)) // expunged, a copy stays in Work
	h.append("alice", work.ID, msg(3))  // mailbox deleted
	h.append("alice", inbox.ID, msg(4)) // expunged, then delivered again
	h.append("bob", h.box("bob", "INBOX").ID, msg(5))
	if _, _, err := h.s.Copy(h.ctx, "alice", inbox.ID, []uint32{2}, h.box("alice", "Archive").ID); err != nil {
		t.Fatal(err)
	}
	blobs := map[int]string{} // msg(i) -> its body's blob
	for _, m := range slices.Concat(h.messages("alice", inbox.ID), h.messages("alice", work.ID),
		h.messages("bob", h.box("bob", "INBOX").ID)) {
		for i := 1; i <= 5; i++ {
			if h.body(m.BlobID) == msg(i) {
				blobs[i] = m.BlobID
			}
		}
	}
	if len(blobs) != 5 {
		t.Fatalf("blobs of the five messages: %v", blobs)
	}

	h.expungeAll("alice", inbox.ID)
	if err := h.s.DeleteMailbox(h.ctx, "alice", "Work"); err != nil {
		t.Fatal(err)
	}
	if err := h.s.DeleteAccount(h.ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if n := h.collect(time.Now().Add(-time.Hour)); n != 0 {
		t.Errorf("CollectGarbage within the grace period deleted %d bodies", n)
	}
	for i, id := range blobs {
		if !h.blobExists(id) {
			t.Errorf("body of message %d gone within the grace period", i)
		}
	}
	if r := h.deliver(delivery("alice", "", msg(4), "again/4"))[0]; r.Err != nil {
		t.Fatalf("deliver again: %v", r.Err)
	}

	// The engine may take orphan times from its own clock; a minute
	// ahead covers skew between it and the test.
	if n := h.collect(time.Now().Add(time.Minute)); n != 3 {
		t.Errorf("CollectGarbage after the grace period deleted %d bodies, want 3", n)
	}
	for _, i := range []int{1, 3, 5} {
		if h.blobExists(blobs[i]) {
			t.Errorf("body of message %d survived collection", i)
		}
	}
	if got := h.body(blobs[2]); got != msg(2) {
		t.Errorf("copied message's body = %q after collection", got)
	}
	msgs := h.messages("alice", inbox.ID)
	if len(msgs) != 1 || msgs[0].BlobID != blobs[4] || h.body(blobs[4]) != msg(4) {
		t.Errorf("message delivered again during the grace period: %+v", msgs)
	}
	if n := h.collect(time.Now().Add(time.Minute)); n != 0 {
		t.Errorf("second CollectGarbage deleted %d bodies", n)
	}
	if problems, err := h.s.Check(h.ctx); err != nil || len(problems) != 0 {
		t.Errorf("Check after collection = %v, %v", problems, err)
	}
}

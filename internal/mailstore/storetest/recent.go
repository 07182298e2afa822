package storetest

import (
	"sync"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

func (h *harness) claimRecent(user string, mailboxID int64, upTo uint32) uint32 {
	h.t.Helper()
	from, err := h.s.ClaimRecent(h.ctx, user, mailboxID, upTo)
	if err != nil {
		h.t.Fatalf("ClaimRecent(%d): %v", upTo, err)
	}
	return from
}

// testRecent: each message is recent to exactly one claimer (IMAP4rev1
// \Recent, RFC 3501 §2.3.2); reading does not claim.
func testRecent(t *testing.T, h *harness) {
	h.account("alice")
	box := h.create("alice", "Box")
	h.append("alice", box.ID, msg(1))
	h.append("alice", box.ID, msg(2))
	if st := h.status("alice", box.ID); st.Recent != 2 {
		t.Errorf("Status.Recent = %d, want 2", st.Recent)
	}
	if from := h.claimRecent("alice", box.ID, 0); from != 1 {
		t.Errorf("read (upTo 0) = %d, want 1", from)
	}
	if from := h.claimRecent("alice", box.ID, 3); from != 1 {
		t.Errorf("first claim = %d, want 1", from)
	}
	if from := h.claimRecent("alice", box.ID, 3); from != 3 {
		t.Errorf("second claim = %d, want 3 (nothing left)", from)
	}
	if st := h.status("alice", box.ID); st.Recent != 0 {
		t.Errorf("Status.Recent after claim = %d, want 0", st.Recent)
	}
	h.append("alice", box.ID, msg(3))
	if st := h.status("alice", box.ID); st.Recent != 1 {
		t.Errorf("Status.Recent after new mail = %d, want 1", st.Recent)
	}
	if from := h.claimRecent("alice", box.ID, 2); from != 3 {
		t.Errorf("claim below the mark = %d, want 3 (never goes back)", from)
	}
	if from := h.claimRecent("alice", box.ID, 4); from != 3 {
		t.Errorf("claim of new mail = %d, want 3", from)
	}
	h.account("bob")
	_, err := h.s.ClaimRecent(h.ctx, "bob", box.ID, 4)
	wantErr(t, "foreign mailbox", err, mailstore.ErrNoMailbox)

	// Concurrent claimers: exactly one gets the new message.
	uid := h.append("alice", box.ID, msg(4))
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from, err := h.s.ClaimRecent(h.ctx, "alice", box.ID, uid+1)
			if err != nil {
				t.Error(err)
				return
			}
			if from <= uid {
				mu.Lock()
				winners++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if winners != 1 {
		t.Errorf("%d concurrent claimers got the message, want 1", winners)
	}
}

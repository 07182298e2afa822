package storetest

import (
	"bytes"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

func (h *harness) urlAuthKey(user string, mailboxID int64) []byte {
	h.t.Helper()
	key, err := h.s.URLAuthKey(h.ctx, user, mailboxID)
	if err != nil {
		h.t.Fatalf("URLAuthKey(%s, %d): %v", user, mailboxID, err)
	}
	return key
}

func (h *harness) resetURLAuthKeys(user string, mailboxID int64) {
	h.t.Helper()
	if err := h.s.ResetURLAuthKeys(h.ctx, user, mailboxID); err != nil {
		h.t.Fatalf("ResetURLAuthKeys(%s, %d): %v", user, mailboxID, err)
	}
}

// testURLAuthKeys: a mailbox's URLAUTH key is random, at least 128 bits,
// stable until reset, per mailbox, and only its owner's.
func testURLAuthKeys(t *testing.T, h *harness) {
	h.account("alice")
	inbox := h.box("alice", "INBOX")
	work := h.create("alice", "Work")
	k1 := h.urlAuthKey("alice", inbox.ID)
	if len(k1) < 16 {
		t.Fatalf("key of %d bytes, want at least 16 (RFC 4467 §7)", len(k1))
	}
	if again := h.urlAuthKey("alice", inbox.ID); !bytes.Equal(again, k1) {
		t.Error("key changed without a reset")
	}
	kw := h.urlAuthKey("alice", work.ID)
	if bytes.Equal(kw, k1) {
		t.Error("two mailboxes share a key")
	}

	h.resetURLAuthKeys("alice", inbox.ID)
	k2 := h.urlAuthKey("alice", inbox.ID)
	if bytes.Equal(k2, k1) {
		t.Error("reset of INBOX kept its key")
	}
	if !bytes.Equal(h.urlAuthKey("alice", work.ID), kw) {
		t.Error("reset of INBOX changed another mailbox's key")
	}
	h.resetURLAuthKeys("alice", 0)
	if bytes.Equal(h.urlAuthKey("alice", inbox.ID), k2) || bytes.Equal(h.urlAuthKey("alice", work.ID), kw) {
		t.Error("reset of all mailboxes kept a key")
	}

	// A mailbox deleted and made again under the same name has a new key.
	// (A store may reuse the mailbox ID.)
	old := h.urlAuthKey("alice", work.ID)
	if err := h.s.DeleteMailbox(h.ctx, "alice", "Work"); err != nil {
		t.Fatal(err)
	}
	if again := h.create("alice", "Work"); bytes.Equal(h.urlAuthKey("alice", again.ID), old) {
		t.Error("recreated mailbox kept the old key")
	}

	h.account("bob")
	_, err := h.s.URLAuthKey(h.ctx, "bob", inbox.ID)
	wantErr(t, "foreign mailbox key", err, mailstore.ErrNoMailbox)
	wantErr(t, "foreign mailbox reset", h.s.ResetURLAuthKeys(h.ctx, "bob", inbox.ID), mailstore.ErrNoMailbox)
}

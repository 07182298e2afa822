package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

func (h *harness) quota(user string) mailstore.Quota {
	h.t.Helper()
	q, err := h.s.Quota(h.ctx, user)
	if err != nil {
		h.t.Fatalf("Quota(%q): %v", user, err)
	}
	return q
}

func (h *harness) setQuota(user string, storage, messages int64) {
	h.t.Helper()
	if err := h.s.SetQuota(h.ctx, user, storage, messages); err != nil {
		h.t.Fatalf("SetQuota(%q): %v", user, err)
	}
}

// wantUsage checks the account's usage against the sum over its mailboxes'
// messages, and that Check agrees.
func (h *harness) wantUsage(user, after string, bytes, messages int64) {
	h.t.Helper()
	var sumBytes, count int64
	mbs, err := h.s.Mailboxes(h.ctx, user)
	if err != nil {
		h.t.Fatalf("Mailboxes(%q): %v", user, err)
	}
	for _, mb := range mbs {
		for _, m := range h.messages(user, mb.ID) {
			sumBytes += m.Size
			count++
		}
	}
	q := h.quota(user)
	if q.StorageUsed != bytes || q.MessagesUsed != messages || sumBytes != bytes || count != messages {
		h.t.Errorf("after %s: usage %d bytes %d messages, stored %d bytes %d messages, want %d bytes %d messages",
			after, q.StorageUsed, q.MessagesUsed, sumBytes, count, bytes, messages)
	}
	problems, err := h.s.Check(h.ctx)
	if err != nil {
		h.t.Fatalf("Check: %v", err)
	}
	if len(problems) != 0 {
		h.t.Errorf("after %s: Check:\n%s", after, strings.Join(problems, "\n"))
	}
}

// testQuotaUsage follows the usage through every operation that adds or
// removes message rows, including the cascades of DeleteMailbox and
// DeleteAccount.
func testQuotaUsage(t *testing.T, h *harness) {
	h.account("alice")
	h.account("bob")
	n := int64(len(msg(1))) // msg(1) to msg(9) have the same length
	inbox := h.box("alice", "INBOX")
	h.wantUsage("alice", "EnsureAccount", 0, 0)

	for i := 1; i <= 3; i++ {
		h.append("alice", inbox.ID, msg(i))
	}
	h.wantUsage("alice", "Append", 3*n, 3)

	h.deliver(delivery("alice", "", msg(4), "q4/alice"), delivery("bob", "", msg(4), "q4/bob"))
	h.deliver(delivery("alice", "", msg(4), "q4/alice")) // duplicate: adds nothing
	h.wantUsage("alice", "Deliver", 4*n, 4)
	h.wantUsage("bob", "Deliver", n, 1)

	box := h.create("alice", "Box")
	if _, _, err := h.s.Copy(h.ctx, "alice", inbox.ID, []uint32{1, 2}, box.ID); err != nil {
		t.Fatal(err)
	}
	h.wantUsage("alice", "Copy", 6*n, 6)

	if _, _, err := h.s.Move(h.ctx, "alice", inbox.ID, []uint32{3}, box.ID); err != nil {
		t.Fatal(err)
	}
	h.wantUsage("alice", "Move", 6*n, 6)

	if _, err := h.s.SetFlags(h.ctx, "alice", inbox.ID, []uint32{1}, mailstore.FlagsAdd, []string{`\Deleted`}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.Expunge(h.ctx, "alice", inbox.ID, nil); err != nil {
		t.Fatal(err)
	}
	h.wantUsage("alice", "Expunge", 5*n, 5)

	if err := h.s.RenameMailbox(h.ctx, "alice", "INBOX", "Old"); err != nil {
		t.Fatal(err)
	}
	h.wantUsage("alice", "RenameMailbox of INBOX", 5*n, 5)

	// Box holds 3 messages; its rows go by cascade from the mailbox row.
	if err := h.s.DeleteMailbox(h.ctx, "alice", "Box"); err != nil {
		t.Fatal(err)
	}
	h.wantUsage("alice", "DeleteMailbox", 2*n, 2)

	if err := h.s.DeleteAccount(h.ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	h.wantUsage("bob", "DeleteAccount of another account", n, 1)
	h.account("alice")
	h.wantUsage("alice", "DeleteAccount and EnsureAccount", 0, 0)
}

func testQuotaLimits(t *testing.T, h *harness) {
	h.account("alice")
	n := int64(len(msg(1)))
	inbox := h.box("alice", "INBOX")
	if q := h.quota("alice"); q.StorageLimit != 0 || q.MessageLimit != 0 {
		t.Errorf("new account quota = %+v, want unlimited", q)
	}
	h.append("alice", inbox.ID, msg(1))
	h.append("alice", inbox.ID, msg(2))
	h.setQuota("alice", 3*n, 0)
	if q := h.quota("alice"); q != (mailstore.Quota{StorageLimit: 3 * n, StorageUsed: 2 * n, MessagesUsed: 2}) {
		t.Errorf("Quota = %+v", q)
	}

	h.append("alice", inbox.ID, msg(3)) // exactly at the limit is allowed
	_, err := h.s.Append(h.ctx, "alice", inbox.ID, mailstore.NewMessage{Body: strings.NewReader(msg(4))})
	wantErr(t, "Append over the storage limit", err, mailstore.ErrOverQuota)
	archive := h.box("alice", "Archive")
	_, _, err = h.s.Copy(h.ctx, "alice", inbox.ID, []uint32{1}, archive.ID)
	wantErr(t, "Copy over the storage limit", err, mailstore.ErrOverQuota)
	if _, _, err := h.s.Move(h.ctx, "alice", inbox.ID, []uint32{1}, archive.ID); err != nil {
		t.Errorf("Move at the limit: %v", err)
	}
	h.wantUsage("alice", "refused Append and Copy", 3*n, 3)

	// Lowering the limit below the usage is allowed; removing mail too.
	h.setQuota("alice", n, 0)
	if _, err := h.s.SetFlags(h.ctx, "alice", inbox.ID, []uint32{2}, mailstore.FlagsAdd, []string{`\Deleted`}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.Expunge(h.ctx, "alice", inbox.ID, nil); err != nil {
		t.Errorf("Expunge over quota: %v", err)
	}

	// The message limit, and 0 = unlimited storage.
	h.setQuota("alice", 0, 3)
	h.append("alice", inbox.ID, msg(5))
	_, err = h.s.Append(h.ctx, "alice", inbox.ID, mailstore.NewMessage{Body: strings.NewReader(msg(6))})
	wantErr(t, "Append over the message limit", err, mailstore.ErrOverQuota)

	err = h.s.SetQuota(h.ctx, "nobody", 1, 1)
	wantErr(t, "SetQuota of an unknown account", err, mailstore.ErrNoAccount)
	_, err = h.s.Quota(h.ctx, "nobody")
	wantErr(t, "Quota of an unknown account", err, mailstore.ErrNoAccount)
}

// testQuotaDeliver: a full account fails its own delivery only; the
// other deliveries of the batch, and earlier ones of the same batch that
// fill the account, succeed.
func testQuotaDeliver(t *testing.T, h *harness) {
	h.account("alice")
	h.account("bob")
	h.setQuota("alice", 0, 1)
	res := h.deliver(
		delivery("alice", "", msg(1), "q1/alice"),
		delivery("bob", "", msg(1), "q1/bob"),
		delivery("alice", "", msg(2), "q2/alice"),
	)
	if res[0].Err != nil || res[1].Err != nil || res[1].UID != 1 {
		t.Errorf("results 0 and 1 = %+v, %+v, want stored", res[0], res[1])
	}
	wantErr(t, "second delivery to a one-message account", res[2].Err, mailstore.ErrOverQuota)
	h.wantUsage("alice", "Deliver over quota", int64(len(msg(1))), 1)
	h.wantUsage("bob", "Deliver beside an over-quota account", int64(len(msg(1))), 1)
}

// testSaveDate: RFC 8514 — the save date is when the message was added
// to its mailbox, by APPEND, delivery, COPY or MOVE, whatever its
// internal date.
func testSaveDate(t *testing.T, h *harness) {
	h.account("alice")
	inbox := h.box("alice", "INBOX")
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	between := func(what string, m mailstore.Message, lo, hi time.Time) {
		t.Helper()
		if m.SaveDate.Before(lo) || m.SaveDate.After(hi) {
			t.Errorf("%s: SaveDate %v not within [%v, %v]", what, m.SaveDate, lo, hi)
		}
	}
	t0 := time.Now()
	if _, err := h.s.Append(h.ctx, "alice", inbox.ID, mailstore.NewMessage{Body: strings.NewReader(msg(1)), InternalDate: old}); err != nil {
		t.Fatal(err)
	}
	h.deliver(delivery("alice", "", msg(2), "q2/alice"))
	t1 := time.Now()
	msgs := h.messages("alice", inbox.ID)
	between("Append", msgs[0], t0, t1)
	between("Deliver", msgs[1], t0, t1)
	if !msgs[0].InternalDate.Equal(old) {
		t.Errorf("InternalDate = %v, want %v", msgs[0].InternalDate, old)
	}

	archive := h.box("alice", "Archive")
	t2 := time.Now() // after the originals' save dates
	if _, _, err := h.s.Copy(h.ctx, "alice", inbox.ID, []uint32{1}, archive.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.s.Move(h.ctx, "alice", inbox.ID, []uint32{2}, archive.ID); err != nil {
		t.Fatal(err)
	}
	t3 := time.Now()
	for _, m := range h.messages("alice", archive.ID) {
		between("Copy/Move", m, t2, t3)
	}
	ch, err := h.s.Changes(h.ctx, "alice", archive.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ch.Updated {
		between("Changes", m, t2, t3)
	}
}

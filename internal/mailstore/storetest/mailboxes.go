package storetest

import (
	"slices"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

func testDefaultMailboxes(t *testing.T, h *harness) {
	h.account("alice")
	mbs, err := h.s.Mailboxes(h.ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]mailstore.MailboxInfo{}
	for _, mb := range mbs {
		byName[mb.Name] = mb
	}
	for _, d := range mailstore.DefaultMailboxes {
		mb, ok := byName[d.Name]
		if !ok {
			t.Errorf("default mailbox %q missing", d.Name)
			continue
		}
		if mb.SpecialUse != d.SpecialUse {
			t.Errorf("%q special-use = %q, want %q", d.Name, mb.SpecialUse, d.SpecialUse)
		}
		if mb.UIDValidity == 0 || mb.UIDNext != 1 {
			t.Errorf("%q: UIDVALIDITY %d UIDNEXT %d, want nonzero and 1", d.Name, mb.UIDValidity, mb.UIDNext)
		}
	}
}

func testEnsureAccountIdempotent(t *testing.T, h *harness) {
	h.account("alice")
	before, _ := h.s.Mailboxes(h.ctx, "alice")
	h.append("alice", h.box("alice", "INBOX").ID, msg(1))
	h.account("alice")
	after, _ := h.s.Mailboxes(h.ctx, "alice")
	if len(before) != len(after) {
		t.Fatalf("mailboxes %d then %d", len(before), len(after))
	}
	for i := range before {
		if before[i].ID != after[i].ID || before[i].UIDValidity != after[i].UIDValidity {
			t.Errorf("mailbox %q changed: %+v → %+v", before[i].Name, before[i], after[i])
		}
	}
	if n := h.status("alice", h.box("alice", "INBOX").ID).Messages; n != 1 {
		t.Errorf("INBOX has %d messages after second EnsureAccount, want 1", n)
	}
}

func testNoAccount(t *testing.T, h *harness) {
	_, err := h.s.Mailboxes(h.ctx, "nobody")
	wantErr(t, "Mailboxes", err, mailstore.ErrNoAccount)
	_, err = h.s.Mailbox(h.ctx, "nobody", "INBOX")
	wantErr(t, "Mailbox", err, mailstore.ErrNoAccount)
	_, err = h.s.CreateMailbox(h.ctx, "nobody", "x", "")
	wantErr(t, "CreateMailbox", err, mailstore.ErrNoAccount)
	err = h.s.DeleteAccount(h.ctx, "nobody")
	wantErr(t, "DeleteAccount", err, mailstore.ErrNoAccount)
}

func testDeleteAccount(t *testing.T, h *harness) {
	h.account("alice")
	h.account("bob")
	inbox := h.box("alice", "INBOX")
	h.append("alice", inbox.ID, msg(1))
	if err := h.s.DeleteAccount(h.ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	_, err := h.s.Mailboxes(h.ctx, "alice")
	wantErr(t, "Mailboxes after delete", err, mailstore.ErrNoAccount)
	_, err = h.s.Messages(h.ctx, "alice", inbox.ID)
	if err == nil {
		t.Error("Messages of a deleted account's mailbox succeeded")
	}
	h.box("bob", "INBOX") // other accounts untouched
	h.account("alice")
	if got := h.box("alice", "INBOX"); got.UIDValidity == inbox.UIDValidity {
		t.Errorf("re-created INBOX reuses UIDVALIDITY %d", got.UIDValidity)
	}
}

func testInboxCaseInsensitive(t *testing.T, h *harness) {
	h.account("alice")
	want := h.box("alice", "INBOX")
	for _, n := range []string{"inbox", "InBoX"} {
		if got := h.box("alice", n); got.ID != want.ID || got.Name != "INBOX" {
			t.Errorf("Mailbox(%q) = %+v, want INBOX", n, got)
		}
	}
	_, err := h.s.CreateMailbox(h.ctx, "alice", "inbox", "")
	wantErr(t, "create inbox", err, mailstore.ErrMailboxExists)
	// Other names are case-sensitive.
	h.create("alice", "Work")
	h.create("alice", "work")
}

func testCreateMailbox(t *testing.T, h *harness) {
	h.account("alice")
	mb, err := h.s.CreateMailbox(h.ctx, "alice", "Projects/2024/Q1", `\Archive`)
	if err != nil {
		t.Fatal(err)
	}
	if mb.Name != "Projects/2024/Q1" || mb.SpecialUse != `\Archive` || mb.UIDNext != 1 || mb.UIDValidity == 0 {
		t.Errorf("created %+v", mb)
	}
	for _, n := range []string{"Projects", "Projects/2024", "Projects/2024/Q1"} {
		h.box("alice", n)
	}
	if got := h.box("alice", "Projects/2024/Q1"); got != mb {
		t.Errorf("Mailbox = %+v, want %+v", got, mb)
	}
	_, err = h.s.CreateMailbox(h.ctx, "alice", "Projects/2024/Q1", "")
	wantErr(t, "create existing", err, mailstore.ErrMailboxExists)
	_, err = h.s.Mailbox(h.ctx, "alice", "Nope")
	wantErr(t, "Mailbox(Nope)", err, mailstore.ErrNoMailbox)
	// Non-ASCII names are stored as given.
	h.create("alice", "Entwürfe/Übersicht")
	h.box("alice", "Entwürfe")
}

func testInvalidNames(t *testing.T, h *harness) {
	h.account("alice")
	for _, n := range []string{"", "/", "/a", "a/", "a//b", "a*", "a%b", "a\x00b", "a\tb", "\x7f"} {
		_, err := h.s.CreateMailbox(h.ctx, "alice", n, "")
		wantErr(t, "CreateMailbox("+n+")", err, mailstore.ErrInvalidName)
	}
}

func testUIDValidity(t *testing.T, h *harness) {
	h.account("alice")
	seen := map[uint32]string{}
	mbs, _ := h.s.Mailboxes(h.ctx, "alice")
	for _, mb := range mbs {
		if other, dup := seen[mb.UIDValidity]; dup {
			t.Errorf("%q and %q share UIDVALIDITY %d", mb.Name, other, mb.UIDValidity)
		}
		seen[mb.UIDValidity] = mb.Name
	}
	a := h.create("alice", "A")
	if err := h.s.DeleteMailbox(h.ctx, "alice", "A"); err != nil {
		t.Fatal(err)
	}
	a2 := h.create("alice", "A")
	if a2.UIDValidity == a.UIDValidity {
		t.Errorf("re-created mailbox reuses UIDVALIDITY %d (RFC 3501 §2.3.1.1)", a.UIDValidity)
	}
	if err := h.s.RenameMailbox(h.ctx, "alice", "A", "B"); err != nil {
		t.Fatal(err)
	}
	if b := h.box("alice", "B"); b.UIDValidity != a2.UIDValidity || b.ID != a2.ID {
		t.Errorf("rename changed identity: %+v → %+v", a2, b)
	}
	a3 := h.create("alice", "A")
	if a3.UIDValidity == a.UIDValidity || a3.UIDValidity == a2.UIDValidity {
		t.Errorf("mailbox created under a renamed name reuses UIDVALIDITY %d", a3.UIDValidity)
	}
}

func testDeleteMailbox(t *testing.T, h *harness) {
	h.account("alice")
	mb := h.create("alice", "Old")
	h.append("alice", mb.ID, msg(1))
	if err := h.s.DeleteMailbox(h.ctx, "alice", "Old"); err != nil {
		t.Fatal(err)
	}
	_, err := h.s.Mailbox(h.ctx, "alice", "Old")
	wantErr(t, "Mailbox after delete", err, mailstore.ErrNoMailbox)
	_, err = h.s.Messages(h.ctx, "alice", mb.ID)
	wantErr(t, "Messages after delete", err, mailstore.ErrNoMailbox)
	wantErr(t, "delete again", h.s.DeleteMailbox(h.ctx, "alice", "Old"), mailstore.ErrNoMailbox)
	if err := h.s.DeleteMailbox(h.ctx, "alice", "inbox"); err == nil {
		t.Error("deleting INBOX succeeded")
	}
	h.box("alice", "INBOX")

	// RFC 3501 §6.3.4: a mailbox with children goes with its messages;
	// the children stay.
	p := h.create("alice", "P/C")
	h.append("alice", p.ID, msg(1))
	if err := h.s.DeleteMailbox(h.ctx, "alice", "P"); err != nil {
		t.Fatal("delete with children:", err)
	}
	_, err = h.s.Mailbox(h.ctx, "alice", "P")
	wantErr(t, "parent after delete", err, mailstore.ErrNoMailbox)
	if msgs := h.messages("alice", h.box("alice", "P/C").ID); len(msgs) != 1 {
		t.Errorf("child has %d messages after parent delete, want 1", len(msgs))
	}
	wantErr(t, "delete parent again", h.s.DeleteMailbox(h.ctx, "alice", "P"), mailstore.ErrNoMailbox)
}

func testRenameMailbox(t *testing.T, h *harness) {
	h.account("alice")
	a := h.create("alice", "A")
	ab := h.create("alice", "A/B")
	h.create("alice", "AB") // shares a prefix, not a child
	h.append("alice", ab.ID, msg(1))
	if err := h.s.RenameMailbox(h.ctx, "alice", "A", "X/Y"); err != nil {
		t.Fatal(err)
	}
	if got := h.box("alice", "X/Y"); got.ID != a.ID || got.UIDValidity != a.UIDValidity {
		t.Errorf("X/Y = %+v, want identity of A %+v", got, a)
	}
	got := h.box("alice", "X/Y/B")
	if got.ID != ab.ID || got.UIDValidity != ab.UIDValidity {
		t.Errorf("X/Y/B = %+v, want identity of A/B %+v", got, ab)
	}
	if n := len(h.messages("alice", got.ID)); n != 1 {
		t.Errorf("renamed child has %d messages, want 1", n)
	}
	h.box("alice", "X")
	h.box("alice", "AB")
	for _, n := range []string{"A", "A/B"} {
		_, err := h.s.Mailbox(h.ctx, "alice", n)
		wantErr(t, "old name "+n, err, mailstore.ErrNoMailbox)
	}
	wantErr(t, "rename missing", h.s.RenameMailbox(h.ctx, "alice", "Nope", "Z"), mailstore.ErrNoMailbox)
	wantErr(t, "rename onto existing", h.s.RenameMailbox(h.ctx, "alice", "AB", "Sent"), mailstore.ErrMailboxExists)
	wantErr(t, "rename onto INBOX", h.s.RenameMailbox(h.ctx, "alice", "AB", "inbox"), mailstore.ErrMailboxExists)
	wantErr(t, "rename to invalid", h.s.RenameMailbox(h.ctx, "alice", "AB", "a//b"), mailstore.ErrInvalidName)
	if err := h.s.RenameMailbox(h.ctx, "alice", "X", "X/Y/Z"); err == nil {
		t.Error("renaming a mailbox below itself succeeded")
	}
}

func testRenameInbox(t *testing.T, h *harness) {
	h.account("alice")
	inbox := h.box("alice", "INBOX")
	h.create("alice", "INBOX/Child")
	h.append("alice", inbox.ID, msg(1), `\Seen`)
	h.append("alice", inbox.ID, msg(2))
	before := h.messages("alice", inbox.ID)
	if err := h.s.RenameMailbox(h.ctx, "alice", "inbox", "Old Mail"); err != nil {
		t.Fatal(err)
	}
	// RFC 3501 §6.3.5: INBOX stays, empty, with its identity; children stay.
	after := h.box("alice", "INBOX")
	if after.ID != inbox.ID || after.UIDValidity != inbox.UIDValidity {
		t.Errorf("INBOX identity changed: %+v → %+v", inbox, after)
	}
	if after.UIDNext != 3 {
		t.Errorf("INBOX UIDNEXT = %d, want 3 (UIDs are never reused)", after.UIDNext)
	}
	if st := h.status("alice", inbox.ID); st.Messages != 0 {
		t.Errorf("INBOX has %d messages after rename", st.Messages)
	}
	h.box("alice", "INBOX/Child")
	old := h.box("alice", "Old Mail")
	moved := h.messages("alice", old.ID)
	if len(moved) != 2 || moved[0].UID != 1 || moved[1].UID != 2 {
		t.Fatalf("moved messages = %+v", moved)
	}
	for i := range moved {
		if moved[i].BlobID != before[i].BlobID || !slices.Equal(moved[i].Flags, before[i].Flags) {
			t.Errorf("moved message %d = %+v, was %+v", i, moved[i], before[i])
		}
	}
	ch, err := h.s.Changes(h.ctx, "alice", inbox.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ch.Expunged, []uint32{1, 2}) {
		t.Errorf("INBOX expunged = %v, want [1 2]", ch.Expunged)
	}
}

func testSubscriptions(t *testing.T, h *harness) {
	h.account("alice")
	h.create("alice", "News")
	for _, want := range []bool{true, false, true} {
		if err := h.s.SetSubscribed(h.ctx, "alice", "News", want); err != nil {
			t.Fatal(err)
		}
		if got := h.box("alice", "News").Subscribed; got != want {
			t.Errorf("Subscribed = %v, want %v", got, want)
		}
	}
	wantErr(t, "subscribe missing", h.s.SetSubscribed(h.ctx, "alice", "Nope", true), mailstore.ErrNoMailbox)

	// RFC 3501 §6.3.6: a subscription outlives its mailbox, follows a
	// rename, and can be removed after the mailbox is gone.
	wantSubs := func(what string, want ...string) {
		t.Helper()
		got, err := h.s.Subscriptions(h.ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		wantStrings(t, what, got, want...)
	}
	for _, n := range []string{"Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"} {
		if !h.box("alice", n).Subscribed {
			t.Errorf("default mailbox %s not subscribed", n)
		}
	}
	h.create("alice", "P/C")
	if err := h.s.SetSubscribed(h.ctx, "alice", "P/C", true); err != nil {
		t.Fatal(err)
	}
	if err := h.s.RenameMailbox(h.ctx, "alice", "P", "Q"); err != nil {
		t.Fatal(err)
	}
	if err := h.s.DeleteMailbox(h.ctx, "alice", "News"); err != nil {
		t.Fatal(err)
	}
	wantSubs("after delete and rename", "Archive", "Drafts", "INBOX", "Junk", "News", "Q/C", "Sent", "Trash")
	if h.create("alice", "News"); !h.box("alice", "News").Subscribed {
		t.Error("re-created mailbox lost its subscription")
	}
	if err := h.s.DeleteMailbox(h.ctx, "alice", "News"); err != nil {
		t.Fatal(err)
	}
	if err := h.s.SetSubscribed(h.ctx, "alice", "News", false); err != nil {
		t.Errorf("unsubscribe a deleted mailbox: %v", err)
	}
	wantSubs("after unsubscribe", "Archive", "Drafts", "INBOX", "Junk", "Q/C", "Sent", "Trash")
}

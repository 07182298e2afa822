package storetest

import (
	"slices"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

func (h *harness) setACL(owner, mailbox, identifier, rights string) {
	h.t.Helper()
	if err := h.s.SetACL(h.ctx, owner, mailbox, identifier, rights); err != nil {
		h.t.Fatalf("SetACL(%q, %q, %q, %q): %v", owner, mailbox, identifier, rights, err)
	}
}

// acl renders ACL(owner, mailboxID) as "identifier:rights" strings.
func (h *harness) acl(owner string, mailboxID int64) []string {
	h.t.Helper()
	entries, err := h.s.ACL(h.ctx, owner, mailboxID)
	if err != nil {
		h.t.Fatalf("ACL(%q, %d): %v", owner, mailboxID, err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Identifier+":"+e.Rights)
	}
	return out
}

// shared renders SharedWith(user) as "owner:name:rights" strings.
func (h *harness) shared(user string) []string {
	h.t.Helper()
	sms, err := h.s.SharedWith(h.ctx, user)
	if err != nil {
		h.t.Fatalf("SharedWith(%q): %v", user, err)
	}
	var out []string
	for _, sm := range sms {
		out = append(out, sm.Owner+":"+sm.Name+":"+sm.Rights)
	}
	return out
}

func wantStrings(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

// testACLSetReplaceRemove: rights are stored normalized, a second SetACL
// replaces the entry and empty rights remove it.
func testACLSetReplaceRemove(t *testing.T, h *harness) {
	h.account("alice")
	p := h.create("alice", "Projects")
	h.setACL("alice", "Projects", "bob", "rlrl")
	h.setACL("alice", "Projects", "anyone", "l")
	wantStrings(t, "ACL", h.acl("alice", p.ID), "anyone:l", "bob:lr")
	h.setACL("alice", "Projects", "bob", "trswie")
	wantStrings(t, "ACL after replace", h.acl("alice", p.ID), "anyone:l", "bob:eirstw")
	h.setACL("alice", "Projects", "bob", "")
	wantStrings(t, "ACL after remove", h.acl("alice", p.ID), "anyone:l")
	if err := h.s.SetACL(h.ctx, "alice", "Projects", "bob", "lz"); err == nil {
		t.Error("SetACL with an unknown right succeeded")
	}
	wantErr(t, "SetACL on missing mailbox", h.s.SetACL(h.ctx, "alice", "Nope", "bob", "l"), mailstore.ErrNoMailbox)
	h.account("bob")
	_, err := h.s.ACL(h.ctx, "bob", p.ID)
	wantErr(t, "ACL of another owner's mailbox", err, mailstore.ErrNoMailbox)
}

// testACLRenameDelete: the ACL follows RENAME and goes with DELETE (a
// re-created mailbox of the same name starts with no entries).
func testACLRenameDelete(t *testing.T, h *harness) {
	h.account("alice")
	h.account("bob")
	p := h.create("alice", "Projects")
	h.setACL("alice", "Projects", "bob", "lr")
	if err := h.s.RenameMailbox(h.ctx, "alice", "Projects", "Work/Projects"); err != nil {
		t.Fatal(err)
	}
	wantStrings(t, "ACL after rename", h.acl("alice", p.ID), "bob:lr")
	wantStrings(t, "SharedWith after rename", h.shared("bob"), "alice:Work/Projects:lr")
	if err := h.s.DeleteMailbox(h.ctx, "alice", "Work/Projects"); err != nil {
		t.Fatal(err)
	}
	wantStrings(t, "SharedWith after delete", h.shared("bob"))
	again := h.create("alice", "Work/Projects")
	wantStrings(t, "ACL of re-created mailbox", h.acl("alice", again.ID))
}

// testSharedWith: a user sees mailboxes granted to them or to "anyone"
// (rights merged), never their own.
func testSharedWith(t *testing.T, h *harness) {
	for _, u := range []string{"alice", "bob", "carol"} {
		h.account(u)
	}
	h.create("alice", "Projects")
	h.create("carol", "Public")
	h.setACL("alice", "Projects", "bob", "lr")
	h.setACL("alice", "Projects", "anyone", "ls")
	h.setACL("alice", "INBOX", "carol", "l")
	h.setACL("carol", "Public", "anyone", "lr")
	h.setACL("bob", "INBOX", "anyone", "l") // bob's own: never listed for bob
	wantStrings(t, "SharedWith(bob)", h.shared("bob"), "alice:Projects:lrs", "carol:Public:lr")
	wantStrings(t, "SharedWith(carol)", h.shared("carol"), "alice:INBOX:l", "alice:Projects:ls", "bob:INBOX:l")
	wantStrings(t, "SharedWith(dave)", h.shared("dave"), "alice:Projects:ls", "bob:INBOX:l", "carol:Public:lr")
	sms, err := h.s.SharedWith(h.ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if want := h.box("alice", "Projects"); sms[0].MailboxInfo != want {
		t.Errorf("SharedWith info = %+v, want %+v", sms[0].MailboxInfo, want)
	}
}

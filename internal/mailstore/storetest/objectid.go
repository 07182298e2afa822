package storetest

import (
	"regexp"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// objectIDSyntax is RFC 8474 §3 objectid.
var objectIDSyntax = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

// testMailboxObjectID: every mailbox has a MAILBOXID (RFC 8474 §4) of
// objectid syntax, unique across accounts, the same from every read, kept
// by RENAME (children too), and new for a new mailbox that reuses a name
// or takes over INBOX's messages.
func testMailboxObjectID(t *testing.T, h *harness) {
	h.account("alice")
	h.account("bob")
	a := h.create("alice", "A")
	ab := h.create("alice", "A/B")
	seen := map[string]string{}
	for _, user := range []string{"alice", "bob"} {
		boxes, err := h.s.Mailboxes(h.ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		for _, mb := range boxes {
			where := user + " " + mb.Name
			if !objectIDSyntax.MatchString(mb.ObjectID) {
				t.Errorf("%s: MAILBOXID %q is not an objectid", where, mb.ObjectID)
			}
			if other, dup := seen[mb.ObjectID]; dup {
				t.Errorf("%s and %s share MAILBOXID %q", where, other, mb.ObjectID)
			}
			seen[mb.ObjectID] = where
			if got := h.box(user, mb.Name).ObjectID; got != mb.ObjectID {
				t.Errorf("%s: Mailbox gives MAILBOXID %q, Mailboxes %q", where, got, mb.ObjectID)
			}
			if got := h.status(user, mb.ID).ObjectID; got != mb.ObjectID {
				t.Errorf("%s: Status gives MAILBOXID %q, Mailboxes %q", where, got, mb.ObjectID)
			}
		}
	}
	if a.ObjectID == "" || h.box("alice", "A").ObjectID != a.ObjectID {
		t.Errorf("CreateMailbox gave MAILBOXID %q, Mailbox %q", a.ObjectID, h.box("alice", "A").ObjectID)
	}

	if err := h.s.RenameMailbox(h.ctx, "alice", "A", "X"); err != nil {
		t.Fatal(err)
	}
	if got := h.box("alice", "X").ObjectID; got != a.ObjectID {
		t.Errorf("RENAME changed MAILBOXID %q to %q", a.ObjectID, got)
	}
	if got := h.box("alice", "X/B").ObjectID; got != ab.ObjectID {
		t.Errorf("RENAME changed the child's MAILBOXID %q to %q", ab.ObjectID, got)
	}
	if again := h.create("alice", "A"); again.ObjectID == a.ObjectID {
		t.Errorf("new mailbox A reuses the renamed one's MAILBOXID %q", a.ObjectID)
	}
	if err := h.s.DeleteMailbox(h.ctx, "alice", "X/B"); err != nil {
		t.Fatal(err)
	}
	if again := h.create("alice", "X/B"); again.ObjectID == ab.ObjectID {
		t.Errorf("re-created X/B reuses the deleted one's MAILBOXID %q", ab.ObjectID)
	}

	// RENAME INBOX moves its messages into a new mailbox (RFC 3501
	// §6.3.5), which gets an id of its own; INBOX keeps its id.
	inbox := h.box("alice", mailstore.Inbox)
	if err := h.s.RenameMailbox(h.ctx, "alice", mailstore.Inbox, "Old"); err != nil {
		t.Fatal(err)
	}
	if got := h.box("alice", mailstore.Inbox).ObjectID; got != inbox.ObjectID {
		t.Errorf("RENAME INBOX changed INBOX's MAILBOXID %q to %q", inbox.ObjectID, got)
	}
	if got := h.box("alice", "Old").ObjectID; got == inbox.ObjectID || got == "" {
		t.Errorf("mailbox made by RENAME INBOX has MAILBOXID %q (INBOX's is %q)", got, inbox.ObjectID)
	}
}

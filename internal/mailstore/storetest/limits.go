package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// RunLimits runs the conformance tests of configurable limits. open must
// return a new empty store that allows maxMailboxes mailboxes per account.
func RunLimits(t *testing.T, open func(t *testing.T, maxMailboxes int) mailstore.Store) {
	t.Run("MaxMailboxes", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
		defer cancel()
		testMaxMailboxes(t, &harness{t: t, s: open(t, len(mailstore.DefaultMailboxes)+4), ctx: ctx})
	})
}

func deepName(levels int) string {
	return strings.Repeat("x/", levels-1) + "x"
}

func (h *harness) mailboxCount(user string) int {
	h.t.Helper()
	mbs, err := h.s.Mailboxes(h.ctx, user)
	if err != nil {
		h.t.Fatal(err)
	}
	return len(mbs)
}

// wantLimit checks err is a *mailstore.LimitError with a text for the user.
func wantLimit(t *testing.T, what string, err error) {
	t.Helper()
	var le *mailstore.LimitError
	if !errors.As(err, &le) || !errors.Is(err, mailstore.ErrLimit) || le.Text == "" {
		t.Errorf("%s: err = %v, want a mailstore.LimitError", what, err)
	}
}

func testNameBounds(t *testing.T, h *harness) {
	h.account("alice")
	before := h.mailboxCount("alice")

	// Depth: 64 levels are allowed, 65 are not, and a refused CREATE
	// makes none of the parents.
	h.create("alice", "d/"+deepName(mailstore.MaxNameLevels-1))
	for _, n := range []string{"e/" + deepName(mailstore.MaxNameLevels), deepName(20000)} {
		_, err := h.s.CreateMailbox(h.ctx, "alice", n, "")
		wantLimit(t, "create "+n[:10]+"…", err)
	}
	if got := h.mailboxCount("alice"); got != before+mailstore.MaxNameLevels {
		t.Errorf("%d mailboxes after the refused creates, want %d", got, before+mailstore.MaxNameLevels)
	}
	_, err := h.s.Mailbox(h.ctx, "alice", "e")
	wantErr(t, "parent of a refused name", err, mailstore.ErrNoMailbox)

	// A level is bounded in bytes, not characters.
	h.create("alice", strings.Repeat("l", mailstore.MaxLevelBytes))
	for _, n := range []string{strings.Repeat("l", mailstore.MaxLevelBytes+1), "p/" + strings.Repeat("ü", 128)} {
		_, err := h.s.CreateMailbox(h.ctx, "alice", n, "")
		wantLimit(t, "create long level", err)
	}

	// The whole name: exactly MaxNameBytes is allowed.
	l := strings.Repeat("n", mailstore.MaxLevelBytes)
	full := l + "/" + l + "/" + l + "/" + l[1:] + "/n"
	if len(full) != mailstore.MaxNameBytes {
		t.Fatalf("test name is %d bytes", len(full))
	}
	h.create("alice", full)
	_, err = h.s.CreateMailbox(h.ctx, "alice", full+"n", "")
	wantLimit(t, "create 1025-byte name", err)

	// RENAME checks every name it makes, children included, and renames
	// nothing when one is out of bounds.
	h.create("alice", "R/C")
	err = h.s.RenameMailbox(h.ctx, "alice", "R", deepName(mailstore.MaxNameLevels))
	wantLimit(t, "rename child beyond depth", err)
	h.box("alice", "R/C")
	if err := h.s.RenameMailbox(h.ctx, "alice", "R", deepName(mailstore.MaxNameLevels-1)); err != nil {
		t.Fatalf("rename to depth %d with a child: %v", mailstore.MaxNameLevels-1, err)
	}
	h.box("alice", deepName(mailstore.MaxNameLevels-1)+"/C")
	err = h.s.RenameMailbox(h.ctx, "alice", "INBOX", deepName(mailstore.MaxNameLevels+1))
	wantLimit(t, "rename INBOX beyond depth", err)
}

func testMaxMailboxes(t *testing.T, h *harness) {
	h.account("alice")
	h.account("bob")
	h.create("alice", "A")
	h.create("alice", "B")
	h.create("alice", "C") // one left
	_, err := h.s.CreateMailbox(h.ctx, "alice", "D/E", "")
	wantLimit(t, "create needing two", err)
	_, err = h.s.Mailbox(h.ctx, "alice", "D")
	wantErr(t, "parent of a refused create", err, mailstore.ErrNoMailbox)
	h.create("alice", "D") // the last one
	_, err = h.s.CreateMailbox(h.ctx, "alice", "E", "")
	wantLimit(t, "create beyond the cap", err)
	wantLimit(t, "rename creating a parent", h.s.RenameMailbox(h.ctx, "alice", "A", "X/A"))
	wantLimit(t, "rename INBOX", h.s.RenameMailbox(h.ctx, "alice", "INBOX", "Old"))
	if err := h.s.RenameMailbox(h.ctx, "alice", "A", "Z"); err != nil {
		t.Errorf("rename at the cap: %v", err)
	}
	h.create("bob", "E") // per account
	if err := h.s.DeleteMailbox(h.ctx, "alice", "Z"); err != nil {
		t.Fatal(err)
	}
	h.create("alice", "E")
}

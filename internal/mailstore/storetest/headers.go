package storetest

import (
	"errors"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// testHeaders: the header cache answers each message's exact header
// section or nothing (the caller then reads the blob); once an engine's
// index has caught up it answers all of them. Other mailboxes' UIDs, and
// other accounts, get nothing.
func testHeaders(t *testing.T, h *harness) {
	h.account("alice")
	h.account("bob")
	inbox := h.box("alice", mailstore.Inbox)
	bodies := map[uint32]string{
		h.append("alice", inbox.ID, "Subject: one\r\nFrom: a@example.org\r\n\r\nbody one\r\n"): "Subject: one\r\nFrom: a@example.org\r\n\r\n",
		h.append("alice", inbox.ID, "Subject: bare LF\n\nbody\n"):                              "Subject: bare LF\n\n",
		h.append("alice", inbox.ID, "Subject: no body\r\n"):                                    "",
	}
	uids := h.uids("alice", inbox.ID)
	check := func(when string, wantAll bool) {
		t.Helper()
		got, err := h.s.Headers(h.ctx, "alice", inbox.ID, append(uids, 99))
		if err != nil {
			t.Fatalf("%s: Headers: %v", when, err)
		}
		for uid, want := range bodies {
			hdr, ok := got[uid]
			switch {
			case ok && string(hdr) != want:
				t.Errorf("%s: header of UID %d = %q, want %q", when, uid, hdr, want)
			case !ok && wantAll && want != "":
				t.Errorf("%s: header of UID %d missing after indexing", when, uid)
			}
		}
		if _, ok := got[99]; ok {
			t.Errorf("%s: a header for a UID that does not exist", when)
		}
	}
	check("before indexing", false)
	h.drainIndex()
	check("after indexing", true)
	// A message without a header/body separator is still indexed.
	if problems, err := h.s.Check(h.ctx); err != nil || len(problems) > 0 {
		t.Errorf("Check after indexing: %v %v", problems, err)
	}
	if _, err := h.s.Headers(h.ctx, "bob", inbox.ID, uids); !errors.Is(err, mailstore.ErrNoMailbox) {
		t.Errorf("Headers of alice's INBOX as bob: %v, want ErrNoMailbox", err)
	}
}

package imap

import (
	"context"
	"strings"
	"testing"
)

// claimRecent ends the \Recent state of the mailbox's messages, as a
// session that selected it would, for tests about other things.
func (e *testEnv) claimRecent(t testing.TB, user, mailbox string) {
	t.Helper()
	ctx := context.Background()
	mb, err := e.store.Mailbox(ctx, user, mailbox)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.ClaimRecent(ctx, user, mb.ID, mb.UIDNext); err != nil {
		t.Fatal(err)
	}
}

// TestRecentRev1: a session that has not enabled IMAP4rev2 speaks RFC 3501,
// where each message is \Recent to exactly one session, the first to
// select the mailbox read-write after it arrived (RFC 3501 §2.3.2): * n
// RECENT on SELECT and with new mail, the \Recent flag in FETCH (copies
// included), SEARCH RECENT/NEW/OLD. EXAMINE sees but does not claim;
// IMAP4rev2 sessions neither see nor claim.
func TestRecentRev1(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", testMsg)
	env.appendMessage(t, "alice", "INBOX", testMsg)

	a := dialRaw(t, env.addr)
	a.login("alice")
	b := dialRaw(t, env.addr)
	b.login("alice")

	a.cmd("a1 STATUS INBOX (MESSAGES RECENT)", `\* STATUS "INBOX" \(MESSAGES 2 RECENT 2\)`, `a1 OK STATUS completed`)
	wantLine(t, a.selectLines("a2", "SELECT INBOX", `OK [READ-WRITE] SELECT completed`), "* 2 RECENT")
	a.cmd("a3 FETCH 1:* FLAGS", `\* 1 FETCH \(FLAGS \(\\Recent\)\)`, `\* 2 FETCH \(FLAGS \(\\Recent\)\)`, `a3 OK FETCH completed`)
	a.cmd("a4 SEARCH RECENT", `\* SEARCH 1 2`, `a4 OK SEARCH completed`)
	a.cmd("a5 SEARCH NEW", `\* SEARCH 1 2`, `a5 OK SEARCH completed`)
	a.cmd("a6 SEARCH OLD", `\* SEARCH`, `a6 OK SEARCH completed`)

	// The second session gets nothing as recent.
	wantLine(t, b.selectLines("b1", "SELECT INBOX", `OK [READ-WRITE] SELECT completed`), "* 0 RECENT")
	b.cmd("b2 FETCH 1:* FLAGS", `\* 1 FETCH \(FLAGS \(\)\)`, `\* 2 FETCH \(FLAGS \(\)\)`, `b2 OK FETCH completed`)
	b.cmd("b3 SEARCH RECENT", `\* SEARCH`, `b3 OK SEARCH completed`)
	b.cmd("b4 SEARCH OLD", `\* SEARCH 1 2`, `b4 OK SEARCH completed`)
	b.cmd("b5 STATUS INBOX (RECENT)", `\* STATUS "INBOX" \(RECENT 0\)`, `b5 OK STATUS completed`)

	// New mail goes to the session that hears of it first.
	env.appendMessage(t, "alice", "INBOX", testMsg)
	b.cmd("b6 NOOP", `\* 3 EXISTS`, `\* 1 RECENT`, `b6 OK NOOP completed`)
	a.cmd("a7 NOOP", `\* 3 EXISTS`, `\* 2 RECENT`, `a7 OK NOOP completed`)
	b.cmd("b7 FETCH 3 FLAGS", `\* 3 FETCH \(FLAGS \(\\Recent\)\)`, `b7 OK FETCH completed`)
	a.cmd("a8 FETCH 3 FLAGS", `\* 3 FETCH \(FLAGS \(\)\)`, `a8 OK FETCH completed`)

	// \Recent stays through flag changes; NEW is RECENT UNSEEN.
	a.cmd(`a9 STORE 1 +FLAGS (\Seen)`, `\* 1 FETCH \(FLAGS \(\\Seen \\Recent\)\)`, `a9 OK STORE completed`)
	b.cmd("b8 NOOP", `\* 1 FETCH \(FLAGS \(\\Seen\)\)`, `b8 OK NOOP completed`)
	a.cmd("a10 SEARCH NEW", `\* SEARCH 2`, `a10 OK SEARCH completed`)
	a.cmd("a11 SEARCH OLD", `\* SEARCH 3`, `a11 OK SEARCH completed`)

	// A copy into the selected mailbox is recent (RFC 3501 §6.4.7).
	a.cmd("a12 COPY 1 INBOX", `\* 4 EXISTS`, `\* 3 RECENT`, `a12 OK \[COPYUID .*\] COPY completed`)
	a.cmd("a13 FETCH 4 FLAGS", `\* 4 FETCH \(FLAGS \(\\Seen \\Recent\)\)`, `a13 OK FETCH completed`)
	b.cmd("b9 NOOP", `\* 4 EXISTS`, `\* 1 RECENT`, `b9 OK NOOP completed`)

	// EXAMINE shows unclaimed mail as recent and leaves it to the next claimer.
	env.appendMessage(t, "alice", "INBOX", testMsg)
	e := dialRaw(t, env.addr)
	e.login("alice")
	wantLine(t, e.selectLines("e1", "EXAMINE INBOX", `OK [READ-ONLY] EXAMINE completed`), "* 1 RECENT")
	e.cmd("e2 FETCH 5 FLAGS", `\* 5 FETCH \(FLAGS \(\\Recent\)\)`, `e2 OK FETCH completed`)
	a.cmd("a14 NOOP", `\* 5 EXISTS`, `\* 4 RECENT`, `a14 OK NOOP completed`)

	// An IMAP4rev2 session neither sees nor claims \Recent.
	r := dialRaw(t, env.addr)
	r.login("alice")
	r.cmd("r1 ENABLE IMAP4rev2", `\* ENABLED IMAP4rev2`, `r1 OK .*`)
	for _, l := range r.selectLines("r2", "SELECT INBOX", `OK [READ-WRITE] SELECT completed`) {
		if strings.HasSuffix(l, " RECENT") {
			t.Errorf("rev2 SELECT sent %q", l)
		}
	}
	env.appendMessage(t, "alice", "INBOX", testMsg)
	r.cmd("r3 NOOP", `\* 6 EXISTS`, `r3 OK NOOP completed`)
	r.cmd("r4 FETCH 6 FLAGS", `\* 6 FETCH \(FLAGS \(\)\)`, `r4 OK FETCH completed`)
	b.cmd("b10 NOOP", `\* 6 EXISTS`, `\* 2 RECENT`, `b10 OK NOOP completed`)

	// Recent lasts for the session only.
	a.cmd("a15 UNSELECT", `a15 OK UNSELECT completed`)
	wantLine(t, a.selectLines("a16", "SELECT INBOX", `OK [READ-WRITE] SELECT completed`), "* 0 RECENT")
}

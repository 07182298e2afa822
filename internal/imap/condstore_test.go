package imap

import (
	"testing"
)

// TestTranscriptCondstore walks CONDSTORE (RFC 7162 §3.1): HIGHESTMODSEQ
// on SELECT, FETCH MODSEQ and CHANGEDSINCE, a STORE UNCHANGEDSINCE that
// loses a race with another session, SEARCH MODSEQ and STATUS.
func TestTranscriptCondstore(t *testing.T) {
	env := startServer(t)
	for range 3 {
		env.appendMessage(t, "alice", "INBOX", testMsg) // UIDs 1-3, MODSEQs 2-4
	}
	env.claimRecent(t, "alice", "INBOX")
	a := dialRaw(t, env.addr)
	a.cmd("a0 CAPABILITY", `\* CAPABILITY .* CONDSTORE QRESYNC( .*)?`, `a0 OK CAPABILITY completed`)
	a.login("alice")
	a.cmd("a1 SELECT INBOX (CONDSTORE)",
		`\* FLAGS .*`, `\* OK \[PERMANENTFLAGS .*`, `\* 3 EXISTS`, `\* 0 RECENT`, `\* OK \[UNSEEN 1\] .*`,
		`\* OK \[UIDVALIDITY \d+\] .*`, `\* OK \[UIDNEXT 4\] .*`, `\* OK \[HIGHESTMODSEQ 4\] .*`,
		`\* OK \[MAILBOXID \(F[A-Za-z0-9_-]+\)\] .*`,
		`a1 OK \[READ-WRITE\] SELECT completed`)
	a.cmd("a2 FETCH 1:* (FLAGS MODSEQ)",
		`\* 1 FETCH \(UID 1 FLAGS \(\) MODSEQ \(2\)\)`,
		`\* 2 FETCH \(UID 2 FLAGS \(\) MODSEQ \(3\)\)`,
		`\* 3 FETCH \(UID 3 FLAGS \(\) MODSEQ \(4\)\)`,
		`a2 OK FETCH completed`)
	a.cmd(`a3 STORE 1 +FLAGS (\Seen)`, `\* 1 FETCH \(UID 1 FLAGS \(\\Seen\) MODSEQ \(5\)\)`, `a3 OK STORE completed`)
	a.cmd("a4 FETCH 1:* (FLAGS) (CHANGEDSINCE 4)", `\* 1 FETCH \(UID 1 FLAGS \(\\Seen\) MODSEQ \(5\)\)`, `a4 OK FETCH completed`)
	a.cmd("a5 UID FETCH 1:* (UID) (CHANGEDSINCE 2)",
		`\* 1 FETCH \(UID 1 MODSEQ \(5\)\)`, `\* 2 FETCH \(UID 2 MODSEQ \(3\)\)`, `\* 3 FETCH \(UID 3 MODSEQ \(4\)\)`,
		`a5 OK UID FETCH completed`)
	a.cmd("a6 UID FETCH 1:* FLAGS (CHANGEDSINCE 4 VANISHED)", `a6 BAD .*`) // needs ENABLE QRESYNC

	// Session B flags UID 2; A's conditional STORE must not overwrite it.
	b := dialRaw(t, env.addr)
	b.login("alice")
	b.send("b1 SELECT INBOX\r\n")
	b.readUntilTagged("b1")
	b.cmd(`b2 STORE 2 +FLAGS.SILENT (\Flagged)`, `b2 OK STORE completed`) // MODSEQ 6

	a.cmd(`a7 STORE 2:3 (UNCHANGEDSINCE 5) +FLAGS (\Deleted)`,
		`\* 3 FETCH \(UID 3 FLAGS \(\\Deleted\) MODSEQ \(7\)\)`,
		`\* 2 FETCH \(UID 2 FLAGS \(\\Flagged\) MODSEQ \(6\)\)`, // B's change, reported before the tagged reply
		`a7 OK \[MODIFIED 2\] Conditional STORE failed`)
	a.cmd(`a8 UID STORE 1,2 (UNCHANGEDSINCE 6) +FLAGS.SILENT (\Answered)`,
		`\* 1 FETCH \(UID 1 MODSEQ \(8\)\)`, `\* 2 FETCH \(UID 2 MODSEQ \(8\)\)`, `a8 OK UID STORE completed`)
	a.cmd(`a9 UID STORE 3 (UNCHANGEDSINCE 0) FLAGS ()`, `a9 OK \[MODIFIED 3\] Conditional STORE failed`)

	a.cmd("c1 SEARCH MODSEQ 8", `\* SEARCH 1 2 \(MODSEQ 8\)`, `c1 OK SEARCH completed`)
	a.cmd(`c2 UID SEARCH MODSEQ "/flags/\\draft" all 7 DELETED`, `\* SEARCH 3 \(MODSEQ 7\)`, `c2 OK UID SEARCH completed`)
	a.cmd("c3 SEARCH MODSEQ 100", `\* SEARCH`, `c3 OK SEARCH completed`)
	a.cmd("c4 SEARCH RETURN (COUNT) MODSEQ 7", `\* ESEARCH \(TAG "c4"\) COUNT 3 MODSEQ 8`, `c4 OK SEARCH completed`)
	a.cmd("c5 SEARCH RETURN (MIN) MODSEQ 7", `\* ESEARCH \(TAG "c5"\) MIN 1 MODSEQ 8`, `c5 OK SEARCH completed`)
	a.cmd("c6 SEARCH MODSEQ x", `c6 BAD .*`)
	a.cmd("c7 STATUS INBOX (HIGHESTMODSEQ MESSAGES)", `\* STATUS "INBOX" \(HIGHESTMODSEQ 8 MESSAGES 3\)`, `c7 OK STATUS completed`)
	a.cmd("c8 STORE 1 (BOGUS 1) +FLAGS (\\Seen)", `c8 BAD .*`)
	a.cmd("c9 FETCH 1 FLAGS (CHANGEDSINCE)", `c9 BAD .*`)
}

// TestTranscriptCondstoreEnabling checks that a session speaks plain IMAP
// until a CONDSTORE-enabling command (RFC 7162 §3.1), which then reports
// HIGHESTMODSEQ once and adds UID and MODSEQ to every flags FETCH,
// including unsolicited ones.
func TestTranscriptCondstoreEnabling(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", testMsg) // MODSEQ 2
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")
	c.cmd("a1 FETCH 1 FLAGS", `\* 1 FETCH \(FLAGS \(\\Recent\)\)`, `a1 OK FETCH completed`)
	c.cmd(`a2 STORE 1 +FLAGS (\Seen)`, `\* 1 FETCH \(FLAGS \(\\Seen \\Recent\)\)`, `a2 OK STORE completed`) // MODSEQ 3
	c.cmd("a3 FETCH 1 MODSEQ", `\* OK \[HIGHESTMODSEQ 3\] .*`, `\* 1 FETCH \(MODSEQ \(3\)\)`, `a3 OK FETCH completed`)
	c.cmd("a4 FETCH 1 FLAGS", `\* 1 FETCH \(UID 1 FLAGS \(\\Seen \\Recent\) MODSEQ \(3\)\)`, `a4 OK FETCH completed`)
	c.cmd("a5 ENABLE CONDSTORE", `\* ENABLED CONDSTORE`, `a5 OK ENABLE completed`)

	other := dialRaw(t, env.addr)
	other.login("alice")
	other.send("s SELECT INBOX\r\n")
	other.readUntilTagged("s")
	other.cmd(`o1 STORE 1 -FLAGS.SILENT (\Seen)`, `o1 OK STORE completed`) // MODSEQ 4
	c.cmd("a6 NOOP", `\* 1 FETCH \(UID 1 FLAGS \(\\Recent\) MODSEQ \(4\)\)`, `a6 OK NOOP completed`)
	// A FETCH that sets \Seen reports the new MODSEQ with the flags.
	c.cmd("a7 FETCH 1 BODY[TEXT]<0.2>", `\* 1 FETCH \(UID 1 BODY\[TEXT\]<0> \{2\}`, `Hi MODSEQ \(5\) FLAGS \(\\Seen \\Recent\)\)`, `a7 OK FETCH completed`)

	fresh := dialRaw(t, env.addr)
	fresh.login("alice")
	fresh.cmd("f1 STATUS INBOX (HIGHESTMODSEQ)", `\* STATUS "INBOX" \(HIGHESTMODSEQ 5\)`, `f1 OK STATUS completed`)
	fresh.cmd("f2 ENABLE CONDSTORE QRESYNC", `\* ENABLED CONDSTORE QRESYNC`, `f2 OK ENABLE completed`)
}

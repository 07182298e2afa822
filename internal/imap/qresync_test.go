package imap

import (
	"context"
	"fmt"
	"testing"
)

// TestTranscriptQresync is the resynchronization of RFC 7162 §3.2.5: a
// client remembers UIDVALIDITY and HIGHESTMODSEQ, another session expunges
// and flags messages, and the client's reselect reports exactly that as
// VANISHED (EARLIER) and FETCH with MODSEQ.
func TestTranscriptQresync(t *testing.T) {
	env := startServer(t)
	for range 5 {
		env.appendMessage(t, "alice", "INBOX", testMsg) // UIDs 1-5, MODSEQs 2-6
	}
	inbox, err := env.store.Mailbox(context.Background(), "alice", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	uv := inbox.UIDValidity

	b := dialRaw(t, env.addr)
	b.login("alice")
	b.cmd("b0 SELECT INBOX (QRESYNC (1 1))", `b0 BAD .*`) // not enabled yet
	b.cmd("b1 ENABLE QRESYNC", `\* ENABLED QRESYNC`, `b1 OK ENABLE completed`)
	b.send("b2 SELECT INBOX\r\n")
	b.readUntilTagged("b2") // B caches UIDVALIDITY and HIGHESTMODSEQ 6
	b.cmd("b3 EXAMINE Sent", `\* OK \[CLOSED\] .*`, `\* FLAGS .*`, `\* OK \[PERMANENTFLAGS \(\)\] .*`,
		`\* 0 EXISTS`, `\* 0 RECENT`, `\* OK \[UIDVALIDITY \d+\] .*`, `\* OK \[UIDNEXT 1\] .*`,
		`\* OK \[HIGHESTMODSEQ 1\] .*`, `\* OK \[MAILBOXID \(F[A-Za-z0-9_-]+\)\] .*`, `b3 OK \[READ-ONLY\] EXAMINE completed`)

	a := dialRaw(t, env.addr)
	a.login("alice")
	a.send("a1 SELECT INBOX\r\n")
	a.readUntilTagged("a1")
	a.cmd(`a2 STORE 2 +FLAGS.SILENT (\Deleted)`, `a2 OK STORE completed`)                                                             // MODSEQ 7
	a.cmd(`a3 STORE 4 +FLAGS.SILENT (\Flagged)`, `a3 OK STORE completed`)                                                             // MODSEQ 8
	a.cmd("a4 EXPUNGE", `\* 2 EXPUNGE`, `a4 OK EXPUNGE completed`)                                                                    // MODSEQ 9
	a.cmd(`a5 UID STORE 5 +FLAGS.SILENT (\Seen)`, `a5 OK UID STORE completed`)                                                        // MODSEQ 10
	a.cmd(`a6 UID STORE 3 +FLAGS.SILENT ($Later)`, `\* FLAGS .* \$Later\)`, `\* OK \[PERMANENTFLAGS .*`, `a6 OK UID STORE completed`) // MODSEQ 11

	b.cmd(fmt.Sprintf("b4 SELECT INBOX (QRESYNC (%d 6 1:4))", uv),
		`\* OK \[CLOSED\] .*`, `\* FLAGS .*`, `\* OK \[PERMANENTFLAGS .*`, `\* 4 EXISTS`, `\* 0 RECENT`,
		`\* OK \[UNSEEN 1\] .*`, `\* OK \[UIDVALIDITY \d+\] .*`, `\* OK \[UIDNEXT 6\] .*`,
		`\* OK \[HIGHESTMODSEQ 11\] .*`, `\* OK \[MAILBOXID \(F[A-Za-z0-9_-]+\)\] .*`,
		`\* VANISHED \(EARLIER\) 2`,
		`\* 2 FETCH \(UID 3 FLAGS \(\$Later\) MODSEQ \(11\)\)`,
		`\* 3 FETCH \(UID 4 FLAGS \(\\Flagged\) MODSEQ \(8\)\)`, // UID 5 changed too, but B said it knows only 1:4
		`b4 OK \[READ-WRITE\] SELECT completed`)

	// Without known UIDs, with sequence match data, every change is reported.
	b.cmd(fmt.Sprintf("b5 EXAMINE INBOX (QRESYNC (%d 9 (1:3 1,3,4)))", uv),
		`\* OK \[CLOSED\] .*`, `\* FLAGS .*`, `\* OK \[PERMANENTFLAGS .*`, `\* 4 EXISTS`, `\* 0 RECENT`,
		`\* OK \[UNSEEN 1\] .*`, `\* OK \[UIDVALIDITY \d+\] .*`, `\* OK \[UIDNEXT 6\] .*`,
		`\* OK \[HIGHESTMODSEQ 11\] .*`, `\* OK \[MAILBOXID \(F[A-Za-z0-9_-]+\)\] .*`,
		`\* 2 FETCH \(UID 3 FLAGS \(\$Later\) MODSEQ \(11\)\)`,
		`\* 4 FETCH \(UID 5 FLAGS \(\\Seen\) MODSEQ \(10\)\)`,
		`b5 OK \[READ-ONLY\] EXAMINE completed`)
	// A stale UIDVALIDITY voids the cache: a plain SELECT.
	b.cmd(fmt.Sprintf("b6 SELECT INBOX (QRESYNC (%d 2))", uv+1),
		`\* OK \[CLOSED\] .*`, `\* FLAGS .*`, `\* OK \[PERMANENTFLAGS .*`, `\* 4 EXISTS`, `\* 0 RECENT`,
		`\* OK \[UNSEEN 1\] .*`, `\* OK \[UIDVALIDITY \d+\] .*`, `\* OK \[UIDNEXT 6\] .*`,
		`\* OK \[HIGHESTMODSEQ 11\] .*`, `\* OK \[MAILBOXID \(F[A-Za-z0-9_-]+\)\] .*`, `b6 OK \[READ-WRITE\] SELECT completed`)

	// After ENABLE QRESYNC, expunges arrive as VANISHED, unsolicited or not.
	a.cmd(`a7 STORE 1 +FLAGS.SILENT (\Deleted)`, `a7 OK STORE completed`) // MODSEQ 12
	a.cmd("a8 EXPUNGE", `\* 1 EXPUNGE`, `a8 OK EXPUNGE completed`)        // MODSEQ 13
	b.cmd("b7 NOOP", `\* VANISHED 1`, `b7 OK NOOP completed`)
	b.cmd("b8 UID FETCH 1:* FLAGS (CHANGEDSINCE 6 VANISHED)",
		`\* VANISHED \(EARLIER\) 1:2`,
		`\* 1 FETCH \(UID 3 FLAGS \(\$Later\) MODSEQ \(11\)\)`,
		`\* 2 FETCH \(UID 4 FLAGS \(\\Flagged\) MODSEQ \(8\)\)`,
		`\* 3 FETCH \(UID 5 FLAGS \(\\Seen\) MODSEQ \(10\)\)`,
		`b8 OK UID FETCH completed`)
	b.cmd("b9 FETCH 1:* FLAGS (CHANGEDSINCE 6 VANISHED)", `b9 BAD .*`) // UID FETCH only
	b.cmd(`b10 UID STORE 3:4 +FLAGS.SILENT (\Deleted)`,
		`\* 1 FETCH \(UID 3 MODSEQ \(14\)\)`, `\* 2 FETCH \(UID 4 MODSEQ \(14\)\)`, `b10 OK UID STORE completed`)
	b.cmd("b11 UID EXPUNGE 4", `\* VANISHED 4`, `b11 OK \[HIGHESTMODSEQ 15\] UID EXPUNGE completed`)
	b.cmd("b12 MOVE 1 Archive", `\* OK \[COPYUID \d+ 3 1\] Moved`, `\* VANISHED 3`, `b12 OK MOVE completed`)
	b.cmd("b13 FETCH 1 UID", `\* 1 FETCH \(UID 5\)`, `b13 OK FETCH completed`)
	b.cmd("b14 SELECT INBOX (QRESYNC (1 0))", `b14 BAD .*`)
}

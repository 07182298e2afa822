package imap

import (
	"fmt"
	"testing"
)

// TestTranscriptReplace: REPLACE appends the new message, then expunges
// the old one (RFC 8508 §3.1); a failed append leaves the old message in
// place (§3.3); UID REPLACE of a UID that does not exist is NO (§3.2).
func TestTranscriptReplace(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "Drafts", "Subject: draft 1\r\n\r\nv1\r\n", `\Draft`)
	env.appendMessage(t, "alice", "Drafts", "Subject: other\r\n\r\nkeep\r\n", `\Deleted`)
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.send("L2 CAPABILITY\r\n")
	c.expect(`\* CAPABILITY .* REPLACE( .*)?`, `L2 OK .*`)
	c.send("s SELECT Drafts\r\n")
	c.readUntilTagged("s")

	v2 := "Subject: draft 2\r\n\r\nv2\r\n"
	c.send(fmt.Sprintf("r1 REPLACE 1 Drafts (\\Seen \\Draft) {%d}\r\n", len(v2)))
	c.expect(`\+ .*`)
	c.cmd(v2,
		`\* OK \[APPENDUID \d+ 3\] Replacement Message ready`,
		`\* 1 EXPUNGE`, `\* 2 EXISTS`, `\* 2 RECENT`, `r1 OK REPLACE completed`)
	// The other \Deleted message was not expunged with it.
	c.cmd("r2 UID FETCH 1:* (FLAGS BODY.PEEK[TEXT])",
		`\* 1 FETCH \(UID 2 FLAGS \(\\Deleted \\Recent\) BODY\[TEXT\] \{6\}`, `keep`, `\)`,
		`\* 2 FETCH \(UID 3 FLAGS \(\\Draft \\Seen \\Recent\) BODY\[TEXT\] \{4\}`, `v2`, `\)`,
		`r2 OK UID FETCH completed`)

	// UID REPLACE into another mailbox.
	v3 := "Subject: draft 3\r\n\r\nv3\r\n"
	c.send(fmt.Sprintf("r3 UID REPLACE 3 INBOX {%d+}\r\n", len(v3)))
	c.cmd(v3, `\* OK \[APPENDUID \d+ 1\] Replacement Message ready`, `\* 2 EXPUNGE`, `r3 OK UID REPLACE completed`)
	c.cmd("r4 STATUS INBOX (MESSAGES)", `\* STATUS "INBOX" \(MESSAGES 1\)`, `r4 OK .*`)

	// Errors: no such UID (NO), no such sequence number (BAD), no such
	// target (TRYCREATE, the source stays).
	c.send(fmt.Sprintf("r5 UID REPLACE 99 Drafts {%d+}\r\n", len(v3)))
	c.cmd(v3, `r5 NO \[NONEXISTENT\] .*`)
	c.send(fmt.Sprintf("r6 REPLACE 5 Drafts {%d+}\r\n", len(v3)))
	c.cmd(v3, `r6 BAD .*`)
	c.send(fmt.Sprintf("r7 REPLACE 1 Nowhere {%d+}\r\n", len(v3)))
	c.cmd(v3, `r7 NO \[TRYCREATE\] .*`)
	c.cmd("r8 FETCH 1 (UID)", `\* 1 FETCH \(UID 2\)`, `r8 OK FETCH completed`)
	c.cmd("r9 REPLACE 1:2 Drafts x", `r9 BAD .*`)
	// Read-only: EXAMINE forbids it.
	c.send("e EXAMINE Drafts\r\n")
	c.readUntilTagged("e")
	c.send(fmt.Sprintf("r10 REPLACE 1 Drafts {%d+}\r\n", len(v3)))
	c.cmd(v3, `r10 NO .*`)
}

// TestTranscriptReplaceQresync: with QRESYNC the old message goes as
// VANISHED (RFC 8508 §3.1, RFC 7162 §3.2.10).
func TestTranscriptReplaceQresync(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "Drafts", "Subject: v1\r\n\r\nv1\r\n")
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.cmd("e ENABLE QRESYNC", `\* ENABLED QRESYNC`, `e OK .*`)
	c.send("s SELECT Drafts\r\n")
	c.readUntilTagged("s")
	v2 := "Subject: v2\r\n\r\nv2\r\n"
	c.send(fmt.Sprintf("r1 UID REPLACE 1 Drafts {%d+}\r\n", len(v2)))
	c.cmd(v2, `\* OK \[APPENDUID \d+ 2\] Replacement Message ready`, `\* VANISHED 1`,
		`\* 1 EXISTS`, `\* 1 RECENT`, `r1 OK UID REPLACE completed`)
}

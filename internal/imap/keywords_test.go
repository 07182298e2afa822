package imap

import (
	"fmt"
	"testing"
)

// TestNewKeywordAnnouncedBeforeFetch: a keyword new to the mailbox,
// whether set by this session's STORE or APPEND or by another session,
// is announced with FLAGS and PERMANENTFLAGS before any FETCH carries it
// (RFC 9051 §7.3.5, RFC 3501 §7.2.6).
func TestNewKeywordAnnouncedBeforeFetch(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", testMsg)
	a := dialRaw(t, env.addr)
	a.login("alice")
	b := dialRaw(t, env.addr)
	b.login("alice")
	for _, c := range []*tconn{a, b} {
		c.cmd("s1 SELECT INBOX",
			`\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft\)`,
			`\* OK \[PERMANENTFLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \\\*\)\] .*`,
			`\* 1 EXISTS`, `\* \d+ RECENT`, `\* OK \[UNSEEN 1\] .*`, `\* OK \[UIDVALIDITY \d+\] .*`,
			`\* OK \[UIDNEXT 2\] .*`, `\* OK \[HIGHESTMODSEQ \d+\] .*`, `\* OK \[MAILBOXID .*`,
			`s1 OK \[READ-WRITE\] SELECT completed`)
	}

	// This session's STORE: FLAGS first, then the FETCH.
	b.cmd("b1 STORE 1 +FLAGS ($Urgent)",
		`\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \$Urgent\)`,
		`\* OK \[PERMANENTFLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \$Urgent \\\*\)\] .*`,
		`\* 1 FETCH \(FLAGS \(\$Urgent\)\)`,
		`b1 OK STORE completed`)
	// Known now: no second announcement.
	b.cmd("b2 STORE 1 -FLAGS ($Urgent)", `\* 1 FETCH \(FLAGS \(\)\)`, `b2 OK STORE completed`)
	b.cmd("b3 STORE 1 +FLAGS ($Urgent)", `\* 1 FETCH \(FLAGS \(\$Urgent\)\)`, `b3 OK STORE completed`)

	// Another session's STORE.
	a.cmd("a1 NOOP",
		`\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \$Urgent\)`,
		`\* OK \[PERMANENTFLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \$Urgent \\\*\)\] .*`,
		`\* 1 FETCH \(FLAGS \(\$Urgent \\Recent\)\)`, // a selected first (recent_test.go)
		`a1 OK NOOP completed`)

	// This session's APPEND into the selected mailbox, then the other's.
	b.cmd(fmt.Sprintf("b4 APPEND INBOX ($Later) {%d+}\r\n%s", len(testMsg), testMsg),
		`\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \$Later \$Urgent\)`,
		`\* OK \[PERMANENTFLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \$Later \$Urgent \\\*\)\] .*`,
		`\* 2 EXISTS`, `\* 1 RECENT`,
		`b4 OK \[APPENDUID \d+ 2\] APPEND completed`)
	a.cmd("a2 NOOP",
		`\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \$Later \$Urgent\)`,
		`\* OK \[PERMANENTFLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \$Later \$Urgent \\\*\)\] .*`,
		`\* 2 EXISTS`, `\* 1 RECENT`,
		`a2 OK NOOP completed`)
	a.cmd("a3 FETCH 2 FLAGS", `\* 2 FETCH \(FLAGS \(\$Later\)\)`, `a3 OK FETCH completed`)

	// A read-only session gets FLAGS and an empty PERMANENTFLAGS.
	r := dialRaw(t, env.addr)
	r.login("alice")
	r.send("r1 EXAMINE INBOX\r\n")
	r.readUntilTagged("r1")
	b.cmd("b5 STORE 1 +FLAGS (Todo)",
		`\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \$Later \$Urgent Todo\)`,
		`\* OK \[PERMANENTFLAGS \(.* Todo \\\*\)\] .*`,
		`\* 1 FETCH \(FLAGS \(\$Urgent Todo\)\)`,
		`b5 OK STORE completed`)
	r.cmd("r2 NOOP",
		`\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \$Later \$Urgent Todo\)`,
		`\* OK \[PERMANENTFLAGS \(\)\] .*`,
		`\* 1 FETCH \(FLAGS \(\$Urgent Todo\)\)`,
		`r2 OK NOOP completed`)
}

// TestImplicitSeenAnnouncesKeywords: a FETCH that sets \Seen reports the
// message's flags as stored, which may hold a keyword another session
// just set; FLAGS announces it before that FETCH (RFC 9051 §7.3.5).
func TestImplicitSeenAnnouncesKeywords(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", testMsg)
	a := dialRaw(t, env.addr)
	a.login("alice")
	b := dialRaw(t, env.addr)
	b.login("alice")
	for _, c := range []*tconn{a, b} {
		c.cmd("e1 ENABLE IMAP4rev2", `\* ENABLED IMAP4rev2`, `e1 OK .*`)
		c.send("s1 SELECT INBOX\r\n")
		c.readUntilTagged("s1")
	}
	b.send("b1 STORE 1 +FLAGS (Later)\r\n")
	b.readUntilTagged("b1")
	a.cmd("a1 FETCH 1 BODY[HEADER.FIELDS (SUBJECT)]",
		`\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft Later\)`,
		`\* OK \[PERMANENTFLAGS \(.* Later \\\*\)\] .*`,
		`\* 1 FETCH \(BODY\[HEADER\.FIELDS \("SUBJECT"\)\] \{24\}`,
		`Subject: Hello there`, ``,
		` FLAGS \(Later \\Seen\)\)`,
		`a1 OK FETCH completed`)
}

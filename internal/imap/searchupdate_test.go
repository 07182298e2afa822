package imap

import (
	"fmt"
	"testing"
)

// TestTranscriptSearchUpdate: SEARCH RETURN (UPDATE) keeps the search
// live: changes made by this session or another are followed by
// unsolicited ESEARCH ADDTO and REMOVEFROM until CANCELUPDATE (RFC 5267
// §4.3). An expunged message leaves a UID result by REMOVEFROM and a
// sequence-number result by its EXPUNGE.
func TestTranscriptSearchUpdate(t *testing.T) {
	env := startServer(t)
	for i := 1; i <= 6; i++ {
		env.appendMessage(t, "alice", "INBOX", fmt.Sprintf("Subject: s%d\r\n\r\nbody %d\r\n", i, i))
	}
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.send("L2 CAPABILITY\r\n")
	c.expect(`\* CAPABILITY .* CONTEXT=SEARCH( .*)?`, `L2 OK .*`)
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")
	other := dialRaw(t, env.addr)
	other.login("alice")
	other.send("s SELECT INBOX\r\n")
	other.readUntilTagged("s")

	c.cmd("A1 SEARCH RETURN (UPDATE) BODY body SEEN", `\* ESEARCH \(TAG "A1"\)`, `A1 OK SEARCH completed`)
	c.cmd("A2 UID SEARCH RETURN (UPDATE COUNT CONTEXT) SEEN", `\* ESEARCH \(TAG "A2"\) UID COUNT 0`, `A2 OK UID SEARCH completed`)
	c.cmd("A3 STORE 1,2,5 +FLAGS.SILENT (\\Seen)",
		`\* ESEARCH \(TAG "A1"\) ADDTO \(0 1:2,5\)`, `\* ESEARCH \(TAG "A2"\) UID ADDTO \(0 1:2,5\)`, `A3 OK STORE completed`)
	// Another session's change shows at the next command.
	other.send("o1 STORE 1 -FLAGS.SILENT (\\Seen)\r\n")
	other.readUntilTagged("o1")
	c.cmd("A4 NOOP", `\* 1 FETCH \(FLAGS \(\\Recent\)\)`,
		`\* ESEARCH \(TAG "A1"\) REMOVEFROM \(0 1\)`, `\* ESEARCH \(TAG "A2"\) UID REMOVEFROM \(0 1\)`, `A4 OK NOOP completed`)
	c.cmd("A5 STORE 4:5 +FLAGS.SILENT (\\Deleted)", `A5 OK STORE completed`)
	c.cmd("A6 EXPUNGE", `\* 5 EXPUNGE`, `\* 4 EXPUNGE`, `\* ESEARCH \(TAG "A2"\) UID REMOVEFROM \(0 5\)`, `A6 OK EXPUNGE completed`)
	// The tag of a live search cannot be reused; a finished search can.
	c.cmd("A1 SEARCH RETURN (UPDATE) ALL", `A1 BAD .*`)
	c.cmd(`A7 CANCELUPDATE "A1"`, `A7 OK CANCELUPDATE completed`)
	c.cmd("A8 STORE 3 +FLAGS.SILENT (\\Seen)", `\* ESEARCH \(TAG "A2"\) UID ADDTO \(0 3\)`, `A8 OK STORE completed`)
	c.cmd(`A9 CANCELUPDATE "A2"`, `A9 OK CANCELUPDATE completed`)
	c.cmd("A10 STORE 1 +FLAGS.SILENT (\\Seen)", `A10 OK STORE completed`)
	c.cmd(`A11 CANCELUPDATE "A2"`, `A11 NO .*`)
	c.cmd(`A12 CANCELUPDATE A2`, `A12 BAD .*`)
	c.cmd(`A13 CANCELUPDATE`, `A13 BAD .*`)
	c.cmd("A14 SEARCH RETURN (UPDATE UPDATE) ALL", `A14 BAD .*`)
	c.cmd("A15 SORT RETURN (UPDATE UPDATE) (DATE) UTF-8 ALL", `A15 BAD .*`)
	// A new SELECT ends the live searches.
	c.cmd("A16 UID SEARCH RETURN (UPDATE) UNSEEN", `\* ESEARCH \(TAG "A16"\) UID ALL 6`, `A16 OK UID SEARCH completed`)
	c.send("s2 SELECT INBOX\r\n")
	c.readUntilTagged("s2")
	c.cmd(`A17 CANCELUPDATE "A16"`, `A17 NO .*`)
}

// TestTranscriptSortUpdate: SORT RETURN (UPDATE) (CONTEXT=SORT, RFC 5267
// §4.3) reports entering and leaving messages with their position in the
// sorted result: removals from the highest position down, additions at
// their place in the new order.
func TestTranscriptSortUpdate(t *testing.T) {
	env := startServer(t)
	for _, subj := range []string{"d", "b", "c", "a"} {
		env.appendMessage(t, "alice", "INBOX", "Subject: "+subj+"\r\n\r\nx\r\n")
	}
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.send("L2 CAPABILITY\r\n")
	c.expect(`\* CAPABILITY .* CONTEXT=SEARCH CONTEXT=SORT( .*)?`, `L2 OK .*`)
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")
	c.cmd("B1 UID SORT RETURN (UPDATE ALL) (SUBJECT) UTF-8 SEEN", `\* ESEARCH \(TAG "B1"\) UID`, `B1 OK UID SORT completed`)
	c.cmd("B2 SORT RETURN (UPDATE) (REVERSE SUBJECT) UTF-8 UNSEEN", `\* ESEARCH \(TAG "B2"\) ALL 1,3,2,4`, `B2 OK SORT completed`)
	c.cmd("B3 STORE 1,3 +FLAGS.SILENT (\\Seen)",
		`\* ESEARCH \(TAG "B1"\) UID ADDTO \(1 3\) ADDTO \(2 1\)`,
		`\* ESEARCH \(TAG "B2"\) REMOVEFROM \(2 3\) REMOVEFROM \(1 1\)`, `B3 OK STORE completed`)
	c.cmd("B4 STORE 2 +FLAGS.SILENT (\\Seen)",
		`\* ESEARCH \(TAG "B1"\) UID ADDTO \(1 2\)`, `\* ESEARCH \(TAG "B2"\) REMOVEFROM \(1 2\)`, `B4 OK STORE completed`)
	c.cmd("B5 STORE 3 -FLAGS.SILENT (\\Seen)",
		`\* ESEARCH \(TAG "B1"\) UID REMOVEFROM \(2 3\)`, `\* ESEARCH \(TAG "B2"\) ADDTO \(1 3\)`, `B5 OK STORE completed`)
	c.cmd("B6 STORE 1 +FLAGS.SILENT (\\Deleted)", `B6 OK STORE completed`)
	c.cmd("B7 EXPUNGE", `\* 1 EXPUNGE`, `\* ESEARCH \(TAG "B1"\) UID REMOVEFROM \(2 1\)`, `B7 OK EXPUNGE completed`)
	c.cmd("B8 UID SORT RETURN (ALL) (SUBJECT) UTF-8 SEEN", `\* ESEARCH \(TAG "B8"\) UID ALL 2`, `B8 OK UID SORT completed`)
}

// TestTranscriptSearchUpdateIdle: during IDLE, another session's change
// reaches a live search at once.
func TestTranscriptSearchUpdateIdle(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", "Subject: one\r\n\r\nx\r\n")
	env.claimRecent(t, "alice", "INBOX")
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")
	c.cmd("u1 UID SEARCH RETURN (UPDATE) FLAGGED", `\* ESEARCH \(TAG "u1"\) UID`, `u1 OK UID SEARCH completed`)
	c.send("i IDLE\r\n")
	c.expect(`\+ idling`)
	other := dialRaw(t, env.addr)
	other.login("alice")
	other.send("s SELECT INBOX\r\n")
	other.readUntilTagged("s")
	other.send("o1 STORE 1 +FLAGS.SILENT (\\Flagged)\r\n")
	other.readUntilTagged("o1")
	c.expect(`\* 1 FETCH \(FLAGS \(\\Flagged\)\)`, `\* ESEARCH \(TAG "u1"\) UID ADDTO \(0 1\)`)
	c.cmd("DONE", `i OK IDLE terminated`)
}

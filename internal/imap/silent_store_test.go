package imap

import "testing"

// TestSilentStoreReportsOthersChange: STORE .SILENT leaves out the FETCH
// only while the client can work out the new flags itself. When another
// session changed the message first, the result folds in that change, so
// the server reports the flags anyway (RFC 9051 §6.4.6: "Regardless of
// whether or not the .SILENT suffix was used, the server SHOULD send an
// untagged FETCH response if a change to a message's flags from an
// external source is observed"); otherwise that change is never told.
func TestSilentStoreReportsOthersChange(t *testing.T) {
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

	a.cmd(`a1 STORE 1 +FLAGS (\Seen)`, `\* 1 FETCH \(FLAGS \(\\Seen\)\)`, `a1 OK STORE completed`)
	b.cmd(`b1 STORE 1 +FLAGS.SILENT (\Flagged)`,
		`\* 1 FETCH \(FLAGS \(\\Flagged \\Seen\)\)`,
		`b1 OK STORE completed`)
	// Nothing was left untold.
	b.cmd("b2 NOOP", `b2 OK NOOP completed`)
	// Foreseeable: silent.
	b.cmd(`b3 STORE 1 -FLAGS.SILENT (\flagged)`, `b3 OK STORE completed`)
	b.cmd("b4 FETCH 1 FLAGS", `\* 1 FETCH \(FLAGS \(\\Seen\)\)`, `b4 OK FETCH completed`)
}

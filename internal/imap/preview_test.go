package imap

import "testing"

func TestTranscriptPreview(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", testMsg)
	env.appendMessage(t, "alice", "INBOX", "Content-Type: text/html; charset=utf-8\r\n\r\n<p>Gr&uuml;&szlig;e &quot;aus&quot; K&ouml;ln</p>\r\n")
	env.appendMessage(t, "alice", "INBOX", "Content-Type: image/gif\r\n\r\nGIF89a\r\n")
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.cmd("a0 CAPABILITY", `\* CAPABILITY .* PREVIEW.*`, `a0 OK .*`)
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")
	c.cmd("a1 FETCH 1 PREVIEW", `\* 1 FETCH \(PREVIEW "Hi Bob, this is a test."\)`, `a1 OK FETCH completed`)
	// Non-ASCII text is sent as a literal; PREVIEW does not set \Seen.
	c.cmd("a2 FETCH 2 (FLAGS PREVIEW (LAZY))", `\* 2 FETCH \(FLAGS \(\\Recent\) PREVIEW \{\d+\}`, `Grüße "aus" Köln\)`, `a2 OK FETCH completed`)
	c.cmd("a3 UID FETCH 3 (PREVIEW)", `\* 3 FETCH \(UID 3 PREVIEW ""\)`, `a3 OK UID FETCH completed`)
	c.cmd("a6 FETCH 1 FLAGS", `\* 1 FETCH \(FLAGS \(\\Recent\)\)`, `a6 OK FETCH completed`)
	// A list after a lone PREVIEW that is not (LAZY) is the fetch modifiers.
	c.cmd("a4 FETCH 1 PREVIEW (CHANGEDSINCE 0)", `\* OK \[HIGHESTMODSEQ \d+\] .*`, `\* 1 FETCH \(PREVIEW ".*" MODSEQ \(\d+\)\)`, `a4 OK FETCH completed`)
	c.cmd("a5 FETCH 1 (PREVIEW (LAZY FOO))", `a5 BAD .*`)
}

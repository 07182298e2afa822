package imap

import (
	"testing"
)

func TestTranscriptESearchSearchRes(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", testMsg, `\Flagged`)
	env.appendMessage(t, "alice", "INBOX", testMsg)
	env.appendMessage(t, "alice", "INBOX", testMsg, `\Flagged`)
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")
	c.cmd("e1 SEARCH RETURN (MIN MAX COUNT) ALL", `\* ESEARCH \(TAG "e1"\) MIN 1 MAX 3 COUNT 3`, `e1 OK SEARCH completed`)
	c.cmd("e2 UID SEARCH RETURN () FLAGGED", `\* ESEARCH \(TAG "e2"\) UID ALL 1,3`, `e2 OK UID SEARCH completed`)
	c.cmd("e3 SEARCH RETURN (COUNT) DELETED", `\* ESEARCH \(TAG "e3"\) COUNT 0`, `e3 OK SEARCH completed`)
	c.cmd("e4 SEARCH RETURN (ALL) DELETED", `\* ESEARCH \(TAG "e4"\)`, `e4 OK SEARCH completed`)
	c.cmd("e5 SEARCH RETURN (SAVE) FLAGGED", `e5 OK SEARCH completed`)
	c.cmd("e6 FETCH $ (UID)", `\* 1 FETCH \(UID 1\)`, `\* 3 FETCH \(UID 3\)`, `e6 OK FETCH completed`)
	c.cmd("e7 SEARCH $ UNFLAGGED", `\* SEARCH`, `e7 OK SEARCH completed`)
	c.cmd("e8 UID SEARCH RETURN (SAVE MIN) FLAGGED", `\* ESEARCH \(TAG "e8"\) UID MIN 1`, `e8 OK UID SEARCH completed`)
	c.cmd("e9 UID STORE $ +FLAGS.SILENT (\\Seen)", `e9 OK UID STORE completed`)
	c.cmd("e10 SEARCH SEEN", `\* SEARCH 1`, `e10 OK SEARCH completed`)
	c.cmd("e11 SEARCH RETURN (BOGUS) ALL", `e11 BAD .*`)
}

func TestTranscriptListExtended(t *testing.T) {
	env := startServer(t)
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.cmd("a1 CREATE Lists/Go", `a1 OK .*`)
	c.cmd("a2 SUBSCRIBE Lists/Go", `a2 OK .*`)
	c.cmd(`b1 LIST (SPECIAL-USE) "" *`,
		`\* LIST \(\\HasNoChildren \\Archive\) "/" "Archive"`,
		`\* LIST \(\\HasNoChildren \\Drafts\) "/" "Drafts"`,
		`\* LIST \(\\HasNoChildren \\Junk\) "/" "Junk"`,
		`\* LIST \(\\HasNoChildren \\Sent\) "/" "Sent"`,
		`\* LIST \(\\HasNoChildren \\Trash\) "/" "Trash"`,
		`b1 OK LIST completed`)
	c.cmd(`b2 LIST (SUBSCRIBED RECURSIVEMATCH) "" Lists`,
		`\* LIST \(\\HasChildren\) "/" "Lists" \("CHILDINFO" \("SUBSCRIBED"\)\)`,
		`b2 OK LIST completed`)
	c.cmd(`b3 LIST "" (INBOX "Lists/%") RETURN (SUBSCRIBED STATUS (MESSAGES UIDNEXT))`,
		`\* LIST \(\\HasNoChildren \\Subscribed\) "/" "INBOX"`,
		`\* STATUS "INBOX" \(MESSAGES 0 UIDNEXT 1\)`,
		`\* LIST \(\\HasNoChildren \\Subscribed\) "/" "Lists/Go"`,
		`\* STATUS "Lists/Go" \(MESSAGES 0 UIDNEXT 1\)`,
		`b3 OK LIST completed`)
	c.cmd(`b4 LIST (RECURSIVEMATCH) "" *`, `b4 BAD .*`)
	c.cmd(`b5 LIST "" * RETURN (STATUS (BOGUS))`, `b5 BAD .*`)
	c.cmd(`b6 LIST "" %`,
		`\* LIST .* "Archive"`, `\* LIST .* "Drafts"`, `\* LIST .* "INBOX"`, `\* LIST .* "Junk"`,
		`\* LIST \(\\HasChildren\) "/" "Lists"`, `\* LIST .* "Sent"`, `\* LIST .* "Trash"`,
		`b6 OK LIST completed`)
}

func TestBinaryFetch(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", multipartMsg)
	env.appendMessage(t, "alice", "INBOX", "Subject: qp\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=\r\nsse\r\n")
	env.appendMessage(t, "alice", "INBOX", "Subject: x\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin\r\n")
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")
	c.cmd("b1 FETCH 1 (BINARY.SIZE[2] BINARY.PEEK[2])",
		`\* 1 FETCH \(BINARY.SIZE\[2\] 10 BINARY\[2\] ~\{10\}`, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\\)",
		`b1 OK FETCH completed`)
	c.cmd("b2 FETCH 2 BINARY.PEEK[1]<0.7>", `\* 2 FETCH \(BINARY\[1\]<0> \{7\}`, `Grüsse\)`, `b2 OK FETCH completed`)
	c.cmd("b3 FETCH 3 BINARY.PEEK[]", `b3 NO \[UNKNOWN-CTE\] .*`)
	c.cmd("b4 FETCH 1 BINARY[1]", `\* 1 FETCH \(BINARY\[1\] \{\d+\}`, `Grüße, the numbers are in. Keyword: pineapple FLAGS \(\\Seen \\Recent\)\)`, `b4 OK FETCH completed`)
}

func TestTranscriptIMAP4rev2(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", testMsg, `\Seen`)
	env.appendMessage(t, "alice", "INBOX", testMsg)
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.cmd("a1 ENABLE IMAP4rev2", `\* ENABLED IMAP4rev2`, `a1 OK ENABLE completed`)
	c.cmd("a2 CREATE Entwürfe", `a2 OK \[MAILBOXID \(F[A-Za-z0-9_-]+\)\] CREATE completed`)
	c.cmd("a3 SELECT INBOX",
		`\* FLAGS .*`, `\* OK \[PERMANENTFLAGS .*`, `\* 2 EXISTS`, `\* LIST \(\) "/" "INBOX"`,
		`\* OK \[UIDVALIDITY \d+\] .*`, `\* OK \[UIDNEXT 3\] .*`, `\* OK \[HIGHESTMODSEQ \d+\] .*`, `\* OK \[MAILBOXID \(F[A-Za-z0-9_-]+\)\] .*`, `a3 OK \[READ-WRITE\] SELECT completed`)
	c.cmd("a4 SEARCH UNSEEN", `\* ESEARCH \(TAG "a4"\) ALL 2`, `a4 OK SEARCH completed`)
	c.cmd("a5 UID SEARCH DELETED", `\* ESEARCH \(TAG "a5"\) UID`, `a5 OK UID SEARCH completed`)
	c.cmd(`a6 EXAMINE "Entwürfe"`,
		`\* OK \[CLOSED\] .*`, `\* FLAGS .*`, `\* OK \[PERMANENTFLAGS \(\)\] .*`, `\* 0 EXISTS`, `\* LIST \(\) "/" "Entwürfe"`,
		`\* OK \[UIDVALIDITY \d+\] .*`, `\* OK \[UIDNEXT 1\] .*`, `\* OK \[HIGHESTMODSEQ \d+\] .*`, `\* OK \[MAILBOXID \(F[A-Za-z0-9_-]+\)\] .*`, `a6 OK \[READ-ONLY\] EXAMINE completed`)
}

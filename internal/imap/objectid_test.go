package imap

import (
	"regexp"
	"testing"
)

// submatch reads one line, which must match pattern whole, and returns its
// first group.
func (c *tconn) submatch(pattern string) string {
	c.t.Helper()
	line := c.readLine()
	m := regexp.MustCompile(`^(?:` + pattern + `)$`).FindStringSubmatch(line)
	if m == nil {
		c.t.Fatalf("got  %q\nwant %q", line, pattern)
	}
	return m[1]
}

func TestTranscriptObjectID(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", testMsg)
	env.appendMessage(t, "alice", "INBOX", testMsg+"second\r\n")
	env.appendMessage(t, "alice", "INBOX", testMsg) // identical content to UID 1
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.cmd("a0 CAPABILITY", `\* CAPABILITY .* OBJECTID.*`, `a0 OK .*`)

	// MAILBOXID (RFC 8474 §4): from CREATE, the same in STATUS and after
	// RENAME, a new one for a new mailbox of the same name.
	c.send("a1 CREATE Box\r\n")
	box := c.submatch(`a1 OK \[MAILBOXID \(([A-Za-z0-9_-]+)\)\] CREATE completed`)
	c.cmd("a2 STATUS Box (MAILBOXID MESSAGES)", `\* STATUS "Box" \(MAILBOXID \(`+box+`\) MESSAGES 0\)`, `a2 OK .*`)
	c.cmd("a3 RENAME Box Renamed", `a3 OK .*`)
	c.cmd("a4 STATUS Renamed (MAILBOXID)", `\* STATUS "Renamed" \(MAILBOXID \(`+box+`\)\)`, `a4 OK .*`)
	c.cmd("a5 DELETE Renamed", `a5 OK .*`)
	c.send("a6 CREATE Renamed\r\n")
	if again := c.submatch(`a6 OK \[MAILBOXID \(([A-Za-z0-9_-]+)\)\] CREATE completed`); again == box {
		t.Errorf("re-created mailbox reuses MAILBOXID %s", box)
	}
	c.send("a7 STATUS INBOX (MAILBOXID)\r\n")
	inbox := c.submatch(`\* STATUS "INBOX" \(MAILBOXID \(([A-Za-z0-9_-]+)\)\)`)
	c.expect(`a7 OK .*`)
	c.send("a8 SELECT INBOX\r\n")
	lines := c.readUntilTagged("a8")
	if !contains(lines, `* OK [MAILBOXID (`+inbox+`)] Mailbox id`) {
		t.Errorf("SELECT without MAILBOXID %s:\n%q", inbox, lines)
	}

	// EMAILID (§5.1) follows the content: identical messages share it,
	// a copy keeps it. THREADID is NIL (§5.2): threads are not tracked.
	c.send("b1 FETCH 1:3 (EMAILID THREADID)\r\n")
	id1 := c.submatch(`\* 1 FETCH \(EMAILID \((M[A-Za-z0-9_-]+)\) THREADID NIL\)`)
	id2 := c.submatch(`\* 2 FETCH \(EMAILID \((M[A-Za-z0-9_-]+)\) THREADID NIL\)`)
	c.expect(`\* 3 FETCH \(EMAILID \(`+id1+`\) THREADID NIL\)`, `b1 OK FETCH completed`)
	if id1 == id2 || len(id1) > 255 {
		t.Errorf("EMAILIDs %s and %s", id1, id2)
	}
	c.cmd("b2 UID SEARCH EMAILID "+id1, `\* SEARCH 1 3`, `b2 OK .*`)
	c.cmd("b3 SEARCH EMAILID "+id2, `\* SEARCH 2`, `b3 OK .*`)
	c.cmd("b4 SEARCH THREADID T1", `\* SEARCH`, `b4 OK .*`)
	c.cmd("b5 SEARCH NOT EMAILID "+id1, `\* SEARCH 2`, `b5 OK .*`)
	c.cmd("b6 COPY 2 Renamed", `b6 OK .*`)
	c.cmd("b7 SELECT Renamed", `(?s).*`)
	c.readUntilTagged("b7")
	c.cmd("b8 FETCH 1 EMAILID", `\* 1 FETCH \(EMAILID \(`+id2+`\)\)`, `b8 OK .*`)
	c.cmd("b9 FETCH 1 EMAILID (", `b9 BAD .*`)
}

func contains(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

package imap

import "testing"

// TestSelectBadMUTF7IsNO: a name of legal atom characters that is not valid
// modified UTF-7 (RFC 3501 §5.1.3) cannot name an existing mailbox, so
// commands that look one up answer NO [NONEXISTENT], not BAD; commands
// that would create it answer NO [CANNOT].
func TestSelectBadMUTF7IsNO(t *testing.T) {
	env := startServer(t)
	c := dialRaw(t, env.addr)
	c.login("alice")
	for _, name := range []string{"&Jjo", "&AGE-", "a&b"} {
		c.cmd("s1 SELECT "+name, `s1 NO \[NONEXISTENT\] .*`)
		c.cmd("s2 EXAMINE "+name, `s2 NO \[NONEXISTENT\] .*`)
		c.cmd("s3 STATUS "+name+" (MESSAGES)", `s3 NO \[NONEXISTENT\] .*`)
		c.cmd("s4 DELETE "+name, `s4 NO \[NONEXISTENT\] .*`)
		c.cmd("s5 SUBSCRIBE "+name, `s5 NO \[NONEXISTENT\] .*`)
		c.cmd("s6 APPEND "+name+" {3+}\r\nabc", `s6 NO \[NONEXISTENT\] .*`)
		c.cmd("s7 CREATE "+name, `s7 NO \[CANNOT\] .*`)
		c.cmd("s8 RENAME INBOX "+name, `s8 NO \[CANNOT\] .*`)
		c.cmd(`s9 LIST "" `+name, `s9 OK LIST completed`)
	}
	env.appendMessage(t, "alice", "INBOX", testMsg)
	c.send("s10 SELECT INBOX\r\n")
	c.readUntilTagged("s10")
	c.cmd("s11 COPY 1:* &Jjo", `s11 NO \[NONEXISTENT\] .*`)
}

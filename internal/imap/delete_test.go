package imap

import "testing"

// TestDeleteWithChildren: RFC 3501 §6.3.4 / RFC 9051 §6.3.4 allow deleting
// a mailbox that has children; its messages go, the children stay, and the
// name remains in LIST as \Noselect (\NonExistent with LIST-EXTENDED) while
// children exist. Deleting that \Noselect name again is an error.
func TestDeleteWithChildren(t *testing.T) {
	env := startServer(t)
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.cmd("d1 CREATE Work/Projects", `d1 OK .*`)
	env.appendMessage(t, "alice", "Work", testMsg)
	env.appendMessage(t, "alice", "Work/Projects", testMsg)
	c.cmd("d2 DELETE Work", `d2 OK DELETE completed`)
	c.cmd(`d3 LIST "" Work*`,
		`\* LIST \(\\Noselect \\HasChildren\) "/" "Work"`,
		`\* LIST \(\\HasNoChildren\) "/" "Work/Projects"`,
		`d3 OK LIST completed`)
	c.cmd(`d4 LIST () "" Work`, `\* LIST \(\\NonExistent \\HasChildren\) "/" "Work"`, `d4 OK LIST completed`)
	c.cmd("d5 SELECT Work", `d5 NO \[NONEXISTENT\] .*`)
	c.cmd("d6 DELETE Work", `d6 NO \[NONEXISTENT\] .*`)
	c.cmd("d7 STATUS Work/Projects (MESSAGES)", `\* STATUS "Work/Projects" \(MESSAGES 1\)`, `d7 OK STATUS completed`)
	// The name can be created again, empty.
	c.cmd("d8 CREATE Work", `d8 OK .*`)
	c.cmd("d9 STATUS Work (MESSAGES)", `\* STATUS "Work" \(MESSAGES 0\)`, `d9 OK STATUS completed`)
	// Deleting the last child leaves no trace of the parent that was deleted before.
	c.cmd("d10 DELETE Work", `d10 OK DELETE completed`)
	c.cmd("d11 DELETE Work/Projects", `d11 OK DELETE completed`)
	c.cmd(`d12 LIST "" Work*`, `d12 OK LIST completed`)
}

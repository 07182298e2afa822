package imap

import "testing"

func TestTranscriptCreateSpecialUse(t *testing.T) {
	env := startServer(t)
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.cmd("a1 CAPABILITY", `\* CAPABILITY .*CREATE-SPECIAL-USE.*`, `a1 OK .*`)
	c.cmd(`a2 CREATE "Old Sent" (USE (\Sent))`, `a2 OK .*`)
	c.cmd(`a3 LIST "" "Old Sent"`, `\* LIST \(.*\\Sent.*\) "/" "Old Sent"`, `a3 OK .*`)
	c.cmd(`a4 CREATE Everything (USE (\All))`, `a4 NO \[USEATTR\] .*`)
	c.cmd(`a5 CREATE Both (USE (\Sent \Trash))`, `a5 NO \[USEATTR\] .*`)
	c.cmd(`a6 CREATE Odd (COLOR (red))`, `a6 BAD .*`)
	c.cmd(`a7 CREATE Plain (USE ())`, `a7 OK .*`)
	c.cmd(`a8 LIST "" Plain`, `\* LIST \(\\HasNoChildren\) "/" "Plain"`, `a8 OK .*`)
}

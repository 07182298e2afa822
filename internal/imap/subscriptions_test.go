package imap

import "testing"

// TestLsubPercentParentsNoselect: RFC 3501 §6.3.9 — when "%" ends the
// pattern, LSUB also returns the levels of hierarchy above subscribed
// names; those not subscribed themselves carry \Noselect.
func TestLsubPercentParentsNoselect(t *testing.T) {
	env := startServer(t)
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.cmd("a1 CREATE Lists/Go/Nuts", `a1 OK .*`)
	c.cmd("a2 SUBSCRIBE Lists/Go/Nuts", `a2 OK .*`)
	c.cmd(`a3 LSUB "" L%`, `\* LSUB \(\\Noselect\) "/" "Lists"`, `a3 OK LSUB completed`)
	c.cmd(`a4 LSUB "" Lists/%`, `\* LSUB \(\\Noselect\) "/" "Lists/Go"`, `a4 OK LSUB completed`)
	c.cmd(`a5 LSUB "" L*`, `\* LSUB \(\\HasNoChildren\) "/" "Lists/Go/Nuts"`, `a5 OK LSUB completed`)
	c.cmd(`a6 LSUB "" Lists`, `a6 OK LSUB completed`)
	c.cmd("a7 SUBSCRIBE Lists", `a7 OK .*`)
	c.cmd(`a8 LSUB "" L%`, `\* LSUB \(\\HasChildren\) "/" "Lists"`, `a8 OK LSUB completed`)
}

// TestListSubscribedNonExistent: subscriptions outlive their mailboxes
// (RFC 3501 §6.3.6: the server must not remove them unilaterally), and
// LIST (SUBSCRIBED) shows such names as \NonExistent (RFC 5258 §3.1);
// UNSUBSCRIBE still removes them.
func TestListSubscribedNonExistent(t *testing.T) {
	env := startServer(t)
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.cmd("a1 CREATE Old", `a1 OK .*`)
	c.cmd("a2 SUBSCRIBE Old", `a2 OK .*`)
	c.cmd("a3 DELETE Old", `a3 OK .*`)
	c.cmd(`a4 LIST (SUBSCRIBED) "" O*`, `\* LIST \(\\NonExistent \\Subscribed\) "/" "Old"`, `a4 OK LIST completed`)
	c.cmd(`a5 LSUB "" O*`, `\* LSUB \(\\Noselect\) "/" "Old"`, `a5 OK LSUB completed`)
	c.cmd(`a6 LIST "" O*`, `a6 OK LIST completed`)
	c.cmd(`a7 LIST "" O* RETURN (SUBSCRIBED)`, `a7 OK LIST completed`)
	// Re-created, it is subscribed again.
	c.cmd("a8 CREATE Old", `a8 OK .*`)
	c.cmd(`a9 LIST "" O* RETURN (SUBSCRIBED)`, `\* LIST \(\\HasNoChildren \\Subscribed\) "/" "Old"`, `a9 OK LIST completed`)
	c.cmd("a10 DELETE Old", `a10 OK .*`)
	c.cmd("a11 UNSUBSCRIBE Old", `a11 OK UNSUBSCRIBE completed`)
	c.cmd(`a12 LIST (SUBSCRIBED) "" O*`, `a12 OK LIST completed`)
	c.cmd("a13 SUBSCRIBE Nope", `a13 NO \[NONEXISTENT\] .*`)
}

// TestRecursiveMatchChildInfo: RFC 5258 §3.5 — CHILDINFO marks a parent
// whose subscribed descendant the pattern does not return itself; when the
// descendant matches the pattern, the parent is not listed for it.
func TestRecursiveMatchChildInfo(t *testing.T) {
	env := startServer(t)
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.cmd("a1 CREATE Lists/Go", `a1 OK .*`)
	c.cmd("a2 SUBSCRIBE Lists/Go", `a2 OK .*`)
	c.cmd(`a3 LIST (SUBSCRIBED RECURSIVEMATCH) "" L*`,
		`\* LIST \(\\HasNoChildren \\Subscribed\) "/" "Lists/Go"`, `a3 OK LIST completed`)
	c.cmd(`a4 LIST (SUBSCRIBED RECURSIVEMATCH) "" L%`,
		`\* LIST \(\\HasChildren\) "/" "Lists" \("CHILDINFO" \("SUBSCRIBED"\)\)`, `a4 OK LIST completed`)
	c.cmd(`a5 LIST (SUBSCRIBED RECURSIVEMATCH) "" (Lists Lists/Go)`,
		`\* LIST \(\\HasNoChildren \\Subscribed\) "/" "Lists/Go"`, `a5 OK LIST completed`)
	// A subscribed name that no longer exists counts too.
	c.cmd("a6 CREATE Gone/Child", `a6 OK .*`)
	c.cmd("a7 SUBSCRIBE Gone/Child", `a7 OK .*`)
	c.cmd("a8 DELETE Gone/Child", `a8 OK .*`)
	c.cmd(`a9 LIST (SUBSCRIBED RECURSIVEMATCH) "" G%`,
		`\* LIST \(\\HasNoChildren\) "/" "Gone" \("CHILDINFO" \("SUBSCRIBED"\)\)`, `a9 OK LIST completed`)
}

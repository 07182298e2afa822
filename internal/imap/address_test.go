package imap

import "testing"

// TestTranscriptAddresses: ENVELOPE, SEARCH FROM/TO/CC/BCC and SORT read
// address fields with one RFC 5322 parser. A comment is white space, not
// an address (RFC 5322 §3.2.2); groups are start and end markers in the
// ENVELOPE (RFC 3501 §7.4.2), and SORT's addr-mailbox of a group is its
// name (RFC 5256 §3).
func TestTranscriptAddresses(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", "From: user-from@domain.org\r\nCc: zed@domain.org\r\n\r\nbody1\r\n")
	env.appendMessage(t, "alice", "INBOX", "From: <user-from (comment)@ (comment) domain.org>\r\n"+
		"Cc: group:;, group2: (foo) ;\r\n\r\nbody2\r\n")
	env.appendMessage(t, "alice", "INBOX", "From: =?utf-8?q?J=C3=B6rg?= <other@domain.org>\r\n"+
		"To: team: a@x.org, b@x.org;\r\nCc: Mallory <abe@domain.org>\r\n\r\nbody3\r\n")
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")

	c.cmd("a1 FETCH 2 ENVELOPE",
		`\* 2 FETCH \(ENVELOPE \(NIL NIL \(\(NIL NIL "user-from" "domain.org"\)\) .* NIL `+
			`\(\(NIL NIL "group" NIL\)\(NIL NIL NIL NIL\)\(NIL NIL "group2" NIL\)\(NIL NIL NIL NIL\)\) NIL NIL NIL\)\)`,
		`a1 OK FETCH completed`)
	c.cmd("a2 SEARCH FROM user-from@domain.org", `\* SEARCH 1 2`, `a2 OK SEARCH completed`)
	c.cmd("a3 SEARCH FROM ser-from@dom", `\* SEARCH 1 2`, `a3 OK SEARCH completed`)
	c.cmd("a4 SEARCH FROM jörg", `\* SEARCH 3`, `a4 OK SEARCH completed`)
	c.cmd(`a5 SEARCH FROM "Jörg <other@"`, `\* SEARCH 3`, `a5 OK SEARCH completed`)
	c.cmd("a6 SEARCH TO team", `\* SEARCH 3`, `a6 OK SEARCH completed`)
	c.cmd("a7 SEARCH CC foo", `\* SEARCH 2`, `a7 OK SEARCH completed`) // the field as written still matches
	c.cmd("a8 SEARCH HEADER FROM user-from@domain.org", `\* SEARCH 1`, `a8 OK SEARCH completed`)
	// CC keys: "zed", "group", "abe": the group name, not a member or the comment.
	c.cmd("a9 SORT (CC) UTF-8 ALL", `\* SORT 3 2 1`, `a9 OK SORT completed`)
	c.cmd("a10 SORT (TO) UTF-8 ALL", `\* SORT 1 2 3`, `a10 OK SORT completed`)
}

// TestTranscriptSortDisplay: DISPLAYFROM and DISPLAYTO sort by the first
// address's display name, decoded, or its addr-spec when it has none
// (RFC 5957 §3); FROM sorts by the mailbox.
func TestTranscriptSortDisplay(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", "From: Zoe <a@x.org>\r\nTo: b@x.org\r\n\r\n1\r\n")
	env.appendMessage(t, "alice", "INBOX", "From: c@x.org (Mike)\r\nTo: =?utf-8?q?=C3=84rger?= <a@x.org>\r\n\r\n2\r\n")
	env.appendMessage(t, "alice", "INBOX", "From: <b@x.org>\r\nTo: Carl <c@x.org>\r\n\r\n3\r\n")
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.send("L2 CAPABILITY\r\n")
	c.expect(`\* CAPABILITY .* SORT SORT=DISPLAY .*`, `L2 OK .*`)
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")
	c.cmd("a1 SORT (DISPLAYFROM) UTF-8 ALL", `\* SORT 3 2 1`, `a1 OK SORT completed`) // b@x.org, Mike, Zoe
	c.cmd("a2 SORT (REVERSE DISPLAYFROM) UTF-8 ALL", `\* SORT 1 2 3`, `a2 OK SORT completed`)
	c.cmd("a3 SORT (FROM) UTF-8 ALL", `\* SORT 1 3 2`, `a3 OK SORT completed`)
	c.cmd("a4 UID SORT (DISPLAYTO) UTF-8 ALL", `\* SORT 1 3 2`, `a4 OK UID SORT completed`) // b@x.org, Carl, Ärger
	c.cmd("a5 SORT (DISPLAYCC) UTF-8 ALL", `a5 BAD .*`)
}

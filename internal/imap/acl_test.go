package imap

import (
	"fmt"
	"slices"
	"testing"
)

// sharedProjects starts a server where alice owns Projects with one
// message (flagged \Answered) and grants bob rights on it.
func sharedProjects(t *testing.T, bobRights string) (env *testEnv, alice, bob *tconn) {
	t.Helper()
	env = startServer(t, func(o *Options) { o.Backend.(*testBackend).users["carol"] = "carolpw" })
	alice = dialRaw(t, env.addr)
	alice.login("alice")
	alice.cmd("p1 CREATE Projects", `p1 OK .*CREATE completed`)
	env.appendMessage(t, "alice", "Projects", testMsg, `\Answered`)
	env.claimRecent(t, "alice", "Projects")
	alice.cmd("p2 SETACL Projects bob "+bobRights, `p2 OK SETACL completed`)
	bob = dialRaw(t, env.addr)
	bob.login("bob")
	return env, alice, bob
}

func appendLine(tag, mailbox string) string {
	return fmt.Sprintf("%s APPEND %s {%d+}\r\n%s", tag, mailbox, len(testMsg), testMsg)
}

const projects = `"Other Users/alice/Projects"`

// selectLines sends a SELECT or EXAMINE, checks its tagged reply and
// returns the untagged lines (their set varies with the extensions).
func (c *tconn) selectLines(tag, cmd, wantTagged string) []string {
	c.t.Helper()
	c.send(tag + " " + cmd + "\r\n")
	lines := c.readUntilTagged(tag)
	if got := lines[len(lines)-1]; got != tag+" "+wantTagged {
		c.t.Fatalf("%s: got %q, want %q", cmd, got, tag+" "+wantTagged)
	}
	return lines[:len(lines)-1]
}

func wantLine(t *testing.T, lines []string, want string) {
	t.Helper()
	if !slices.Contains(lines, want) {
		t.Errorf("missing %q in %q", want, lines)
	}
}

// TestACLReadOnlyShare: with "lr" bob sees and reads alice's mailbox but
// changes nothing in it.
func TestACLReadOnlyShare(t *testing.T) {
	_, alice, bob := sharedProjects(t, "lr")
	bob.cmd("a1 CAPABILITY", `\* CAPABILITY .* ACL RIGHTS=texk.*`, `a1 OK CAPABILITY completed`)
	bob.cmd("a2 NAMESPACE", `\* NAMESPACE \(\("" "/"\)\) \(\("Other Users/" "/"\)\) NIL`, `a2 OK NAMESPACE completed`)
	bob.cmd(`a3 LIST "" Other*`,
		`\* LIST \(\\Noselect \\HasChildren\) "/" "Other Users"`,
		`\* LIST \(\\Noselect \\HasChildren\) "/" "Other Users/alice"`,
		`\* LIST \(\\HasNoChildren\) "/" "Other Users/alice/Projects"`,
		`a3 OK LIST completed`)
	bob.cmd("a4 MYRIGHTS "+projects, `\* MYRIGHTS "Other Users/alice/Projects" lr`, `a4 OK MYRIGHTS completed`)
	bob.cmd("a5 STATUS "+projects+" (MESSAGES)", `\* STATUS "Other Users/alice/Projects" \(MESSAGES 1\)`, `a5 OK STATUS completed`)
	sel := bob.selectLines("a6", "SELECT "+projects, "OK [READ-ONLY] EXAMINE completed")
	wantLine(t, sel, "* OK [PERMANENTFLAGS ()] Read-only mailbox")
	wantLine(t, sel, "* 1 EXISTS")
	bob.cmd("a7 FETCH 1 (FLAGS BODY[HEADER.FIELDS (Subject)])",
		`\* 1 FETCH \(FLAGS \(\\Answered\) BODY\[HEADER.FIELDS \("SUBJECT"\)\] \{\d+\}`, `Subject: Hello there`, ``, `\)`,
		`a7 OK FETCH completed`)
	bob.cmd(`a8 STORE 1 +FLAGS (\Seen)`, `a8 NO \[NOPERM\] .*`)
	bob.cmd(`a9 STORE 1 +FLAGS (\Deleted)`, `a9 NO \[NOPERM\] .*`)
	bob.cmd("a10 EXPUNGE", `a10 NO \[NOPERM\] .*`)
	bob.cmd("a11 COPY 1 INBOX", `a11 OK \[COPYUID \d+ 1 1\] COPY completed`)
	bob.cmd("a12 MOVE 1 INBOX", `a12 NO \[NOPERM\] .*`)
	bob.cmd(appendLine("a13", projects), `a13 NO \[NOPERM\] .*`)
	wantLine(t, bob.selectLines("a14", "SELECT INBOX", "OK [READ-WRITE] SELECT completed"), "* 1 EXISTS")
	bob.cmd("a15 COPY 1 "+projects, `a15 NO \[NOPERM\] .*`)
	bob.cmd("a16 DELETE "+projects, `a16 NO \[NOPERM\] .*`)
	bob.cmd("a17 RENAME "+projects+" Mine", `a17 NO \[NOPERM\] .*`)
	bob.cmd("a18 GETACL "+projects, `a18 NO \[NOPERM\] .*`)
	bob.cmd("a19 SETACL "+projects+" bob lrswi", `a19 NO \[NOPERM\] .*`)
	// Neither bob's FETCH BODY[...] nor his COPY marked alice's message \Seen.
	wantLine(t, alice.selectLines("b1", "EXAMINE Projects", "OK [READ-ONLY] EXAMINE completed"), "* OK [UNSEEN 1] First unseen")
}

// TestACLReadWriteShare: with "lrswite" bob changes alice's mailbox and
// alice's session is told, as for changes by another of her own sessions.
func TestACLReadWriteShare(t *testing.T) {
	_, alice, bob := sharedProjects(t, "lrswite")
	alice.selectLines("b1", "SELECT Projects", "OK [READ-WRITE] SELECT completed")
	bob.selectLines("a1", "SELECT "+projects, "OK [READ-WRITE] SELECT completed")
	bob.cmd(`a2 STORE 1 +FLAGS (\Flagged)`, `\* 1 FETCH \(FLAGS \(\\Answered \\Flagged\)\)`, `a2 OK STORE completed`)
	alice.cmd("b2 NOOP", `\* 1 FETCH \(FLAGS \(\\Answered \\Flagged\)\)`, `b2 OK NOOP completed`)
	bob.cmd(appendLine("a3", projects), `\* 2 EXISTS`, `\* 1 RECENT`, `a3 OK \[APPENDUID \d+ 2\] APPEND completed`)
	alice.cmd("b3 IDLE", `\+ idling`, `\* 2 EXISTS`, `\* 0 RECENT`)
	alice.cmd("DONE", `b3 OK IDLE terminated`)
	bob.cmd(`a4 STORE 2 +FLAGS.SILENT (\Deleted)`, `a4 OK STORE completed`)
	bob.cmd("a5 EXPUNGE", `\* 2 EXPUNGE`, `a5 OK EXPUNGE completed`)
	alice.cmd("b4 NOOP", `\* 2 EXPUNGE`, `b4 OK NOOP completed`)
	bob.cmd("a6 DELETE "+projects, `a6 NO \[NOPERM\] .*`) // "x" was not granted
}

// TestACLFlagRights: \Seen needs "s", \Deleted "t", other flags "w"; flags
// the user may not change stay as they are.
func TestACLFlagRights(t *testing.T) {
	_, _, bob := sharedProjects(t, "lrs")
	sel := bob.selectLines("a1", "SELECT "+projects, "OK [READ-WRITE] SELECT completed")
	wantLine(t, sel, `* OK [PERMANENTFLAGS (\Seen)] Flags permitted`)
	bob.cmd(`a2 STORE 1 +FLAGS (\Seen \Flagged)`, `\* 1 FETCH \(FLAGS \(\\Answered \\Seen\)\)`, `a2 OK STORE completed`)
	bob.cmd(`a3 STORE 1 +FLAGS (\Flagged $Work)`, `a3 NO \[NOPERM\] .*`)
	bob.cmd(`a4 STORE 1 FLAGS (\Flagged)`, `\* 1 FETCH \(FLAGS \(\\Answered\)\)`, `a4 OK STORE completed`)
	bob.cmd(`a5 STORE 1 FLAGS (\Seen)`, `\* 1 FETCH \(FLAGS \(\\Answered \\Seen\)\)`, `a5 OK STORE completed`)
	bob.cmd(`a6 STORE 1 (UNCHANGEDSINCE 100) FLAGS (\Seen)`, `\* OK \[HIGHESTMODSEQ \d+\] .*`, `a6 NO \[NOPERM\] .*`)
	bob.cmd("a7 EXPUNGE", `a7 NO \[NOPERM\] .*`)
	bob.cmd(appendLine("a8", projects), `a8 NO \[NOPERM\] .*`)
}

// TestACLRevoke: after DELETEACL the mailbox is gone for bob, not merely
// forbidden, so the ACL does not reveal it exists.
func TestACLRevoke(t *testing.T) {
	_, alice, bob := sharedProjects(t, "lr")
	bob.cmd(`a1 LIST "" "Other Users/*"`, `\* LIST .* "Other Users/alice"`, `\* LIST .* "Other Users/alice/Projects"`, `a1 OK LIST completed`)
	alice.cmd("b1 DELETEACL Projects bob", `b1 OK DELETEACL completed`)
	bob.cmd(`a2 LIST "" "Other Users/*"`, `a2 OK LIST completed`)
	bob.cmd("a3 SELECT "+projects, `a3 NO \[NONEXISTENT\] .*`)
	bob.cmd("a4 MYRIGHTS "+projects, `a4 NO \[NONEXISTENT\] .*`)
	bob.cmd("a5 STATUS "+projects+" (MESSAGES)", `a5 NO \[NONEXISTENT\] .*`)
	alice.cmd("b2 SETACL Projects bob i", `b2 OK SETACL completed`) // insert only: still invisible
	bob.cmd(appendLine("a6", projects), `a6 NO \[TRYCREATE\] .*`)
}

// TestACLCommands: GETACL, LISTRIGHTS and MYRIGHTS formats, SETACL +/-
// modifiers and obsolete rights, "anyone" grants, creating children.
func TestACLCommands(t *testing.T) {
	env, alice, bob := sharedProjects(t, "lrs")
	alice.cmd("b1 SETACL Projects anyone lr", `b1 OK SETACL completed`)
	alice.cmd("b2 SETACL Projects Bob +wc", `b2 OK SETACL completed`) // c is k and x
	alice.cmd("b3 SETACL Projects bob -sx", `b3 OK SETACL completed`)
	alice.cmd("b4 GETACL Projects", `\* ACL "Projects" "alice" lrswipkxtea "anyone" lr "bob" lrwk`, `b4 OK GETACL completed`)
	alice.cmd("b5 SETACL Projects bob lrz", `b5 BAD .*`)
	alice.cmd("b6 SETACL Projects alice lr", `b6 NO \[CANNOT\] .*`)
	alice.cmd("b7 LISTRIGHTS Projects bob", `\* LISTRIGHTS "Projects" "bob" "" l r s w i p k x t e a`, `b7 OK LISTRIGHTS completed`)
	alice.cmd("b8 LISTRIGHTS Projects alice", `\* LISTRIGHTS "Projects" "alice" lrswipkxtea`, `b8 OK LISTRIGHTS completed`)
	alice.cmd("b9 MYRIGHTS Projects", `\* MYRIGHTS "Projects" lrswipkxtea`, `b9 OK MYRIGHTS completed`)
	alice.cmd("b10 GETACL Nope", `b10 NO \[NONEXISTENT\] .*`)

	carol := dialRaw(t, env.addr)
	carol.login("carol")
	carol.cmd("c1 MYRIGHTS "+projects, `\* MYRIGHTS "Other Users/alice/Projects" lr`, `c1 OK MYRIGHTS completed`)
	carol.cmd(`c2 LSUB "" "Other Users/*"`, `\* LSUB \(\\HasNoChildren\) "/" "Other Users/alice/Projects"`, `c2 OK LSUB completed`)
	bob.cmd("a1 MYRIGHTS "+projects, `\* MYRIGHTS "Other Users/alice/Projects" lrwk`, `a1 OK MYRIGHTS completed`)

	// "k" on Projects lets bob create below it, and nowhere else.
	bob.cmd(`a2 CREATE "Other Users/alice/Projects/Sub"`, `a2 OK .*CREATE completed`)
	alice.cmd(`b11 LIST "" Projects/*`, `\* LIST \(\\HasNoChildren\) "/" "Projects/Sub"`, `b11 OK LIST completed`)
	bob.cmd(`a3 CREATE "Other Users/alice/Top"`, `a3 NO \[NOPERM\] .*`)
	bob.cmd(`a4 CREATE "Other Users/alice"`, `a4 NO \[CANNOT\] .*`)
	bob.cmd(`a5 CREATE "Other Users"`, `a5 NO \[CANNOT\] .*`)
	bob.cmd(`a6 RENAME INBOX "Other Users/bob/x"`, `a6 NO \[CANNOT\] .*`)
	bob.cmd(`a7 RENAME Sent "Other Users/alice/Projects/Sent"`, `a7 NO \[CANNOT\] .*`)
}

// TestACLChangeWhileSelected: a changed ACL applies to a session that has
// the mailbox selected from its next command on; losing "r" ends it.
func TestACLChangeWhileSelected(t *testing.T) {
	_, alice, bob := sharedProjects(t, "lrswite")
	bob.selectLines("a1", "SELECT "+projects, "OK [READ-WRITE] SELECT completed")
	alice.cmd("b1 SETACL Projects bob lr", `b1 OK SETACL completed`)
	bob.cmd("a2 NOOP", `a2 OK NOOP completed`)
	bob.cmd(`a3 STORE 1 +FLAGS (\Seen)`, `a3 NO \[NOPERM\] .*`)
	alice.cmd("b2 DELETEACL Projects bob", `b2 OK DELETEACL completed`)
	bob.cmd("a4 NOOP", `\* BYE \[UNAVAILABLE\] Access to the selected mailbox was revoked`, `a4 OK NOOP completed`)
}

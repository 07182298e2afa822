package imap

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
)

func TestTranscriptBasic(t *testing.T) {
	env := startServer(t)
	c := dialRaw(t, env.addr)
	c.cmd("a0 CAPABILITY",
		`\* CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL\+ ENABLE UTF8=ACCEPT ID AUTH=PLAIN SASL-IR NAMESPACE CHILDREN SPECIAL-USE .* IDLE( .*)?`,
		`a0 OK CAPABILITY completed`)
	c.cmd("a1 SELECT INBOX", `a1 BAD Command not allowed in this state`)
	c.cmd("a2 LOGIN alice alicepw", `a2 OK \[CAPABILITY IMAP4rev1 .*MOVE IDLE.*\] Logged in`)
	c.cmd("a3 LIST \"\" *",
		`\* LIST \(\\HasNoChildren \\Archive\) "/" "Archive"`,
		`\* LIST \(\\HasNoChildren \\Drafts\) "/" "Drafts"`,
		`\* LIST \(\\HasNoChildren\) "/" "INBOX"`,
		`\* LIST \(\\HasNoChildren \\Junk\) "/" "Junk"`,
		`\* LIST \(\\HasNoChildren \\Sent\) "/" "Sent"`,
		`\* LIST \(\\HasNoChildren \\Trash\) "/" "Trash"`,
		`a3 OK LIST completed`)
	c.cmd(`a4 LIST "" ""`, `\* LIST \(\\Noselect\) "/" ""`, `a4 OK LIST completed`)
	c.cmd("a5 CREATE Work/Projects", `a5 OK \[MAILBOXID \(F[A-Za-z0-9_-]+\)\] CREATE completed`)
	c.cmd("a6 CREATE work/projects", `a6 NO \[ALREADYEXISTS\] .*|a6 OK \[MAILBOXID \(F[A-Za-z0-9_-]+\)\] CREATE completed`)
	c.cmd("a6b DELETE work", `a6b OK DELETE completed|a6b NO .*`)
	c.cmd(`a7 LIST "" W%`, `\* LIST \(\\Noselect \\HasChildren\) "/" "Work"|\* LIST \(\\HasChildren\) "/" "Work"`, `a7 OK LIST completed`)
	c.cmd(`a7b LIST Work/ %`, `\* LIST \(\\HasNoChildren\) "/" "Work/Projects"`, `a7b OK LIST completed`)
	c.cmd("a8 CREATE Entw&APw-rfe", `a8 OK \[MAILBOXID \(F[A-Za-z0-9_-]+\)\] CREATE completed`)
	c.cmd(`a9 LIST "" Entw*`, `\* LIST \(\\HasNoChildren\) "/" "Entw&APw-rfe"`, `a9 OK LIST completed`)
	c.cmd(`a10 STATUS INBOX (MESSAGES UIDNEXT UNSEEN RECENT SIZE)`,
		`\* STATUS "INBOX" \(MESSAGES 0 UIDNEXT 1 UNSEEN 0 RECENT 0 SIZE 0\)`, `a10 OK STATUS completed`)

	c.send(fmt.Sprintf("b1 APPEND INBOX (\\Flagged) \"02-Jan-2023 15:04:05 +0000\" {%d}\r\n", len(testMsg)))
	c.expect(`\+ Ready for literal data`)
	c.cmd(testMsg, `b1 OK \[APPENDUID \d+ 1\] APPEND completed`)
	c.send(fmt.Sprintf("b2 APPEND INBOX {%d+}\r\n%s\r\n", len(testMsg), testMsg))
	c.expect(`b2 OK \[APPENDUID \d+ 2\] APPEND completed`)
	c.cmd("b3 APPEND Nope {3+}\r\nabc", `b3 NO \[TRYCREATE\] No such mailbox`)

	c.cmd("c1 SELECT inbox",
		`\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft\)`,
		`\* OK \[PERMANENTFLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \\\*\)\] .*`,
		`\* 2 EXISTS`, `\* 2 RECENT`, `\* OK \[UNSEEN 1\] .*`,
		`\* OK \[UIDVALIDITY \d+\] .*`, `\* OK \[UIDNEXT 3\] .*`, `\* OK \[HIGHESTMODSEQ \d+\] .*`, `\* OK \[MAILBOXID \(F[A-Za-z0-9_-]+\)\] .*`,
		`c1 OK \[READ-WRITE\] SELECT completed`)
	c.cmd("c2 FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE)",
		fmt.Sprintf(`\* 1 FETCH \(UID 1 FLAGS \(\\Flagged \\Recent\) RFC822.SIZE %d INTERNALDATE "02-Jan-2023 15:04:05 \+0000"\)`, len(testMsg)),
		fmt.Sprintf(`\* 2 FETCH \(UID 2 FLAGS \(\\Recent\) RFC822.SIZE %d INTERNALDATE ".*"\)`, len(testMsg)),
		`c2 OK FETCH completed`)
	c.cmd("c3 FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject)]",
		`\* 1 FETCH \(BODY\[HEADER.FIELDS \("SUBJECT"\)\] \{\d+\}`, `Subject: Hello there`, ``, `\)`,
		`c3 OK FETCH completed`)
	c.cmd("c4 FETCH 1 BODY[TEXT]<0.2>",
		`\* 1 FETCH \(BODY\[TEXT\]<0> \{2\}`, `Hi FLAGS \(\\Flagged \\Seen \\Recent\)\)`, `c4 OK FETCH completed`)
	c.cmd("c5 UID STORE 2 +FLAGS (\\Deleted $Work)",
		`\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \$Work\)`,
		`\* OK \[PERMANENTFLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \$Work \\\*\)\] .*`,
		`\* 2 FETCH \(UID 2 FLAGS \(\$Work \\Deleted \\Recent\)\)`, `c5 OK UID STORE completed`)
	c.cmd("c6 SEARCH DELETED", `\* SEARCH 2`, `c6 OK SEARCH completed`)
	c.cmd("c7 UID SEARCH NOT DELETED FLAGGED", `\* SEARCH 1`, `c7 OK UID SEARCH completed`)
	c.cmd("c8 SEARCH OR SEEN KEYWORD $Work LARGER 10", `\* SEARCH 1 2`, `c8 OK SEARCH completed`)
	c.cmd("c9 SEARCH CHARSET KOI8-R ALL", `c9 NO \[BADCHARSET \(UTF-8 US-ASCII\)\] .*`)
	c.cmd("c10 COPY 1:2 Trash", `c10 OK \[COPYUID \d+ 1:2 1:2\] COPY completed`)
	c.cmd("c11 EXPUNGE", `\* 2 EXPUNGE`, `c11 OK EXPUNGE completed`)
	c.cmd("c12 UID MOVE 1 Archive", `\* OK \[COPYUID \d+ 1 1\] Moved`, `\* 1 EXPUNGE`, `c12 OK UID MOVE completed`)
	c.cmd("c13 FETCH 1 FLAGS", `c13 BAD Invalid sequence number`)
	c.cmd("c14 EXAMINE Trash",
		`\* FLAGS .*`, `\* OK \[PERMANENTFLAGS \(\)\] .*`, `\* 2 EXISTS`, `\* 2 RECENT`, `\* OK \[UNSEEN 2\] .*`, `\* OK \[UIDVALIDITY \d+\] .*`,
		`\* OK \[UIDNEXT 3\] .*`, `\* OK \[HIGHESTMODSEQ \d+\] .*`, `\* OK \[MAILBOXID \(F[A-Za-z0-9_-]+\)\] .*`, `c14 OK \[READ-ONLY\] EXAMINE completed`)
	c.cmd("c15 STORE 1 +FLAGS \\Seen", `c15 NO \[READ-ONLY\] .*`)
	c.cmd("c16 UNSELECT", `c16 OK UNSELECT completed`)
	c.cmd("c17 NAMESPACE", `\* NAMESPACE \(\("" "/"\)\) \(\("Other Users/" "/"\)\) NIL`, `c17 OK NAMESPACE completed`)
	c.cmd("c18 ID NIL", `\* ID \("name" "Rookery"\)`, `c18 OK ID completed`)
	c.cmd("c19 ENABLE UTF8=ACCEPT", `\* ENABLED UTF8=ACCEPT`, `c19 OK ENABLE completed`)
	c.cmd(`c20 LIST "" Entw*`, `\* LIST \(\\HasNoChildren\) "/" "Entwürfe"`, `c20 OK LIST completed`)
	c.cmd(`c21 RENAME "Entwürfe" Drafts2`, `c21 OK RENAME completed`)
	c.cmd("c22 DELETE Drafts2", `c22 OK DELETE completed`)
	c.cmd("c23 DELETE Drafts2", `c23 NO \[NONEXISTENT\] .*`)
	c.cmd("c24 SUBSCRIBE INBOX", `c24 OK SUBSCRIBE completed`)
	c.send("c25 LSUB \"\" *\r\n")
	if lines := strings.Join(c.readUntilTagged("c25"), "\n"); !strings.Contains(lines, `* LSUB (\HasNoChildren) "/" "INBOX"`) || !strings.HasSuffix(lines, "c25 OK LSUB completed") {
		t.Fatalf("LSUB:\n%s", lines)
	}
	c.cmd("z LOGOUT", `\* BYE .*`, `z OK LOGOUT completed`)
}

func TestTranscriptAuth(t *testing.T) {
	env := startServer(t)
	c := dialRaw(t, env.addr)
	c.cmd("a1 LOGIN alice wrong", `a1 NO \[AUTHENTICATIONFAILED\] Authentication failed`)
	// SASL-IR: "\0alice\0alicepw"
	c.cmd("a2 AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=", `a2 OK \[CAPABILITY .*\] Logged in`)
	c.cmd("a3 LOGIN alice alicepw", `a3 BAD Command not allowed in this state`)

	c = dialRaw(t, env.addr)
	c.cmd("b1 AUTHENTICATE PLAIN", `\+ `)
	c.cmd("AGJvYgBib2Jwdw==", `b1 OK \[CAPABILITY .*\] Logged in`)

	c = dialRaw(t, env.addr)
	c.cmd("c1 AUTHENTICATE PLAIN", `\+ `)
	c.cmd("*", `c1 BAD Authentication canceled`)
	c.cmd("c2 LOGIN alice x", `c2 NO \[AUTHENTICATIONFAILED\] .*`)
	c.cmd("c3 LOGIN alice y", `c3 NO \[AUTHENTICATIONFAILED\] .*`)
	c.cmd("c4 LOGIN alice z", `c4 NO \[AUTHENTICATIONFAILED\] .*`, `\* BYE Too many authentication failures`)
}

// TestPrivacyRequired: without TLS, from a non-loopback address, password
// logins are refused before the backend sees them.
func TestPrivacyRequired(t *testing.T) {
	srv := NewServer(Options{Backend: fuzzBackend{}})
	srv.authDelay = func(context.Context, int) {}
	var out bytes.Buffer
	in := strings.NewReader("a CAPABILITY\r\nb LOGIN alice alicepw\r\nc AUTHENTICATE PLAIN AGFsaWNlAGFsaWNlcHc=\r\nd LOGOUT\r\n")
	s := newSession(srv, &pipeConn{r: in, w: &out, remote: &net.TCPAddr{IP: net.IPv4(198, 51, 100, 7), Port: 4000}})
	s.ctx = context.Background()
	s.run()
	for _, want := range []string{
		"* CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ ENABLE UTF8=ACCEPT ID LOGINDISABLED NAMESPACE",
		"b NO [PRIVACYREQUIRED] ",
		"c NO [PRIVACYREQUIRED] ",
		"d OK LOGOUT completed",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in\n%s", want, out.String())
		}
	}
}

func TestLoginDisabledWithoutTLS(t *testing.T) {
	env := startServer(t)
	s := newSession(env.srv, fakeRemote{})
	if s.plaintextAuthAllowed() {
		t.Fatal("plaintext auth allowed from a non-loopback address")
	}
	if caps := env.srv.registry.capabilities(s); !strings.Contains(caps, "LOGINDISABLED") || strings.Contains(caps, "AUTH=PLAIN") {
		t.Fatalf("capabilities = %q", caps)
	}
	env.srv.opts.AllowInsecureAuth = true
	if !s.plaintextAuthAllowed() {
		t.Fatal("AllowInsecureAuth ignored")
	}
}

// TestTranscriptDeferredExpunge: RFC 3501 §7.4.1 — an expunge by another
// session is not reported during FETCH, STORE or SEARCH; sequence numbers
// stay stable until a command that may report it (NOOP, UID FETCH, ...).
func TestTranscriptDeferredExpunge(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", testMsg, `\Deleted`)
	env.appendMessage(t, "alice", "INBOX", testMsg)
	a := dialRaw(t, env.addr)
	a.login("alice")
	a.send("s SELECT INBOX\r\n")
	a.readUntilTagged("s")
	b := dialRaw(t, env.addr)
	b.login("alice")
	b.send("s SELECT INBOX\r\n")
	b.readUntilTagged("s")
	b.cmd("x EXPUNGE", `\* 1 EXPUNGE`, `x OK EXPUNGE completed`)
	b.send(fmt.Sprintf("y APPEND INBOX {%d+}\r\n%s\r\n", len(testMsg), testMsg))
	b.expect(`\* 2 EXISTS`, `\* 1 RECENT`, `y OK .*`)

	a.cmd("f1 FETCH 1:* (UID)", `\* 1 FETCH \(UID 1\)`, `\* 2 FETCH \(UID 2\)`, `\* 3 EXISTS`, `\* 2 RECENT`, `f1 OK FETCH completed`)
	a.cmd("f2 SEARCH ALL", `\* SEARCH 2 3`, `f2 OK SEARCH completed`)
	a.cmd("f3 STORE 2 +FLAGS (\\Flagged)", `\* 2 FETCH \(FLAGS \(\\Flagged \\Recent\)\)`, `f3 OK STORE completed`)
	a.cmd("f4 NOOP", `\* 1 EXPUNGE`, `f4 OK NOOP completed`)
	a.cmd("f5 FETCH 1:* (UID FLAGS)", `\* 1 FETCH \(UID 2 FLAGS \(\\Flagged \\Recent\)\)`, `\* 2 FETCH \(UID 3 FLAGS \(\)\)`, `f5 OK FETCH completed`)
	b.cmd("z NOOP", `\* 1 FETCH \(FLAGS \(\\Flagged\)\)`, `z OK NOOP completed`)
}

package imap

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// genURLAuth sends GENURLAUTH for rump with INTERNAL and returns the
// signed URL.
func (c *tconn) genURLAuth(tag, rump string) string {
	c.t.Helper()
	c.send(fmt.Sprintf("%s GENURLAUTH %q INTERNAL\r\n", tag, rump))
	re := regexp.MustCompile(`^\* GENURLAUTH "(` + regexp.QuoteMeta(rump) + `:internal:[0-9a-f]{64})"$`)
	m := re.FindStringSubmatch(c.readLine())
	if m == nil {
		c.t.Fatalf("GENURLAUTH %s: no signed URL", rump)
	}
	c.expect(tag + ` OK GENURLAUTH completed`)
	return m[1]
}

// urlFetch sends URLFETCH for one URL and returns its data, or "NIL".
func (c *tconn) urlFetch(tag, url string) string {
	c.t.Helper()
	c.send(fmt.Sprintf("%s URLFETCH %q\r\n", tag, url))
	lines := c.readUntilTagged(tag)
	if last := lines[len(lines)-1]; last != tag+" OK URLFETCH completed" {
		c.t.Fatalf("URLFETCH: %q", last)
	}
	head := fmt.Sprintf("* URLFETCH %q ", url)
	if !strings.HasPrefix(lines[0], head) {
		c.t.Fatalf("URLFETCH response %q, want it to start %q", lines[0], head)
	}
	if lines[0] == head+"NIL" {
		return "NIL"
	}
	// {n} literal: its lines up to the response's closing CRLF.
	return strings.Join(lines[1:len(lines)-1], "\r\n")
}

// TestTranscriptURLAuth follows RFC 4467 §6-7: alice signs URLs of her
// messages for bob (user+bob) and for any user (authuser); bob fetches
// them with URLFETCH; a tampered token, the wrong requester, a submit+
// identifier over IMAP and a URL after RESETKEY all give NIL.
func TestTranscriptURLAuth(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", testMsg)
	env.appendMessage(t, "alice", "Drafts", multipartMsg)
	alice := dialRaw(t, env.addr)
	alice.login("alice")
	alice.cmd("c CAPABILITY", `\* CAPABILITY .* URLAUTH( .*)?`, `c OK .*`)

	whole := alice.genURLAuth("g1", "imap://alice@imap.test/INBOX/;uid=1;urlauth=user+bob")
	part := alice.genURLAuth("g2", "imap://alice@imap.test/Drafts/;UID=1/;SECTION=1;URLAUTH=authuser")
	forSubmit := alice.genURLAuth("g3", "imap://alice@imap.test/INBOX/;UID=1;URLAUTH=submit+bob")

	bob := dialRaw(t, env.addr)
	bob.login("bob")
	if got := bob.urlFetch("f1", whole); got != testMsg {
		t.Errorf("URLFETCH whole message = %q, want %q", got, testMsg)
	}
	if got := bob.urlFetch("f2", part); got != "Grüße, the numbers are in. Keyword: pineapple" {
		t.Errorf("URLFETCH section = %q", got)
	}
	last := whole[len(whole)-1]
	tampered := whole[:len(whole)-1] + map[bool]string{true: "0", false: "1"}[last != '0']
	for i, nilURL := range []string{
		tampered,
		strings.Replace(whole, "user+bob", "user+carol", 1),              // the token signs the access identifier
		strings.Replace(whole, ";uid=1", ";uid=2", 1),                    // ... and the message
		strings.TrimSuffix(whole, whole[strings.LastIndex(whole, ":"):]), // rump URL, no token
		forSubmit, // only the submission server may use submit+bob
		"imap://alice@imap.test/INBOX/;uid=1",
		"not a url",
	} {
		if got := bob.urlFetch(fmt.Sprintf("n%d", i), nilURL); got != "NIL" {
			t.Errorf("URLFETCH %s = %q, want NIL", nilURL, got)
		}
	}
	if got := alice.urlFetch("f3", whole); got != "NIL" {
		t.Errorf("alice fetched bob's user+bob URL: %q", got)
	}
	// Two URLs in one command, one response.
	bob.send(fmt.Sprintf("f4 URLFETCH %q %q\r\n", tampered, part))
	bob.expect(fmt.Sprintf(`\* URLFETCH %s NIL %s \{\d+\}`, regexp.QuoteMeta(fmt.Sprintf("%q", tampered)), regexp.QuoteMeta(fmt.Sprintf("%q", part))),
		`Grüße.*`, `f4 OK URLFETCH completed`)

	// CATENATE takes URLAUTH URLs of another user's messages (RFC 4469 §5).
	bob.cmd(fmt.Sprintf("a1 APPEND INBOX CATENATE (URL %q)", whole), `a1 OK \[APPENDUID \d+ 1\] APPEND completed`)
	bob.cmd(fmt.Sprintf("a2 APPEND INBOX CATENATE (URL %q)", tampered), `a2 NO \[BADURL .*`)
	// The URL's user is the account however it is spelled.
	upper := alice.genURLAuth("g5", "imap://ALICE@imap.test/INBOX/;uid=1;urlauth=authuser")
	if got := bob.urlFetch("f9", upper); got != testMsg {
		t.Errorf("URLFETCH with ALICE = %q", got)
	}

	// ;EXPIRE= is signed with the rest and ends the URL's life.
	future := alice.genURLAuth("g6", "imap://alice@imap.test/INBOX/;uid=1;expire=2999-01-01T00:00:00Z;urlauth=authuser")
	past := alice.genURLAuth("g7", "imap://alice@imap.test/INBOX/;uid=1;expire=2000-01-01T00:00:00Z;urlauth=authuser")
	if got := bob.urlFetch("e1", future); got != testMsg {
		t.Errorf("URLFETCH before EXPIRE = %q", got)
	}
	if got := bob.urlFetch("e2", past); got != "NIL" {
		t.Errorf("URLFETCH after EXPIRE = %q, want NIL", got)
	}
	if got := bob.urlFetch("e3", strings.Replace(past, "2000", "2999", 1)); got != "NIL" {
		t.Errorf("URLFETCH with a moved EXPIRE = %q, want NIL", got)
	}

	// Refusals of GENURLAUTH and RESETKEY.
	for i, bad := range []string{
		`"imap://bob@imap.test/INBOX/;uid=1;urlauth=authuser" INTERNAL`,    // not alice's
		`"imap://alice@other.test/INBOX/;uid=1;urlauth=authuser" INTERNAL`, // not this server
		`"/INBOX/;uid=1;urlauth=authuser" INTERNAL`,                        // not absolute
		`"imap://alice@imap.test/INBOX/;uid=1" INTERNAL`,                   // no ;URLAUTH=
		`"imap://alice@imap.test/INBOX/;uid=1;urlauth=everyone" INTERNAL`,  // unknown access
		`"imap://alice@imap.test/INBOX/;uid=1;urlauth=authuser" XSHA1`,     // unknown mechanism
		`"imap://alice@imap.test/Nowhere/;uid=1;urlauth=authuser" INTERNAL`,
	} {
		alice.cmd(fmt.Sprintf("b%d GENURLAUTH %s", i, bad), fmt.Sprintf(`b%d NO .*`, i))
	}
	alice.cmd("r0 RESETKEY INBOX XSHA1", `r0 NO .*`)
	alice.cmd("r1 RESETKEY Nowhere", `r1 NO .*`)

	// RESETKEY INBOX revokes INBOX's URLs only; RESETKEY revokes all.
	alice.cmd("r2 RESETKEY INBOX INTERNAL", `r2 OK RESETKEY completed`)
	if got := bob.urlFetch("f5", whole); got != "NIL" {
		t.Errorf("URL still works after RESETKEY INBOX: %q", got)
	}
	if got := bob.urlFetch("f6", part); got == "NIL" {
		t.Error("RESETKEY INBOX revoked a Drafts URL")
	}
	again := alice.genURLAuth("g4", "imap://alice@imap.test/INBOX/;uid=1;urlauth=user+bob")
	if again == whole {
		t.Error("GENURLAUTH after RESETKEY made the old token")
	}
	if got := bob.urlFetch("f7", again); got == "NIL" {
		t.Error("new URL after RESETKEY does not work")
	}
	alice.cmd("r3 RESETKEY", `r3 OK RESETKEY completed`)
	if got := bob.urlFetch("f8", part); got != "NIL" {
		t.Errorf("Drafts URL still works after RESETKEY: %q", got)
	}
}

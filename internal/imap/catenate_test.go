package imap

import (
	"fmt"
	"testing"
)

// TestTranscriptCatenate: APPEND CATENATE builds a message from text
// literals and local IMAP URLs of whole messages, sections and partials
// (RFC 4469 §5, RFC 5092); an unusable URL is NO [BADURL] and nothing is
// stored (§6).
func TestTranscriptCatenate(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "Drafts", multipartMsg)
	env.appendMessage(t, "bob", "INBOX", testMsg)
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.send("L2 CAPABILITY\r\n")
	c.expect(`\* CAPABILITY .* CATENATE( .*)?`, `L2 OK .*`)

	hdr := "Subject: forward\r\n\r\n"
	tail := "\r\n-- \r\nsig\r\n"
	c.send(fmt.Sprintf("a1 APPEND INBOX CATENATE (TEXT {%d+}\r\n%s URL \"/Drafts/;UID=1/;SECTION=1\" URL \"imap://alice@imap.test/Drafts/;uid=1/;section=HEADER.FIELDS%%20(Subject)\" URL \"/Drafts/;UID=1/;SECTION=1/;PARTIAL=0.6\" TEXT {%d+}\r\n%s)\r\n",
		len(hdr), hdr, len(tail), tail))
	c.expect(`a1 OK \[APPENDUID \d+ 1\] APPEND completed`)
	want := hdr + "Grüße, the numbers are in. Keyword: pineapple" + "Subject: Quarterly report\r\n\r\n" + "Grüß" + tail
	c.cmd("a2 STATUS INBOX (MESSAGES SIZE)", fmt.Sprintf(`\* STATUS "INBOX" \(MESSAGES 1 SIZE %d\)`, len(want)), `a2 OK .*`)
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")
	c.cmd("a3 FETCH 1 BODY.PEEK[TEXT]", fmt.Sprintf(`\* 1 FETCH \(BODY\[TEXT\] \{%d\}`, len(want)-len(hdr)),
		`Grüße, the numbers are in. Keyword: pineapple.*`, ``, `Grüß`, `-- `, `sig`, `\)`, `a3 OK FETCH completed`)
	// A whole message by URL, with UIDVALIDITY checked; REPLACE takes CATENATE too.
	c.cmd(`a4 APPEND INBOX CATENATE (URL "/INBOX/;UID=1")`, `\* 2 EXISTS`, `\* 2 RECENT`, `a4 OK \[APPENDUID \d+ 2\] APPEND completed`)
	c.cmd(`a5 REPLACE 1 INBOX CATENATE (TEXT {5+}`+"\r\nx\r\n\r\n"+` URL "/INBOX/;UID=2/;SECTION=TEXT")`,
		`\* OK \[APPENDUID \d+ 3\] Replacement Message ready`, `\* 1 EXPUNGE`, `\* 2 EXISTS`, `\* 2 RECENT`, `a5 OK REPLACE completed`)

	for i, bad := range []string{
		`URL "/Drafts/;UID=99"`,                          // no such message
		`URL "/Nowhere/;UID=1"`,                          // no such mailbox
		`URL "/Drafts;UIDVALIDITY=1/;UID=1"`,             // UIDVALIDITY changed
		`URL "imap://bob@imap.test/INBOX/;UID=1"`,        // another user's
		`URL "/Other Users/bob/INBOX/;UID=1"`,            // not shared with alice
		`URL "imap://alice@elsewhere.test/INBOX/;UID=1"`, // another server
		`URL "/Drafts/;UID=1/;SECTION=9"`,                // no such part
		`URL "/Drafts/;UID=1;URLAUTH=anonymous:internal:0123"`,
		`URL "http://example.org/"`,
	} {
		tag := fmt.Sprintf("b%d", i)
		c.cmd(tag+" APPEND INBOX CATENATE (TEXT {3+}\r\nx\r\n "+bad+")", tag+` NO \[BADURL [^\]]*\] .*`)
	}
	// A missing target is TRYCREATE even when a URL is bad too; a PARTIAL
	// past the end is empty, not an error.
	c.cmd(`c0 APPEND Nowhere CATENATE (URL "/Drafts;UIDVALIDITY=1/;UID=1")`, `c0 NO \[TRYCREATE\] .*`)
	c.cmd(`c01 APPEND Drafts CATENATE (URL "/Drafts/;UID=1/;PARTIAL=100000.1" TEXT {3+}`+"\r\nx\r\n)", `c01 OK \[APPENDUID \d+ 2\] APPEND completed`)
	c.cmd("c1 APPEND INBOX CATENATE ()", `c1 BAD .*`)
	c.cmd("c2 APPEND INBOX CATENATE (BOGUS x)", `c2 BAD .*`)
	c.cmd("c3 STATUS INBOX (MESSAGES)", `\* STATUS "INBOX" \(MESSAGES 2\)`, `c3 OK .*`)
}

package imap

import (
	"regexp"
	"strconv"
	"testing"
)

// base64Msg is a single-part message whose body decodes to bytes with NUL.
const base64Msg = "From: a@example.org\r\n" +
	"Subject: bin\r\n" +
	"Content-Type: application/octet-stream\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"AAECAw==\r\n"

// TestTranscriptBinaryWholeMessage: BINARY[] is the whole message, header
// included, with the transfer encoding undone (RFC 3516 §4.2, RFC 9051
// §6.4.5); BINARY.SIZE[] counts the same bytes. A decoded leaf's
// Content-Transfer-Encoding field then says binary.
func TestTranscriptBinaryWholeMessage(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", testMsg)
	env.appendMessage(t, "alice", "INBOX", base64Msg)
	env.appendMessage(t, "alice", "INBOX", multipartMsg)
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")

	// 7-bit text: nothing to decode, the message as stored, a plain literal.
	n := strconv.Itoa(len(testMsg))
	c.cmd("b1 FETCH 1 (BINARY.SIZE[] BINARY.PEEK[])",
		`\* 1 FETCH \(BINARY.SIZE\[\] `+n+` BINARY\[\] \{`+n+`\}`,
		`From: Alice <alice@example.org>`, `To: Bob <bob@example.org>`, `Subject: Hello there`,
		`Date: .*`, `Message-ID: <1@example.org>`, ``, `Hi Bob,`, `this is a test.`, `\)`,
		`b1 OK FETCH completed`)

	// base64 single part: header with CTE binary, decoded body with NUL in literal8.
	want := "From: a@example.org\r\nSubject: bin\r\nContent-Type: application/octet-stream\r\n" +
		"Content-Transfer-Encoding: binary\r\n\r\n\x00\x01\x02\x03"
	n = strconv.Itoa(len(want))
	c.cmd("b2 FETCH 2 (BINARY.SIZE[] BINARY.PEEK[])",
		`\* 2 FETCH \(BINARY.SIZE\[\] `+n+` BINARY\[\] ~\{`+n+`\}`,
		`From: a@example.org`, `Subject: bin`, `Content-Type: application/octet-stream`,
		`Content-Transfer-Encoding: binary`, ``, "\x00\x01\x02\x03\\)",
		`b2 OK FETCH completed`)

	// multipart: every encoded leaf is decoded in place.
	c.send("b3 FETCH 3 BINARY.PEEK[]\r\n")
	lines := c.readUntilTagged("b3")
	got := ""
	for _, l := range lines {
		got += l + "\n"
	}
	if !regexp.MustCompile(`(?s)^\* 3 FETCH \(BINARY\[\] ~\{\d+\}\nFrom: .*Content-Transfer-Encoding: binary\n\n\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\n--XX--\n\)\nb3 OK FETCH completed\n$`).MatchString(got) {
		t.Fatalf("BINARY[] of multipart:\n%q", got)
	}
}

// TestTranscriptBinaryLiteral: literal8 (~{n}) is for content holding NUL
// only; 8-bit content without NUL goes in a plain literal (RFC 3516 §4.3,
// "SHOULD return the data in a <string>"), and BODY[] never carries NUL
// (IMAP literals are CHAR8, %x01-ff): a NUL is sent as 0x80, as Dovecot does
// (the pattern matches that lone byte as U+FFFD).
func TestTranscriptBinaryLiteral(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", multipartMsg)
	env.appendMessage(t, "alice", "INBOX", "Subject: nul\r\n\r\na\x00b\r\n")
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")
	c.cmd("b1 FETCH 1 BINARY.PEEK[1]", `\* 1 FETCH \(BINARY\[1\] \{\d+\}`, `Grüße, the numbers are in. Keyword: pineapple\)`, `b1 OK FETCH completed`)
	c.cmd("b2 FETCH 1 BINARY.PEEK[2]<0.3>", `\* 1 FETCH \(BINARY\[2\]<0> ~\{3\}`, "\x00\x01\x02\\)", `b2 OK FETCH completed`)
	c.cmd("b3 FETCH 1 BINARY.PEEK[2]<9.3>", `\* 1 FETCH \(BINARY\[2\]<9> \{1\}`, "\x09\\)", `b3 OK FETCH completed`)
	c.cmd("b4 FETCH 2 BODY.PEEK[TEXT]", `\* 2 FETCH \(BODY\[TEXT\] \{5\}`, `a\x{FFFD}b`, `\)`, `b4 OK FETCH completed`)
	c.cmd("b5 FETCH 2 BINARY.PEEK[1]", `\* 2 FETCH \(BINARY\[1\] ~\{5\}`, "a\x00b", `\)`, `b5 OK FETCH completed`)
}

// TestTranscriptBinarySpecifiers: BINARY takes BODY[]'s specifiers as
// Dovecot does; TEXT is decoded like the message it belongs to, headers
// are returned as written.
func TestTranscriptBinarySpecifiers(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", base64Msg)
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")
	c.cmd("b1 FETCH 1 (BINARY.SIZE[TEXT] BINARY.PEEK[TEXT])", `\* 1 FETCH \(BINARY.SIZE\[TEXT\] 4 BINARY\[TEXT\] ~\{4\}`, "\x00\x01\x02\x03\\)", `b1 OK FETCH completed`)
	c.cmd("b2 FETCH 1 BINARY.PEEK[HEADER.FIELDS (Subject)]", `\* 1 FETCH \(BINARY\[HEADER.FIELDS \("SUBJECT"\)\] \{16\}`, `Subject: bin`, ``, `\)`, `b2 OK FETCH completed`)
	c.cmd("b3 FETCH 1 BINARY.PEEK[1.MIME]<0.4>", `\* 1 FETCH \(BINARY\[1.MIME\]<0> \{4\}`, `From\)`, `b3 OK FETCH completed`)
	c.cmd("b4 FETCH 1 BINARY.PEEK[1.2]", `\* 1 FETCH \(BINARY\[1.2\] \{0\}`, `\)`, `b4 OK FETCH completed`)
	c.cmd("b5 FETCH 1 BINARY.PEEK[0]", `b5 BAD .*`)
}

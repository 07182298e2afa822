package imap

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// appendNUL sends APPEND with a non-synchronizing literal (RFC 7888) of
// body, as a literal8 ~{n+} when binary is set.
func appendNUL(c *tconn, tag, body string, binary bool) {
	c.t.Helper()
	tilde := ""
	if binary {
		tilde = "~"
	}
	c.send(fmt.Sprintf("%s APPEND INBOX %s{%d+}\r\n%s\r\n", tag, tilde, len(body), body))
}

// TestAppendNULRefused: a plain literal is CHAR8, which excludes NUL (RFC
// 9051 §4.3), so APPEND of a message holding NUL in a {n} literal is a
// syntax error (BAD) that stores nothing, in memory or spooled, in a
// MULTIAPPEND or a CATENATE TEXT part. A literal8 ~{n} (RFC 3516 §4.4)
// may hold NUL and is stored as sent.
func TestAppendNULRefused(t *testing.T) {
	env := startServer(t)
	c := dialRaw(t, env.addr)
	c.login("alice")
	nul := "Subject: a\x00b\r\n\r\nx\x00y\r\n"
	appendNUL(c, "a1", nul, false)
	c.expect(`a1 BAD .*NUL.*literal8.*`)
	// Spooled to a file (over spoolThreshold): the same.
	big := "Subject: big\r\n\r\n" + strings.Repeat("0123456789abcde\n", spoolThreshold/16) + "\x00\r\n"
	appendNUL(c, "a2", big, false)
	c.expect(`a2 BAD .*NUL.*`)
	// MULTIAPPEND: the first message is fine, the second is not: neither is stored.
	ok := "Subject: ok\r\n\r\nfine\r\n"
	c.send(fmt.Sprintf("a3 APPEND INBOX {%d+}\r\n%s {%d+}\r\n%s\r\n", len(ok), ok, len(nul), nul))
	c.expect(`a3 BAD .*NUL.*`)
	c.send(fmt.Sprintf("a4 APPEND INBOX CATENATE (TEXT {%d+}\r\n%s)\r\n", len(nul), nul))
	c.expect(`a4 BAD .*NUL.*`)
	c.cmd("s1 STATUS INBOX (MESSAGES)", `\* STATUS "INBOX" \(MESSAGES 0\)`, `s1 OK .*`)

	// literal8: stored byte for byte; BINARY[] returns it in a literal8.
	appendNUL(c, "a5", nul, true)
	c.expect(`a5 OK \[APPENDUID \d+ 1\] APPEND completed`)
	c.send("s2 SELECT INBOX\r\n")
	c.readUntilTagged("s2")
	c.send("f1 FETCH 1 BINARY.PEEK[]\r\n")
	resp := readFramed(t, c, "f1")
	if want := "BINARY[] ~{" + strconv.Itoa(len(nul)) + "}\r\n" + nul + ")"; !strings.Contains(resp, want) {
		t.Fatalf("BINARY[] of the literal8 message:\n%q\nwant it to contain %q", resp, want)
	}
	// Elsewhere NUL never goes out in a plain literal: BODY[] and ENVELOPE
	// send it as 0x80, as Dovecot does.
	c.send("f2 FETCH 1 (ENVELOPE BODY.PEEK[])\r\n")
	if resp := readFramed(t, c, "f2"); strings.IndexByte(resp, 0) >= 0 {
		t.Fatalf("NUL outside a literal8:\n%q", resp)
	}
}

// TestFetchBareCRLFFramed: IMAP stores a message as the client sent it,
// bare CR and LF included (RFC 9051 §6.3.12 asks for CRLF but a server is
// not to rewrite the message), and FETCH returns them only inside
// literals, whose byte count keeps the framing: no quoted string or
// response line carries a bare CR or LF.
func TestFetchBareCRLFFramed(t *testing.T) {
	env := startServer(t)
	c := dialRaw(t, env.addr)
	c.login("alice")
	msg := "From: a@example.org\nSubject: one\rtwo\nTo: b@example.org\r\n\nline\rwith CR\nand LF\r\n"
	c.send(fmt.Sprintf("a1 APPEND INBOX {%d+}\r\n%s\r\n", len(msg), msg))
	c.expect(`a1 OK .*`)
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")
	c.send("f1 FETCH 1 (ENVELOPE BODYSTRUCTURE BODY.PEEK[] BODY.PEEK[HEADER.FIELDS (SUBJECT)] BINARY.PEEK[1])\r\n")
	resp := readFramed(t, c, "f1")
	if !strings.Contains(resp, "BODY[] {"+strconv.Itoa(len(msg))+"}\r\n"+msg) {
		t.Fatalf("BODY[] is not the message as sent:\n%q", resp)
	}
}

// readFramed reads responses up to the tagged one by IMAP framing: lines
// end in CRLF and a "{n}" or "~{n}" at a line's end is followed by n bytes.
// It fails on a bare CR or LF outside a literal, and returns everything
// read.
func readFramed(t *testing.T, c *tconn, tag string) string {
	t.Helper()
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var all bytes.Buffer
	for {
		line, err := c.br.ReadBytes('\n')
		if err != nil {
			t.Fatalf("read: %v after %q", err, all.String())
		}
		all.Write(line)
		body := line[:len(line)-1]
		if !bytes.HasSuffix(body, []byte("\r")) {
			t.Fatalf("bare LF outside a literal after %q", all.String())
		}
		body = body[:len(body)-1]
		if bytes.IndexByte(body, '\r') >= 0 {
			t.Fatalf("bare CR outside a literal in %q", body)
		}
		if bytes.HasSuffix(body, []byte("}")) {
			if i := bytes.LastIndexByte(body, '{'); i >= 0 {
				if n, err := strconv.Atoi(string(body[i+1 : len(body)-1])); err == nil {
					if _, err := io.CopyN(&all, c.br, int64(n)); err != nil {
						t.Fatalf("literal: %v", err)
					}
					continue
				}
			}
		}
		if bytes.HasPrefix(line, []byte(tag+" ")) {
			return all.String()
		}
	}
}

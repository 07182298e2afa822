package imap

import (
	"fmt"
	"strings"
	"testing"
)

// TestTranscriptLiteralMinus: RFC 7888 forbids advertising both LITERAL+
// and LITERAL-, and LITERAL- is the subset of LITERAL+ with
// non-synchronizing literals up to 4096 octets (§5). A LITERAL- client
// therefore works unchanged against our LITERAL+: no "+" continuation is
// sent for any of its literals, in any command.
func TestTranscriptLiteralMinus(t *testing.T) {
	env := startServer(t)
	c := dialRaw(t, env.addr)
	c.cmd("a0 CAPABILITY", `\* CAPABILITY .* LITERAL\+.*`, `a0 OK .*`)
	c.cmd("a1 LOGIN {5+}\r\nalice {7+}\r\nalicepw", `a1 OK \[CAPABILITY .*\] Logged in`)
	c.cmd("a2 CAPABILITY", `\* CAPABILITY [^-]*LITERAL\+( [^ ]+)*`, `a2 OK .*`)
	c.cmd("a3 CREATE {8+}\r\nLiterals", `a3 OK .*`)
	// The largest LITERAL- literal, in APPEND and in a SEARCH string.
	body := testMsg + strings.Repeat("z", 4096-len(testMsg))
	c.cmd(fmt.Sprintf("a4 APPEND Literals {%d+}\r\n%s", len(body), body), `a4 OK \[APPENDUID \d+ 1\] APPEND completed`)
	c.cmd("a5 SELECT {8+}\r\nLiterals", `(?s).*`)
	c.readUntilTagged("a5")
	needle := strings.Repeat("z", 4096)
	c.cmd(fmt.Sprintf("a6 SEARCH BODY {%d+}\r\n%s", len(needle), needle), `\* SEARCH`, `a6 OK .*`)
	c.cmd(fmt.Sprintf("a7 SEARCH BODY {%d+}\r\n%s", 100, strings.Repeat("z", 100)), `\* SEARCH 1`, `a7 OK .*`)
	c.cmd("a8 FETCH 1 RFC822.SIZE", `\* 1 FETCH \(RFC822.SIZE 4096\)`, `a8 OK .*`)
}

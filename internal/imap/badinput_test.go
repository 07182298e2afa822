package imap

import (
	"fmt"
	"strings"
	"testing"
)

func TestBadInput(t *testing.T) {
	env := startServer(t, func(o *Options) { o.MaxLiteralSize = 1000 })
	c := dialRaw(t, env.addr)
	c.cmd("\x01\x02garbage", `\* BAD .*`)
	c.cmd("", `\* BAD .*`)
	c.cmd("a1 FROB", `a1 BAD Unknown command`)
	c.cmd("a2 FETCH 1 FLAGS", `a2 BAD Command not allowed in this state`)
	c.cmd("a3 LOGIN alice", `a3 BAD Syntax error: .*`)
	c.cmd(`a4 LOGIN "alice`, `a4 BAD Syntax error: .*`)
	c.cmd("a5 NOOP "+strings.Repeat("x", 10<<20), `a5 BAD Command line too long`)
	c.cmd("a6 LOGIN {999999999999}", `a6 BAD Literal too large`)
	c.cmd("a7 SELECT \xff\xfe", `a7 BAD Invalid UTF-8 in command`)
	c.cmd("a8 LOGIN alice alicepw", `a8 OK .*`)
	// A synchronizing literal over the limit: no continuation, NO [TOOBIG].
	c.cmd("a9 APPEND INBOX {5000}", `a9 NO \[TOOBIG\] Literal too large`)
	c.cmd("a10 APPEND INBOX {5+}\r\nHello", `a10 OK \[APPENDUID .*`)
	c.cmd("a11 SELECT INBOX", `.*`, `.*`, `\* 1 EXISTS`, `.*`, `.*`, `.*`, `.*`, `.*`, `.*`, `a11 OK .*`)
	for _, bad := range []string{"0", "1:x", "99", "2:*", "1,", ",1", "*:0", "4294967296"} {
		c.cmd("b1 FETCH "+bad+" FLAGS", `b1 BAD .*`)
	}
	c.cmd("b2 FETCH 1 (FLAGS", `b2 BAD .*`)
	c.cmd("b3 FETCH 1 BODY[1.]", `b3 BAD .*`)
	c.cmd("b4 FETCH 1 BODY[HEADER.FIELDS ()]", `b4 BAD .*`)
	c.cmd("b5 STORE 1 FLAGS (\\Bogus)", `b5 BAD .*`)
	c.cmd("b6 SEARCH OR SEEN", `b6 BAD .*`)
	c.cmd("b7 SEARCH "+strings.Repeat("NOT ", 100)+"ALL", `b7 BAD .*`)
	c.cmd("b8 SEARCH SINCE 32-Foo-2020", `b8 BAD .*`)
	c.cmd("b9 UID FETCH 1:* FLAGS", `\* 1 FETCH \(UID 1 FLAGS \(\\Recent\)\)`, `b9 OK UID FETCH completed`)
	// A non-synchronizing literal over the limit cannot be skipped safely.
	c.cmd("c1 NOOP {999999999999+}", `c1 BAD Literal too large`, `\* BYE .*`)

	c = dialRaw(t, env.addr)
	c.cmd("d1 LOGIN alice alicepw", `d1 OK .*`)
	c.cmd("d2 STATUS INBOX (MESSAGES)", `\* STATUS "INBOX" \(MESSAGES 1\)`, `d2 OK STATUS completed`)
}

// TestAppendMemoryBudget: when the server-wide APPEND buffer budget is
// spent, APPEND gets NO [LIMIT] (without a continuation for a
// synchronizing literal; a non-synchronizing one is skipped) and the
// session stays usable.
func TestAppendMemoryBudget(t *testing.T) {
	env := startServer(t, func(o *Options) { o.MaxLiteralSize = 1000 })
	env.srv.appendMem.limit = 100
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.cmd("a1 APPEND INBOX {200}", `a1 NO \[LIMIT\] Server busy, try again later`)
	c.cmd("a2 APPEND INBOX {200+}\r\n"+strings.Repeat("x", 200), `a2 NO \[LIMIT\] Server busy, try again later`)
	c.cmd("a3 APPEND INBOX {50+}\r\n"+strings.Repeat("y", 50), `a3 OK \[APPENDUID \d+ 1\] APPEND completed`)
	c.cmd("a4 APPEND INBOX {60+}\r\n"+strings.Repeat("y", 60), `a4 OK \[APPENDUID \d+ 2\] APPEND completed`)
	c.cmd("a5 NOOP", `a5 OK NOOP completed`)
	env.srv.appendMem.mu.Lock()
	defer env.srv.appendMem.mu.Unlock()
	if env.srv.appendMem.used != 0 {
		t.Fatalf("budget leaked: %d bytes held", env.srv.appendMem.used)
	}
}

// TestAppendMemoryClaimedAsBytesArrive: an announced APPEND literal claims
// the server's APPEND memory chunk by chunk as its bytes arrive, so a
// client that announces a large literal and stalls does not starve the
// others; when the budget runs out midway the rest is skipped, the command
// gets NO [LIMIT] and the stream stays in step, also for a non-synchronizing
// MULTIAPPEND whose later literals were not read.
func TestAppendMemoryClaimedAsBytesArrive(t *testing.T) {
	env := startServer(t)
	env.srv.appendMem.limit = 3 * literalChunk

	stalled := dialRaw(t, env.addr)
	stalled.login("alice")
	stalled.cmd("s1 APPEND INBOX {1000000}", `\+ .*`) // below spoolThreshold: held in memory
	stalled.send("only a few bytes")

	c := dialRaw(t, env.addr)
	c.login("bob")
	body := "Subject: x\r\n\r\n" + strings.Repeat("y", literalChunk)
	c.cmd(fmt.Sprintf("a1 APPEND INBOX {%d+}\r\n%s", len(body), body), `a1 OK \[APPENDUID \d+ 1\] APPEND completed`)

	big := strings.Repeat("z", 4*literalChunk)
	c.cmd(fmt.Sprintf("a2 APPEND INBOX {%d+}\r\n%s {5+}\r\nHello", len(big), big), `a2 NO \[LIMIT\] Server busy, try again later`)
	c.cmd("a3 STATUS INBOX (MESSAGES)", `\* STATUS "INBOX" \(MESSAGES 1\)`, `a3 OK STATUS completed`)
}

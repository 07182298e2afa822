package imap

import (
	"github.com/rookery-mail/rookery/internal/netserve/netservetest"

	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSlowLoris: 50 slow-loris connections (silent, trickling a command
// line, trickling an APPEND literal) do not slow a normal client down, and
// each is logged out once IdleTimeout has passed since its command began,
// however many bytes it keeps sending: the autologout deadline is armed per
// command, not pushed back by each read.
func TestSlowLoris(t *testing.T) {
	const idle = time.Second
	env := startServer(t, func(o *Options) { o.IdleTimeout, o.MaxUserIPSessions = idle, 50 })
	env.appendMessage(t, "alice", "INBOX", testMsg)

	kinds := []struct{ name, preamble, trickle string }{
		{"silent", "", ""},
		{"line", "", "x NOOP " + strings.Repeat("y", 100)},
		{"literal", "l1 LOGIN bob bobpw\r\nl2 APPEND INBOX {100000+}\r\n", "Subject: slow\r\n"},
	}
	results := make([]netservetest.Loris, 50)
	var wg sync.WaitGroup
	for i := range results {
		k := kinds[i%len(kinds)]
		wg.Go(func() {
			results[i] = netservetest.RunLoris(env.addr, k.preamble, k.trickle, 200*time.Millisecond, 10*idle)
		})
	}

	// A normal client keeps working while the loris connections are open
	// and while they are being dropped.
	var slowest time.Duration
	timed := func(command func()) {
		start := time.Now()
		command()
		slowest = max(slowest, time.Since(start))
	}
	rounds := 0
	for end := time.Now().Add(2 * idle); time.Now().Before(end); rounds++ {
		c := dialRaw(t, env.addr)
		timed(func() { c.cmd("n1 LOGIN alice alicepw", `n1 OK .*`) })
		timed(func() { selectInbox(t, c, "n2", 1) })
		timed(func() {
			c.cmd("n3 FETCH 1 (UID BODY.PEEK[HEADER.FIELDS (Subject)])",
				`\* 1 FETCH \(UID 1 BODY\[HEADER.FIELDS \("SUBJECT"\)\] \{\d+\}`, `Subject: Hello there`, ``, `\)`, `n3 OK FETCH completed`)
		})
		timed(func() { c.cmd("n4 LOGOUT", `\* BYE .*`, `n4 OK .*`) })
		c.c.Close()
	}
	if slowest > 2*time.Second {
		t.Errorf("slowest command of the normal client took %v next to 50 loris connections", slowest)
	}
	t.Logf("normal client: %d rounds, slowest command %v", rounds, slowest)

	wg.Wait()
	for i, r := range results {
		k := kinds[i%len(kinds)].name
		switch {
		case r.Err != nil:
			t.Errorf("loris %d (%s): %v after %q", i, k, r.Err, r.Lines)
		case r.Closed < idle || r.Closed > idle+2*time.Second:
			t.Errorf("loris %d (%s): closed after %v, want about %v", i, k, r.Closed, idle)
		case len(r.Lines) == 0 || r.Lines[len(r.Lines)-1] != "* BYE Autologout; idle for too long":
			t.Errorf("loris %d (%s): last lines %q, want the autologout BYE", i, k, r.Lines)
		}
	}
}

// TestHugeLiteralAnnouncements: a 1 GiB literal announced for APPEND is
// refused before anything is allocated. The synchronizing form gets NO
// [TOOBIG] without a continuation and the session goes on; the
// non-synchronizing form cannot be skipped, so that session is closed,
// while another client's session is unaffected.
func TestHugeLiteralAnnouncements(t *testing.T) {
	env := startServer(t)
	a := dialRaw(t, env.addr)
	a.login("alice")
	b := dialRaw(t, env.addr)
	b.login("bob")

	before := totalAlloc()
	a.cmd("a1 APPEND INBOX {1073741824}", `a1 NO \[TOOBIG\] Literal too large`)
	a.cmd("a2 NOOP", `a2 OK NOOP completed`)

	b.send("b1 APPEND INBOX {1073741824+}\r\n" + strings.Repeat("From: x\r\n", 10)) // and the start of the "literal"
	b.expect(`b1 NO \[TOOBIG\] Literal too large`, `\* BYE Protocol error`)
	expectEOF(t, b)

	a.cmd(fmt.Sprintf("a3 APPEND INBOX {%d+}\r\n%s", len(testMsg), testMsg), `a3 OK \[APPENDUID \d+ 1\] APPEND completed`)
	a.cmd("a4 STATUS INBOX (MESSAGES)", `\* STATUS "INBOX" \(MESSAGES 1\)`, `a4 OK STATUS completed`)
	if grew := totalAlloc() - before; grew > 64<<20 {
		t.Fatalf("server allocated %d MiB for refused literals", grew>>20)
	}
	b = dialRaw(t, env.addr)
	b.login("bob")
	b.cmd("b2 STATUS INBOX (MESSAGES)", `\* STATUS "INBOX" \(MESSAGES 0\)`, `b2 OK STATUS completed`)
}

// TestHugeCommandLine: a 100 MiB command line gets BAD, the session goes
// on, and the server discards the excess instead of buffering it; a
// concurrent session is unaffected.
func TestHugeCommandLine(t *testing.T) {
	env := startServer(t)
	other := dialRaw(t, env.addr)
	other.login("bob")
	c := dialRaw(t, env.addr)
	c.login("alice")

	before := totalAlloc()
	c.send("h1 NOOP ")
	chunk := []byte(strings.Repeat("z", 1<<20))
	for range 100 {
		c.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.c.Write(chunk); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	c.send("\r\n")
	c.expect(`h1 BAD Command line too long`)
	other.cmd("o1 NOOP", `o1 OK NOOP completed`)
	c.cmd("h2 NOOP", `h2 OK NOOP completed`)
	if grew := totalAlloc() - before; grew > 32<<20 {
		t.Fatalf("server allocated %d MiB for a 100 MiB line", grew>>20)
	}
}

// TestAutologoutAuthenticated: an authenticated session that sends nothing
// is told BYE and closed after IdleTimeout; one in IDLE is kept at least
// that long (RFC 9051 §5.4: the timer is at least 30 minutes, the default).
func TestAutologoutAuthenticated(t *testing.T) {
	if d := startServer(t).srv.opts.IdleTimeout; d < 30*time.Minute {
		t.Fatalf("default IdleTimeout %v is below the RFC 9051 §5.4 minimum of 30 minutes", d)
	}
	const idle = 700 * time.Millisecond
	env := startServer(t, func(o *Options) { o.IdleTimeout = idle })

	c := dialRaw(t, env.addr)
	c.login("alice")
	selectInbox(t, c, "s1", 0)
	start := time.Now()
	c.expect(`\* BYE Autologout; idle for too long`)
	expectEOF(t, c)
	if waited := time.Since(start); waited < idle*9/10 {
		t.Fatalf("selected session logged out after %v, before IdleTimeout %v", waited, idle)
	}

	c = dialRaw(t, env.addr)
	c.login("bob")
	selectInbox(t, c, "s2", 0)
	start = time.Now()
	c.cmd("i1 IDLE", `\+ idling`)
	env.appendMessage(t, "bob", "INBOX", testMsg)
	c.expect(`\* 1 EXISTS`, `\* 1 RECENT`)
	c.expect(`\* BYE Autologout; idle for too long`)
	if waited := time.Since(start); waited < idle*9/10 {
		t.Fatalf("IDLE session logged out after %v, before IdleTimeout %v", waited, idle)
	}
	expectEOF(t, c)
}

// selectInbox selects INBOX and checks its message count and the tagged
// OK; the other untagged lines of SELECT are left to transcript_test.go.
func selectInbox(t *testing.T, c *tconn, tag string, exists int) {
	t.Helper()
	c.send(tag + " SELECT INBOX\r\n")
	lines := c.readUntilTagged(tag)
	if !slices.Contains(lines, fmt.Sprintf("* %d EXISTS", exists)) || !strings.HasPrefix(lines[len(lines)-1], tag+" OK [READ-WRITE] ") {
		t.Fatalf("SELECT INBOX: want %d EXISTS and OK [READ-WRITE], got %q", exists, lines)
	}
}

// expectEOF waits for the server to close the connection.
func expectEOF(t *testing.T, c *tconn) {
	t.Helper()
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := c.br.ReadString('\n'); !errors.Is(err, io.EOF) {
		t.Fatalf("want the connection closed, got %q, %v", line, err)
	}
}

// totalAlloc is the cumulative heap allocation of this process (server
// and test clients), which a 1 GiB buffer would show even after a GC.
func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

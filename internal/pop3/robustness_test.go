package pop3

import (
	"github.com/rookery-mail/rookery/internal/netserve/netservetest"

	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSlowLoris: 50 slow-loris connections (silent, trickling a line
// before and after login) do not slow a normal client down, and each is
// disconnected once IdleTimeout has passed since its command began, however
// many bytes it keeps sending.
func TestSlowLoris(t *testing.T) {
	const idle = time.Second
	e := startServer(t, func(o *Options) { o.IdleTimeout = idle })
	e.appendMessage(t, "alice", testMsg)

	kinds := []struct{ name, preamble, trickle string }{
		{"silent", "", ""},
		{"unauthenticated", "", "USER " + strings.Repeat("y", 100)},
		{"authenticated", "USER bob\r\nPASS bobpw\r\n", "RETR 1"},
	}
	results := make([]netservetest.Loris, 50)
	var wg sync.WaitGroup
	for i := range results {
		k := kinds[i%len(kinds)]
		wg.Go(func() {
			results[i] = netservetest.RunLoris(e.addr, k.preamble, k.trickle, 200*time.Millisecond, 10*idle)
		})
	}

	var slowest time.Duration
	timed := func(c *tconn, line string, patterns ...string) {
		t.Helper()
		start := time.Now()
		c.cmd(line, patterns...)
		slowest = max(slowest, time.Since(start))
	}
	rounds := 0
	for end := time.Now().Add(2 * idle); time.Now().Before(end); rounds++ {
		c := dialRaw(t, e.addr)
		timed(c, "USER alice", `\+OK .*`)
		timed(c, "PASS alicepw", `\+OK Logged in\.`)
		timed(c, "STAT", fmt.Sprintf(`\+OK 1 %d`, len(testMsg)))
		timed(c, "TOP 1 0", `\+OK`, "From: .*", "To: .*", "Subject: Hello there", "", `\.`)
		timed(c, "QUIT", `\+OK Logging out\.`)
		c.expectClosed()
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
		case len(r.Lines) == 0 || r.Lines[len(r.Lines)-1] != "-ERR Disconnected for inactivity.":
			t.Errorf("loris %d (%s): last lines %q, want the inactivity -ERR", i, k, r.Lines)
		}
	}
}

// TestHugeLine: a 100 MiB line gets -ERR and the session goes on; the
// server discards the excess instead of buffering it, and a concurrent
// session is unaffected.
func TestHugeLine(t *testing.T) {
	e := startServer(t)
	e.appendMessage(t, "alice", testMsg)
	other := dialRaw(t, e.addr)
	other.login("bob")
	c := dialRaw(t, e.addr)
	c.login("alice")

	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	before := m.TotalAlloc
	c.send("LIST ")
	chunk := []byte(strings.Repeat("9", 1<<20))
	for range 100 {
		c.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.c.Write(chunk); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	c.send("\r\n")
	c.expect(`-ERR Line too long\.`)
	other.cmd("STAT", `\+OK 0 0`)
	c.cmd("STAT", fmt.Sprintf(`\+OK 1 %d`, len(testMsg)))
	runtime.ReadMemStats(&m)
	if grew := m.TotalAlloc - before; grew > 32<<20 {
		t.Fatalf("server allocated %d MiB for a 100 MiB line", grew>>20)
	}
	c.cmd("QUIT", `\+OK Logging out\.`)
	c.expectClosed()
}

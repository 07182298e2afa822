package pop3

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSessionLogNeverHoldsPasswords: even the debug protocol trace
// redacts PASS and AUTH; the session-end line carries the counters.
func TestSessionLogNeverHoldsPasswords(t *testing.T) {
	var logs syncBuffer
	e := startServer(t, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	e.appendMessage(t, "alice", testMsg)
	c := dialRaw(t, e.addr)
	c.cmd("USER alice", `\+OK .*`)
	c.cmd("PASS wrongsecret", `-ERR .*`)
	ir := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00alicepw"))
	c.cmd("AUTH PLAIN "+ir, `\+OK Logged in\.`)
	c.send("RETR 1\r\n")
	c.expect(`\+OK .*`)
	c.multi()
	c.cmd("DELE 1", `\+OK .*`)
	c.cmd("QUIT", `\+OK .*`)
	c.expectClosed()
	waitFor(t, func() bool { return strings.Contains(logs.String(), "pop3 session end") })
	out := logs.String()
	for _, secret := range []string{"wrongsecret", "alicepw", ir} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %q:\n%s", secret, out)
		}
	}
	want := "user=alice"
	end := out[strings.Index(out, "pop3 session end"):]
	for _, f := range []string{want, "retr=1", "dele=1", "bytes=", "duration=", "outcome=quit", "remote=127.0.0.1"} {
		if !strings.Contains(end, f) {
			t.Errorf("session end line lacks %s: %s", f, end)
		}
	}
}

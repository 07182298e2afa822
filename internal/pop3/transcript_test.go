package pop3

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestCapaAndLogin: before login CAPA offers USER and SASL PLAIN (plain
// text from loopback is allowed); after login only what applies then.
func TestCapaAndLogin(t *testing.T) {
	e := startServer(t)
	c := dialRaw(t, e.addr)
	c.cmd("CAPA", `\+OK Capability list follows`, "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE",
		"USER", "SASL PLAIN", "IMPLEMENTATION Rookery", `\.`)
	c.login("alice")
	c.cmd("capa", `\+OK Capability list follows`, "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE",
		"IMPLEMENTATION Rookery", `\.`)
	c.cmd("QUIT", `\+OK Logging out\.`)
	c.expectClosed()
}

// TestTransaction walks RFC 1939 §5 and §7 over a two-message maildrop:
// sizes match what RETR delivers after un-stuffing, dot lines are stuffed,
// DELE only marks, RSET unmarks, QUIT expunges exactly the marked UIDs.
func TestTransaction(t *testing.T) {
	e := startServer(t)
	second := "Subject: two\r\n\r\nbody\r\nline 2\r\nline 3\r\n"
	uid1 := e.appendMessage(t, "alice", testMsg)
	uid2 := e.appendMessage(t, "alice", second)
	mb, _ := e.inbox(t, "alice")
	total := len(testMsg) + len(second)

	c := dialRaw(t, e.addr)
	c.login("alice")
	c.cmd("STAT", fmt.Sprintf(`\+OK 2 %d`, total))
	c.cmd("LIST", fmt.Sprintf(`\+OK 2 messages \(%d octets\)`, total),
		fmt.Sprintf("1 %d", len(testMsg)), fmt.Sprintf("2 %d", len(second)), `\.`)
	c.cmd("LIST 2", fmt.Sprintf(`\+OK 2 %d`, len(second)))
	c.cmd("UIDL", `\+OK .*`, fmt.Sprintf(`1 %d\.%d`, mb.UIDValidity, uid1), fmt.Sprintf(`2 %d\.%d`, mb.UIDValidity, uid2), `\.`)
	c.cmd("UIDL 1", fmt.Sprintf(`\+OK 1 %d\.%d`, mb.UIDValidity, uid1))

	// On the wire: every line starting with "." gains one more.
	c.cmd("RETR 1", fmt.Sprintf(`\+OK %d octets`, len(testMsg)),
		"From: .*", "To: .*", "Subject: Hello there", "", "Hi Bob,",
		`\.\.a line starting with a dot`, `\.\.\.two dots`, `\.\.`, "last line", `\.`)
	c.send("RETR 2\r\n")
	c.expect(`\+OK .*`)
	if got := c.multi(); got != second {
		t.Fatalf("RETR 2 = %q, want %q", got, second)
	}
	c.cmd("TOP 2 0", `\+OK`, "Subject: two", "", `\.`)
	c.cmd("TOP 2 2", `\+OK`, "Subject: two", "", "body", "line 2", `\.`)
	c.cmd("TOP 2 99", `\+OK`, "Subject: two", "", "body", "line 2", "line 3", `\.`)

	c.cmd("DELE 1", `\+OK Message 1 marked for deletion\.`)
	c.cmd("DELE 1", `-ERR Message is deleted\.`)
	c.cmd("RETR 1", `-ERR Message is deleted\.`)
	c.cmd("LIST 1", `-ERR Message is deleted\.`)
	c.cmd("STAT", fmt.Sprintf(`\+OK 1 %d`, len(second)))
	c.cmd("LIST", `\+OK 1 messages .*`, fmt.Sprintf("2 %d", len(second)), `\.`)
	c.cmd("RSET", fmt.Sprintf(`\+OK 2 messages \(%d octets\)`, total))
	c.cmd("DELE 2", `\+OK .*`)
	c.cmd("RETR 3", `-ERR No such message\.`)
	c.cmd("RETR 0", `-ERR No such message\.`)
	c.cmd("RETR x", `-ERR Invalid message number\.`)
	c.cmd("RETR", `-ERR RETR takes one message number\.`)
	c.cmd("NOOP", `\+OK`)
	c.cmd("QUIT", `\+OK Logging out, messages deleted\.`)
	c.expectClosed()

	_, msgs := e.inbox(t, "alice")
	if len(msgs) != 1 || msgs[0].UID != uid1 {
		t.Fatalf("after QUIT the INBOX holds %+v, want only UID %d", msgs, uid1)
	}
}

// TestDropWithoutQuitDeletesNothing: RFC 1939 §6, no UPDATE without QUIT.
func TestDropWithoutQuitDeletesNothing(t *testing.T) {
	e := startServer(t)
	e.appendMessage(t, "alice", testMsg)
	c := dialRaw(t, e.addr)
	c.login("alice")
	c.cmd("DELE 1", `\+OK .*`)
	c.c.Close()
	waitFor(t, func() bool { return metricValue(t, e.reg, "rookery_pop3_sessions_open") == 0 })
	if _, msgs := e.inbox(t, "alice"); len(msgs) != 1 {
		t.Fatalf("%d messages after a dropped session, want 1", len(msgs))
	}
}

// TestSnapshotAndStableUIDL: mail arriving during a session appears at the
// next login; UIDLs do not change across sessions.
func TestSnapshotAndStableUIDL(t *testing.T) {
	e := startServer(t)
	e.appendMessage(t, "bob", testMsg)
	c := dialRaw(t, e.addr)
	c.login("bob")
	c.send("UIDL\r\n")
	c.expect(`\+OK .*`)
	first := c.multi()
	e.appendMessage(t, "bob", "Subject: late\r\n\r\nx\r\n")
	c.cmd("STAT", `\+OK 1 \d+`)
	c.cmd("RETR 2", `-ERR No such message\.`)
	c.cmd("QUIT", `\+OK Logging out\.`)

	c = dialRaw(t, e.addr)
	c.login("bob")
	c.cmd("STAT", `\+OK 2 \d+`)
	c.send("UIDL\r\n")
	c.expect(`\+OK .*`)
	if second := c.multi(); !strings.HasPrefix(second, first) || second == first {
		t.Fatalf("UIDL changed across sessions:\n%q\n%q", first, second)
	}
}

// TestWrongStateAndGarbage: every bad input gets -ERR and the session goes on.
func TestWrongStateAndGarbage(t *testing.T) {
	e := startServer(t)
	e.appendMessage(t, "alice", testMsg)
	c := dialRaw(t, e.addr)
	c.cmd("STAT", `-ERR Command not allowed in this state\.`)
	c.cmd("RETR 1", `-ERR Command not allowed in this state\.`)
	c.cmd("PASS alicepw", `-ERR No username given\.`)
	c.cmd("XYZZY", `-ERR Unknown command\.`)
	c.cmd("", `-ERR Unknown command\.`)
	c.cmd("A\x00B", `-ERR Unknown command\.`)
	c.cmd("USER", `-ERR No username given\.`)
	c.cmd(strings.Repeat("x", 5000), `-ERR Line too long\.`)
	c.login("alice")
	c.cmd("USER alice", `-ERR Command not allowed in this state\.`)
	c.cmd("STLS", `-ERR Command not allowed in this state\.`)
	c.cmd("TOP 1", `-ERR TOP takes a message number and a line count\.`)
	c.cmd("TOP 1 -1", `-ERR Invalid line count\.`)
	c.cmd("LIST 1 2", `-ERR Too many arguments\.`)
	c.cmd("LIST 99999999999", `-ERR Invalid message number\.`)
	c.cmd("STAT", `\+OK 1 \d+`)
}

// TestTooManyBadCommandsCloses bounds a client that only sends garbage.
func TestTooManyBadCommandsCloses(t *testing.T) {
	e := startServer(t)
	c := dialRaw(t, e.addr)
	for range maxBadCommands - 1 {
		c.cmd("BOGUS", `-ERR Unknown command\.`)
	}
	c.cmd("BOGUS", `-ERR Unknown command\.`, `-ERR Too many bad commands\.`)
	c.expectClosed()
}

// TestAuthFailures: [AUTH] on bad passwords, USER needed again after a
// failed PASS, and the connection closes after the third failure.
func TestAuthFailures(t *testing.T) {
	e := startServer(t)
	c := dialRaw(t, e.addr)
	c.cmd("USER alice", `\+OK .*`)
	c.cmd("PASS wrong", `-ERR \[AUTH\] Authentication failed\.`)
	c.cmd("PASS alicepw", `-ERR No username given\.`)
	c.cmd("USER nobody", `\+OK .*`)
	c.cmd("PASS x", `-ERR \[AUTH\] Authentication failed\.`)
	c.cmd("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00alice\x00nope")), `-ERR \[AUTH\] Authentication failed\.`)
	c.expectClosed()
}

// TestPasswordWithSpaces: PASS takes the rest of the line (RFC 1939 §7).
func TestPasswordWithSpaces(t *testing.T) {
	e := startServer(t, func(o *Options) {
		o.Backend.(*testBackend).users["carol"] = "a b  c "
	})
	c := dialRaw(t, e.addr)
	c.cmd("USER carol", `\+OK .*`)
	c.cmd("PASS a b  c ", `\+OK Logged in\.`)
}

// TestAuthPlain: RFC 5034 with an initial response, with a continuation,
// an empty response, a canceled exchange and bad base64.
func TestAuthPlain(t *testing.T) {
	e := startServer(t)
	plain := func(authz, user, pass string) string {
		return base64.StdEncoding.EncodeToString([]byte(authz + "\x00" + user + "\x00" + pass))
	}
	c := dialRaw(t, e.addr)
	c.cmd("AUTH", `\+OK`, "PLAIN", `\.`)
	c.cmd("AUTH CRAM-MD5", `-ERR Unsupported authentication mechanism\.`)
	c.cmd("AUTH PLAIN", `\+ `)
	c.cmd("*", `-ERR Authentication aborted\.`)
	c.cmd("AUTH PLAIN !!!", `-ERR Invalid base64 data\.`)
	c.cmd("AUTH PLAIN =", `-ERR Malformed PLAIN response\.`)
	c.cmd("AUTH PLAIN "+plain("bob", "alice", "alicepw"), `-ERR \[AUTH\] Authorization identity not permitted\.`)
	c.cmd("AUTH PLAIN", `\+ `)
	c.cmd(plain("", "alice", "alicepw"), `\+OK Logged in\.`)
	c.cmd("STAT", `\+OK 0 0`)

	c = dialRaw(t, e.addr)
	c.cmd("auth plain "+plain("alice", "alice", "alicepw"), `\+OK Logged in\.`)
}

// TestPipelining: RFC 2449 §6.6, several commands in one write are all
// answered in order.
func TestPipelining(t *testing.T) {
	e := startServer(t)
	e.appendMessage(t, "alice", testMsg)
	c := dialRaw(t, e.addr)
	c.send("USER alice\r\nPASS alicepw\r\nSTAT\r\nUIDL 1\r\nNOOP\r\nQUIT\r\n")
	c.expect(`\+OK .*`, `\+OK Logged in\.`, `\+OK 1 \d+`, `\+OK 1 \d+\.\d+`, `\+OK`, `\+OK Logging out\.`)
	c.expectClosed()
}

// TestLockMaildrop: with LockMaildrop a second session gets [IN-USE]
// until the first ends.
func TestLockMaildrop(t *testing.T) {
	e := startServer(t, func(o *Options) { o.LockMaildrop = true })
	a := dialRaw(t, e.addr)
	a.login("alice")
	b := dialRaw(t, e.addr)
	b.cmd("USER alice", `\+OK .*`)
	b.cmd("PASS alicepw", `-ERR \[IN-USE\] Mailbox is locked by another POP3 session\.`)
	a.cmd("QUIT", `\+OK .*`)
	a.expectClosed()
	waitFor(t, func() bool { return metricValue(t, e.reg, "rookery_pop3_sessions_open") == 1 })
	b.login("alice")
}

// TestShutdownCommitsNothing: a session ended by Shutdown is told so and
// its DELEs are not applied (no QUIT, no UPDATE state).
func TestShutdownCommitsNothing(t *testing.T) {
	e := startServer(t)
	e.appendMessage(t, "alice", testMsg)
	c := dialRaw(t, e.addr)
	c.login("alice")
	c.cmd("DELE 1", `\+OK .*`)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c.expect(`-ERR \[SYS/TEMP\] Server shutting down\.`)
	c.expectClosed()
	if _, msgs := e.inbox(t, "alice"); len(msgs) != 1 {
		t.Fatalf("%d messages after shutdown, want 1", len(msgs))
	}
}

// TestMetrics: the session gauge and the per-command counter, with
// unknown commands folded into one label value.
func TestMetrics(t *testing.T) {
	e := startServer(t)
	c := dialRaw(t, e.addr)
	c.login("alice")
	c.cmd("STAT", `\+OK 0 0`)
	c.cmd("FOO", `-ERR .*`)
	c.cmd("RETR 1", `-ERR .*`)
	if v := metricValue(t, e.reg, "rookery_pop3_sessions_open"); v != 1 {
		t.Errorf("sessions_open = %v, want 1", v)
	}
	for _, tc := range []struct {
		cmd, result string
		want        float64
	}{{"STAT", "ok", 1}, {"PASS", "ok", 1}, {"unknown", "err", 1}, {"RETR", "err", 1}} {
		if v := metricValue(t, e.reg, "rookery_pop3_commands_total", "command", tc.cmd, "result", tc.result); v != tc.want {
			t.Errorf("commands_total{%s,%s} = %v, want %v", tc.cmd, tc.result, v, tc.want)
		}
	}
	families, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
	}
	for _, n := range []string{"rookery_pop3_sessions_open", "rookery_pop3_commands_total"} {
		if !slices.Contains(names, n) {
			t.Errorf("metric %s not registered (have %v)", n, names)
		}
	}
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// metricValue reads one gauge or counter from reg; labels are name, value pairs.
func metricValue(t testing.TB, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue metrics
				}
			}
			if g := m.GetGauge(); g != nil {
				return g.GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// TestAutologout: an idle session is told and closed; its DELEs are not
// applied.
func TestAutologout(t *testing.T) {
	e := startServer(t, func(o *Options) { o.IdleTimeout = 200 * time.Millisecond })
	e.appendMessage(t, "alice", testMsg)
	c := dialRaw(t, e.addr)
	c.login("alice")
	c.cmd("DELE 1", `\+OK .*`)
	c.expect(`-ERR Disconnected for inactivity\.`)
	c.expectClosed()
	if _, msgs := e.inbox(t, "alice"); len(msgs) != 1 {
		t.Fatalf("%d messages after autologout, want 1", len(msgs))
	}
}

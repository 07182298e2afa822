package cluster

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pgOutage is how long PostgreSQL stays down.
const pgOutage = 30 * time.Second

// testPostgresDown: with PostgreSQL stopped for 30 s, an MX node answers 4xx,
// IMAP logins at front and back ends fail cleanly (a NO or BYE, no hang,
// no crash) and nothing
// bounces — mail accepted just before, whose delivery meets the outage,
// is deferred; afterwards every flow works and that mail arrives once.
func testPostgresDown(t *testing.T, c *cluster) {
	rcpt, sender := c.users[0], c.users[1] // a bounce would land in sender's INBOX
	// Directly at a node: HAProxy, seeing every node's /readyz fail, closes
	// connections itself (which senders retry just as a 4xx).
	mx := c.withRole("mx")[0]
	back, _ := c.serving(t, rcpt.store, 4*leaseTTL)
	senderBefore := waitTokens(t, c.servingIMAP(t, sender.store), sender, 20*time.Second)

	// Mail queued for a paused back end meets the outage when it resumes.
	back.signal(t, syscall.SIGSTOP)
	var queued []string
	for i := range 3 {
		tok := fmt.Sprintf("outage-queued-%d", i)
		if err := send(mx.addrs["mx"], sender.addr, rcpt.addr, tok); err != nil {
			back.signal(t, syscall.SIGCONT)
			t.Fatalf("SMTP before the outage: %v", err)
		}
		queued = append(queued, tok)
	}
	pgDir := filepath.Join(c.dir, "pg")
	run(t, "../../scripts/pg-stop.sh", pgDir)
	back.signal(t, syscall.SIGCONT)
	down := time.Now()
	restarted := false
	defer func() {
		if !restarted {
			run(t, "../../scripts/pg-start.sh", pgDir, strings.Split(c.procs["postgres"].addrs["postgres"], ":")[1])
		}
	}()

	for i := 0; time.Since(down) < pgOutage-5*time.Second; i++ {
		err := send(mx.addrs["mx"], "sender@elsewhere.test", rcpt.addr, fmt.Sprintf("outage-refused-%d", i))
		if code := smtpCode(err); code < 400 || code >= 500 {
			t.Errorf("SMTP with PostgreSQL down: %v, want a 4xx reply", err)
		}
		for _, p := range append(c.frontEnds(), back) {
			start := time.Now()
			s, _, err := dialIMAP(p.addrs["imap"])
			if err == nil {
				out, err := s.cmd(fmt.Sprintf("LOGIN %s %s", rcpt.addr, rcpt.pass))
				s.close()
				if err == nil && !strings.Contains(out, "T NO") && !strings.Contains(out, "* BYE") {
					t.Errorf("IMAP LOGIN at %s with PostgreSQL down: %q, want NO (or BYE)", p.name, out)
				}
			}
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("an IMAP login attempt at %s with PostgreSQL down took %s", p.name, d)
			}
		}
		time.Sleep(2 * time.Second)
	}
	time.Sleep(time.Until(down.Add(pgOutage)))
	run(t, "../../scripts/pg-start.sh", pgDir, strings.Split(c.procs["postgres"].addrs["postgres"], ":")[1])
	restarted = true
	for _, name := range c.order {
		if p := c.procs[name]; p.addrs["http"] != "" && p.alive() {
			eventually(t, 30*time.Second, name+" is not ready after PostgreSQL came back", func() bool { return ready(p) })
		}
	}
	if err := send(mx.addrs["mx"], "sender@elsewhere.test", rcpt.addr, "outage-after"); err != nil {
		t.Fatalf("SMTP after the outage: %v", err)
	}
	now := waitTokens(t, at(c.frontEnds()[0].addrs["imap"]), rcpt, 60*time.Second, append(queued, "outage-after")...)
	for _, tok := range append(queued, "outage-after") {
		if n := len(now.msgs[tok]); n != 1 {
			t.Errorf("%s is in the INBOX %d times", tok, n)
		}
	}
	for tok := range now.msgs {
		if strings.HasPrefix(tok, "outage-refused-") {
			t.Errorf("%s got a 4xx but is in the INBOX", tok)
		}
	}
	if got := waitTokens(t, c.servingIMAP(t, sender.store), sender, 20*time.Second); got.exists != senderBefore.exists {
		t.Errorf("the sender's INBOX went from %d to %d messages: a bounce?", senderBefore.exists, got.exists)
	}
	if q := c.admin(t, "queue", "list"); strings.Contains(q, "<>") {
		t.Errorf("the queue holds a bounce:\n%s", q)
	}
}

// run runs a script with a bound on its time and fails the test on error.
func run(t *testing.T, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

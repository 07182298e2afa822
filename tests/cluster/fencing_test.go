package cluster

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testPausedNodeFenced: SIGSTOP the node serving a store past its lease,
// let another take the store over and take mail, SIGCONT: the old node's
// writes from a session it held are refused, the store is intact, and a
// front end that still routes to the old node finds the new one at once.
func testPausedNodeFenced(t *testing.T, c *cluster) {
	u := c.users[1]
	read := at(c.frontEnds()[0].addrs["imap"])
	old, before := c.serving(t, u.store, 4*leaseTTL)
	known := waitTokens(t, read, u, 20*time.Second)
	// The other front end learns the route to the old node now and is not
	// used again until the old node runs without the store.
	stale := c.frontEnds()[1]
	if _, err := readMailbox(stale.addrs["imap"], u); err != nil {
		t.Fatal(err)
	}
	// A session on the old node itself, selected before the pause.
	s, _, err := dialIMAP(old.addrs["imap"])
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	s.login(t, u)
	if out, err := s.cmd("SELECT INBOX"); err != nil || !strings.Contains(out, "T OK") {
		t.Fatalf("SELECT at %s: %v %q", old.name, err, out)
	}

	old.signal(t, syscall.SIGSTOP)
	stopped := true
	defer func() {
		if stopped {
			old.signal(t, syscall.SIGCONT)
		}
	}()
	var after lease
	eventually(t, 4*leaseTTL, u.store+" is not taken over while "+old.name+" is stopped", func() bool {
		after = c.lease(t, u.store)
		return after.valid && after.holder != "" && after.holder != old.name
	})
	t.Logf("%s: %s (epoch %d) stopped, %s took over (epoch %d)", u.store, old.name, before.epoch, after.holder, after.epoch)
	if err := send(c.withRole("mx")[len(c.withRole("mx"))-1].addrs["mx"], "sender@elsewhere.test", u.addr, "fenced-new"); err != nil {
		t.Fatal(err)
	}
	waitTokens(t, read, u, 30*time.Second, "fenced-new")

	// The stale session's writes reach the old node as it wakes.
	msg := "Subject: stale\r\nX-Token: fenced-stale\r\n\r\nwritten by a node without its lease\r\n"
	fmt.Fprintf(s.conn, "w1 STORE 1:* +FLAGS (\\Deleted)\r\nw2 EXPUNGE\r\nw3 APPEND INBOX {%d+}\r\n%s\r\n", len(msg), msg)
	old.signal(t, syscall.SIGCONT)
	stopped = false
	s.conn.SetDeadline(time.Now().Add(20 * time.Second))
	var replies []string
	for len(replies) < 3 {
		line, err := s.line()
		if err != nil {
			break // closed: refusing by hanging up is a refusal too
		}
		if strings.HasPrefix(line, "w") {
			replies = append(replies, strings.TrimSpace(line))
		}
	}
	for _, r := range replies {
		if strings.Contains(r, " OK") {
			t.Errorf("%s wrote after losing its lease: %q (all replies %q)", old.name, r, replies)
		} else if !strings.Contains(r, " NO [UNAVAILABLE]") {
			t.Errorf("a write refused by fencing: %q, want NO [UNAVAILABLE] (a lost lease is temporary, not a bug)", r)
		}
	}
	l := c.lease(t, u.store)
	t.Logf("the stale session's writes: %q; the lease now: %s epoch %d", replies, l.holder, l.epoch)

	// The stale route: the old node answers that it does not serve the
	// store, and the front end finds the new one within this one login.
	if _, err := readMailbox(stale.addrs["imap"], u); err != nil {
		t.Errorf("the first login through %s, whose route led to %s: %v", stale.name, old.name, err)
	}
	now := waitTokens(t, read, u, 20*time.Second, "fenced-new")
	if len(now.msgs["fenced-stale"]) != 0 {
		t.Errorf("the stale node's APPEND is in the INBOX")
	}
	if now.uidValidity != known.uidValidity {
		t.Errorf("UIDVALIDITY %d, was %d", now.uidValidity, known.uidValidity)
	}
	for tok, ids := range known.msgs {
		if fmt.Sprint(now.msgs[tok]) != fmt.Sprint(ids) {
			t.Errorf("%s: UID/MODSEQ %v after the stale writes, was %v", tok, now.msgs[tok], ids)
		}
	}
	if out := c.admin(t, "check"); !strings.Contains(out, "ok") {
		t.Errorf("rookery check:\n%s", out)
	}
}

package cluster

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// testIDLE: an IDLE session on one front end wakes when mail for its user
// arrives through the other MX node — within seconds, well before the
// 30 s re-check that would find it without a notification across nodes.
func testIDLE(t *testing.T, c *cluster) {
	u := c.users[1]
	fes, mxs := c.frontEnds(), c.withRole("mx")
	s, _, err := dialIMAP(fes[0].addrs["imap"])
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	s.login(t, u)
	if out, err := s.cmd("SELECT INBOX"); err != nil || !strings.Contains(out, "T OK") {
		t.Fatalf("SELECT: %v %q", err, out)
	}
	fmt.Fprintf(s.conn, "i1 IDLE\r\n")
	if l, err := s.line(); err != nil || !strings.HasPrefix(l, "+") {
		t.Fatalf("IDLE: %v %q", err, l)
	}
	start := time.Now()
	if err := send(mxs[len(mxs)-1].addrs["mx"], "sender@elsewhere.test", u.addr, "idle-wake"); err != nil {
		t.Fatal(err)
	}
	s.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		l, err := s.line()
		if err != nil {
			t.Fatalf("IDLE on %s did not wake within 10 s of delivery through %s: %v", fes[0].name, mxs[len(mxs)-1].name, err)
		}
		if strings.HasSuffix(l, "EXISTS\r\n") {
			t.Logf("IDLE on %s woke %s after SMTP through %s began", fes[0].name, time.Since(start).Round(time.Millisecond), mxs[len(mxs)-1].name)
			break
		}
	}
	s.conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(s.conn, "DONE\r\n")
	for {
		l, err := s.line()
		if err != nil {
			t.Fatalf("DONE: %v", err)
		}
		if strings.HasPrefix(l, "i1 ") {
			if !strings.HasPrefix(l, "i1 OK") {
				t.Fatalf("DONE: %q", l)
			}
			return
		}
	}
}

package cluster

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// perIPLimit is [smtp] max_connections_per_ip in start.sh's node configs.
const perIPLimit = 10

// testPerIPBehindHAProxy: through HAProxy, which passes each client's
// address with PROXY v2, the MX nodes' per-IP connection limit counts the
// real client address: one address over the limit gets 421 while another
// is still served. Without PROXY both would be HAProxy's 127.0.0.10.
func testPerIPBehindHAProxy(t *testing.T, c *cluster) {
	lb := c.haproxy(t)
	addr := lb.addrs["mx"]
	greet := func(from string) (net.Conn, string) {
		t.Helper()
		conn, err := dial(addr, from, 15*time.Second)
		if err != nil {
			t.Fatalf("connect from %s: %v", from, err)
		}
		l, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil && l == "" {
			t.Fatalf("greeting for %s: %v", from, err)
		}
		return conn, l
	}
	// Both MX nodes take perIPLimit connections from one address: round
	// robin fills them evenly.
	n := perIPLimit * len(c.withRole("mx"))
	var held []net.Conn
	defer func() {
		for _, conn := range held {
			conn.Close()
		}
	}()
	for i := range n {
		conn, l := greet("127.0.0.5")
		held = append(held, conn)
		if !strings.HasPrefix(l, "220") {
			t.Fatalf("connection %d of %d from 127.0.0.5: %q, want 220", i+1, n, l)
		}
	}
	conn, l := greet("127.0.0.5")
	conn.Close()
	if !strings.HasPrefix(l, "421") {
		t.Errorf("connection %d from 127.0.0.5 (limit %d per node): %q, want 421", n+1, perIPLimit, l)
	}
	conn, l = greet("127.0.0.6")
	conn.Close()
	if !strings.HasPrefix(l, "220") {
		t.Errorf("a connection from 127.0.0.6 while 127.0.0.5 is at its limit: %q, want 220 (is the limit counting HAProxy's address?)", l)
	}
}

// testClientAddressReachesBackEnd: an IMAP client behind HAProxy appears
// with its own address in the front end's log and, passed on by the front
// end, in the log of the back end serving its store.
func testClientAddressReachesBackEnd(t *testing.T, c *cluster) {
	lb := c.haproxy(t)
	u := c.users[0]
	back, _ := c.serving(t, u.store, 2*leaseTTL)
	conn, err := dial(lb.addrs["imap"], "127.0.0.7", 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s := &rawIMAP{conn: conn, r: bufio.NewReader(conn)}
	if _, err := s.line(); err != nil {
		t.Fatal(err)
	}
	s.login(t, u)
	s.cmd("LOGOUT")
	s.close()
	logged := func(p *proc) bool {
		b, _ := os.ReadFile(filepath.Join(c.dir, p.name, "log"))
		return strings.Contains(string(b), "remote=127.0.0.7:")
	}
	fes := c.frontEnds()
	eventually(t, 5*time.Second, "no front end logged the client's address 127.0.0.7", func() bool {
		return logged(fes[0]) || logged(fes[1])
	})
	eventually(t, 5*time.Second, back.name+" did not log the client's address 127.0.0.7", func() bool { return logged(back) })
}

package cluster

import (
	"bufio"
	"net"
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

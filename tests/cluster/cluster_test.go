package cluster

import (
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCluster starts one cluster and runs the scenarios on it in order:
// those that leave it whole first, the destructive ones (killing,
// pausing, cutting off nodes or the database) last.
func TestCluster(t *testing.T) {
	c := startCluster(t)
	c.settle(t)
	t.Run("Started", func(t *testing.T) { testStarted(t, c) })
	t.Run("PerIPBehindHAProxy", func(t *testing.T) { testPerIPBehindHAProxy(t, c) })
	t.Run("ClientAddressReachesBackEnd", func(t *testing.T) { testClientAddressReachesBackEnd(t, c) })
	t.Run("Delivery", func(t *testing.T) { testDelivery(t, c) })
	t.Run("ProxiedLooksDirect", func(t *testing.T) { testProxiedLooksDirect(t, c) })
	t.Run("IDLEAcrossNodes", func(t *testing.T) { testIDLE(t, c) })
	t.Run("KillMXWithQueuedMail", func(t *testing.T) { testKillMXWithQueuedMail(t, c) })
	t.Run("KillServingNode", func(t *testing.T) { testKillServingNode(t, c) })
	t.Run("PausedNodeFenced", func(t *testing.T) { testPausedNodeFenced(t, c) })
	t.Run("PostgresDown", func(t *testing.T) { testPostgresDown(t, c) })
	t.Run("StopStart", func(t *testing.T) { testStopStart(t, c) })
}

// testStarted: start.sh started every process of the layout, each node is
// ready and listens where nodes.txt says, and the accounts of
// credentials.txt exist on the stores it names, three different ones.
func testStarted(t *testing.T, c *cluster) {
	want := map[string]string{
		"mx1": "mx,submission,outbound", "mx2": "mx,submission,outbound",
		"fe1": "imap,pop3", "fe2": "imap,pop3",
		"ms1": "mailstore,imap,pop3", "ms2": "mailstore,imap,pop3", "ms3": "mailstore,imap,pop3",
		"postgres": "postgres", "s3": "s3",
	}
	for name, roles := range want {
		p := c.node(t, name)
		if got := strings.Join(p.roles, ","); got != roles {
			t.Errorf("%s: roles %s, want %s", name, got, roles)
		}
		if !p.alive() {
			t.Errorf("%s (pid %d) is not running", name, p.pid)
		}
		for proto, addr := range p.addrs {
			conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err != nil {
				t.Errorf("%s %s=%s: %v", name, proto, addr, err)
				continue
			}
			conn.Close()
		}
	}
	for _, name := range []string{"mx1", "mx2", "fe1", "fe2", "ms1", "ms2", "ms3"} {
		if p := c.node(t, name); !ready(p) {
			t.Errorf("%s: /readyz at %s is not 200", name, p.addrs["http"])
		}
	}
	if p := c.procs["haproxy"]; p != nil && !p.alive() {
		t.Errorf("haproxy (pid %d) is not running", p.pid)
	}
	stores := map[string]bool{}
	list := c.admin(t, "user", "list")
	for _, u := range c.users {
		stores[u.store] = true
		if !strings.Contains(list, u.addr+" "+u.store) {
			t.Errorf("rookery user list lacks %q:\n%s", u.addr+" "+u.store, list)
		}
		if u.pass == "" {
			t.Errorf("%s has no password", u.addr)
		}
	}
	if len(stores) < 2 {
		t.Errorf("the accounts are on %d store(s), want at least two: %v", len(stores), c.users)
	}
	// rookery cluster status: every node up, every store served by a
	// mailstore node.
	status := c.admin(t, "cluster", "status")
	for _, name := range []string{"mx1", "mx2", "fe1", "fe2", "ms1", "ms2", "ms3"} {
		if !regexp.MustCompile(`(?m)^node ` + name + ` .* up `).MatchString(status) {
			t.Errorf("cluster status shows no running node %s:\n%s", name, status)
		}
	}
	for s := range stores {
		m := regexp.MustCompile(`(?m)^store ` + s + ` served-by=(\S+) epoch=\d+`).FindStringSubmatch(status)
		if m == nil || !c.node(t, m[1]).has("mailstore") {
			t.Errorf("cluster status shows no mailstore node serving %s:\n%s", s, status)
		}
	}
}

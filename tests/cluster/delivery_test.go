package cluster

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// testDelivery: mail through either MX node (and through HAProxy) reaches
// the recipient's store, exactly once: the node serving the store shows
// it, and its rows are in that store's tables only.
func testDelivery(t *testing.T, c *cluster) {
	mxs := c.withRole("mx")
	if p := c.procs["haproxy"]; p != nil {
		mxs = append(mxs, p)
	}
	want := map[string][]string{} // address → tokens
	for _, mx := range mxs {
		for _, u := range c.users {
			tok := fmt.Sprintf("deliver-%s-%s", mx.name, strings.Split(u.addr, "@")[0])
			if err := send(mx.addrs["mx"], "sender@elsewhere.test", u.addr, tok); err != nil {
				t.Fatalf("SMTP to %s through %s: %v", u.addr, mx.name, err)
			}
			want[u.addr] = append(want[u.addr], tok)
		}
	}
	for _, u := range c.users {
		mb := waitTokens(t, c.servingIMAP(t, u.store), u, 20*time.Second, want[u.addr]...)
		for _, tok := range want[u.addr] {
			if n := len(mb.msgs[tok]); n != 1 {
				t.Errorf("%s: %s is in the INBOX %d times", u.addr, tok, n)
			}
		}
		for _, other := range c.users {
			n := c.storedMessages(t, other.store, u.addr)
			if other.store == u.store && n != len(want[u.addr]) {
				t.Errorf("store %s holds %d messages of %s, want %d", u.store, n, u.addr, len(want[u.addr]))
			}
			if other.store != u.store && n != 0 {
				t.Errorf("store %s holds %d messages of %s, whose store is %s", other.store, n, u.addr, u.store)
			}
		}
	}
}

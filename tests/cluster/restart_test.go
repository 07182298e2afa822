package cluster

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testStopStart: stop.sh stops every process of nodes.txt (killed ones
// included), start.sh again brings the whole layout back on the same data
// and passwords, and refuses to start a running cluster twice.
func testStopStart(t *testing.T, c *cluster) {
	u := c.users[0]
	before, err := readMailbox(c.frontEnds()[0].addrs["imap"], u)
	if err != nil {
		t.Fatal(err)
	}
	old := c.procs
	runScript(t, "stop.sh", c.dir)
	for name, p := range old {
		if p.alive() {
			t.Errorf("%s (pid %d) still runs after stop.sh", name, p.pid)
		}
	}
	out := runScript(t, "start.sh", c.dir, strconv.Itoa(c.offset))
	if !strings.Contains(out, "The Rookery cluster is running") {
		t.Fatalf("start.sh again:\n%s", out)
	}
	c.readNodes(t)
	for _, name := range []string{"mx1", "mx2", "fe1", "fe2", "ms1", "ms2", "ms3"} {
		if p := c.node(t, name); !p.alive() || !ready(p) {
			t.Errorf("%s is not running and ready after start.sh again", name)
		}
	}
	if out, err := scriptCmd(context.Background(), "start.sh", c.dir, strconv.Itoa(c.offset)).CombinedOutput(); err == nil || !strings.Contains(string(out), "running already") {
		t.Errorf("start.sh on a running cluster: %v\n%s", err, out)
	}
	after := waitTokens(t, at(c.frontEnds()[0].addrs["imap"]), u, 30*time.Second)
	if after.uidValidity != before.uidValidity || after.exists != before.exists {
		t.Errorf("after the restart: UIDVALIDITY %d, %d messages; before: %d, %d", after.uidValidity, after.exists, before.uidValidity, before.exists)
	}
}

// runScript runs an example script with a bound on its time.
func runScript(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := scriptCmd(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return string(out)
}

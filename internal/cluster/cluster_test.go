package cluster

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/testsvc"
)

const testTTL = 3 * time.Second

// node is a running Registry whose Run can be stopped without Release,
// as a crash would.
type node struct {
	*Registry
	stop func()
	mu   sync.Mutex
	lost []string
}

func startNode(t *testing.T, dsn, name string, stores ...string) *node {
	t.Helper()
	n := &node{}
	r, err := Open(context.Background(), Options{DSN: dsn, Node: name, Roles: []string{"mailstore"},
		Endpoints: map[string]string{"lmtp": name + ":24"}, Stores: stores, TTL: testTTL,
		OnLose: func(s string) { n.mu.Lock(); n.lost = append(n.lost, s); n.mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	n.Registry = r
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	var once sync.Once
	n.stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(func() { n.stop(); r.Close() })
	return n
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func holder(t *testing.T, r *Registry, store string) (Server, error) {
	t.Helper()
	return r.Serving(context.Background(), store, true)
}

func TestOneHolderThenTakeoverAfterExpiry(t *testing.T) {
	dsn := testsvc.Postgres(t)
	a := startNode(t, dsn, "a", "s1")
	var first Server
	eventually(t, 5*time.Second, "a serves s1", func() error {
		var err error
		first, err = holder(t, a.Registry, "s1")
		return err
	})
	b := startNode(t, dsn, "b", "s1")
	time.Sleep(testTTL) // b runs rounds while a holds: it must not take s1
	if s, _ := holder(t, b.Registry, "s1"); s.Node != first.Node || s.Epoch != first.Epoch {
		t.Fatalf("s1 moved while its holder lived: %+v then %+v", first, s)
	}
	owner, other := a, b
	if first.Node == "b" {
		owner, other = b, a
	}
	if !owner.Serves("s1") || other.Serves("s1") {
		t.Fatalf("Serves: holder %v, other %v", owner.Serves("s1"), other.Serves("s1"))
	}
	// The holder "crashes": no more renewals, no release.
	killed := time.Now()
	owner.stop()
	eventually(t, 3*testTTL, "the other node takes s1", func() error {
		s, err := holder(t, other.Registry, "s1")
		if err != nil {
			return err
		}
		if s.Node != other.Node() || s.Epoch != first.Epoch+1 {
			return fmt.Errorf("served by %s at epoch %d", s.Node, s.Epoch)
		}
		return nil
	})
	if d := time.Since(killed); d < testTTL-leaseMargin {
		t.Fatalf("taken over %s after the holder stopped, before its lease (%s) could expire", d, testTTL)
	}
	if _, _, ok := owner.Token("s1"); ok {
		t.Fatal("the deposed holder still hands out a fencing token")
	}
	if _, epoch, ok := other.Token("s1"); !ok || epoch != first.Epoch+1 {
		t.Fatalf("new holder's token: epoch %d ok %v", epoch, ok)
	}
}

func TestReleaseHandsOverAtOnce(t *testing.T) {
	dsn := testsvc.Postgres(t)
	a := startNode(t, dsn, "a", "s1")
	eventually(t, 5*time.Second, "a serves s1", func() error { _, err := holder(t, a.Registry, "s1"); return err })
	b := startNode(t, dsn, "b", "s1")
	a.stop()
	a.Release(context.Background())
	released := time.Now()
	eventually(t, testTTL, "b takes s1 after a's release", func() error {
		if !b.Serves("s1") {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	if d := time.Since(released); d > testTTL/2 {
		t.Fatalf("takeover after a release took %s; it should not wait for expiry", d)
	}
}

func TestRestartedNodeFencesItsPreviousIncarnation(t *testing.T) {
	dsn := testsvc.Postgres(t)
	a := startNode(t, dsn, "a", "s1")
	eventually(t, 5*time.Second, "a serves s1", func() error { _, err := holder(t, a.Registry, "s1"); return err })
	_, e1, _ := a.Token("s1")
	a.stop() // crash, and restart under the same name at once
	a2 := startNode(t, dsn, "a", "s1")
	eventually(t, 2*time.Second, "the new incarnation serves s1", func() error {
		if _, e2, ok := a2.Token("s1"); !ok || e2 != e1+1 {
			return fmt.Errorf("token epoch %d ok %v", e2, ok)
		}
		return nil
	})
}

// TestStoresSpreadAndFailOverByRank: three nodes end up each serving the
// stores they rank first for (hand-over after start-up), and a dead node's
// stores go to the survivors, each to its next-ranked node.
func TestStoresSpreadAndFailOverByRank(t *testing.T) {
	dsn := testsvc.Postgres(t)
	stores := []string{"s1", "s2", "s3", "s4", "s5", "s6"}
	names := []string{"n1", "n2", "n3"}
	nodes := map[string]*node{}
	for _, n := range names {
		nodes[n] = startNode(t, dsn, n, stores...)
	}
	best := func(store string, alive []string) string {
		var ps []peer
		for _, n := range alive {
			ps = append(ps, peer{name: n, stores: map[string]bool{store: true}})
		}
		return ranked(store, ps)[0].name
	}
	check := func(alive []string) func() error {
		return func() error {
			for _, s := range stores {
				srv, err := holder(t, nodes[alive[0]].Registry, s)
				if err != nil {
					return err
				}
				if want := best(s, alive); srv.Node != want {
					return fmt.Errorf("%s served by %s, want %s", s, srv.Node, want)
				}
				for _, n := range alive {
					if nodes[n].Serves(s) != (n == srv.Node) {
						return fmt.Errorf("%s: node %s Serves=%v, lease holder %s", s, n, nodes[n].Serves(s), srv.Node)
					}
				}
			}
			return nil
		}
	}
	eventually(t, 5*testTTL, "stores balanced by rank", check(names))
	nodes["n2"].stop()
	eventually(t, 4*testTTL, "n2's stores taken by the survivors", check([]string{"n1", "n3"}))
}

func TestServingGivesEndpointsAndStatus(t *testing.T) {
	dsn := testsvc.Postgres(t)
	a := startNode(t, dsn, "a", "s1")
	eventually(t, 5*time.Second, "a serves s1", func() error { _, err := holder(t, a.Registry, "s1"); return err })
	fe := startNode(t, dsn, "fe") // no stores: a front end
	s, err := fe.Serving(context.Background(), "s1", false)
	if err != nil || s.Node != "a" || s.Endpoints["lmtp"] != "a:24" {
		t.Fatalf("Serving = %+v, %v", s, err)
	}
	if _, err := fe.Serving(context.Background(), "nope", false); err == nil {
		t.Fatal("Serving an unknown store succeeded")
	}
	st, err := ReadStatus(context.Background(), dsn, "cluster", testTTL)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Nodes) != 2 || !st.Nodes[0].Alive || len(st.Leases) != 1 || st.Leases[0].Holder != "a" || !st.Leases[0].Valid {
		t.Fatalf("status = %+v", st)
	}
}

// TestBroadcast: a message reaches the other nodes that listen, not the
// sender itself.
func TestBroadcast(t *testing.T) {
	dsn := testsvc.Postgres(t)
	got := map[string]chan string{}
	open := func(name string) *Registry {
		ch := make(chan string, 4)
		got[name] = ch
		r, err := Open(context.Background(), Options{DSN: dsn, Node: name, TTL: testTTL,
			OnMessage: func(topic, payload string) { ch <- topic + ":" + payload }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Close)
		return r
	}
	a, _ := open("a"), open("b")
	if err := a.Broadcast(context.Background(), "auth", "F\talice@example.test\t192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got["b"]:
		if m != "auth:F\talice@example.test\t192.0.2.7" {
			t.Fatalf("b got %q", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("b heard nothing within 5s")
	}
	select {
	case m := <-got["a"]:
		t.Fatalf("the sender heard its own message %q", m)
	case <-time.After(300 * time.Millisecond):
	}
}

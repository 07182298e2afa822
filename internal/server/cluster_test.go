package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/testsvc"
)

// clusterEnv is the shared engines of an in-process cluster test.
type clusterEnv struct {
	dsn, endpoint, bucket, ak, sk string
}

func newClusterEnv(t *testing.T) *clusterEnv {
	dsn := testsvc.Postgres(t)
	endpoint, bucket, ak, sk := testsvc.S3(t)
	return &clusterEnv{dsn, endpoint, bucket, ak, sk}
}

// node starts one cluster node with roles, its own data_dir, listening on
// 127.0.0.1:0, and registers it for shutdown (unless the test shuts it
// down first).
func (c *clusterEnv) node(t *testing.T, name string, roles ...string) *Server {
	t.Helper()
	return c.nodeWith(t, name, nil, roles...)
}

// nodeWith is node with a hook that edits the config before Open.
func (c *clusterEnv) nodeWith(t *testing.T, name string, edit func(*config.Config), roles ...string) *Server {
	t.Helper()
	dir := t.TempDir()
	body := fmt.Sprintf(`hostname = "%[1]s.example.test"
node = %[1]q
roles = %[2]s
data_dir = "."
[listen]
mx = "127.0.0.1:0"
lmtp = "127.0.0.1:0"
imap = "127.0.0.1:0"
pop3 = "127.0.0.1:0"
[postgres]
dsn = %[3]q
[s3]
endpoint = %[4]q
access_key = %[5]q
secret_key = %[6]q
insecure = true
[directory]
engine = "postgres"
[queue]
engine = "postgres"
bodies = "s3://%[7]s/queue"
[lmtp]
idempotency_peers = ["127.0.0.1/32"]
[cluster]
secret = "a cluster secret of some length"
lease_ttl = "3s"
peers = ["127.0.0.2/32"]
[[mailstores]]
name = "s1"
engine = "postgres"
blobs = "s3://%[7]s/s1"
[[mailstores]]
name = "s2"
engine = "postgres"
blobs = "s3://%[7]s/s2"
`, name, `["`+strings.Join(roles, `", "`)+`"]`, c.dsn, c.endpoint, c.ak, c.sk, c.bucket)
	p := filepath.Join(dir, "rookery.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(cfg)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})).With("node", name)
	srv, err := Open(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(t, srv) })
	return srv
}

var stoppedNodes sync.Map // *Server → true

// shutdown stops a node once; the test's own call and cleanup may both ask.
func shutdown(t *testing.T, srv *Server) {
	if _, done := stoppedNodes.LoadOrStore(srv, true); done {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func inbox(t *testing.T, st mailstore.Store, user string) int {
	t.Helper()
	ctx := context.Background()
	if err := st.EnsureAccount(ctx, user); err != nil {
		return -1
	}
	mb, err := st.Mailbox(ctx, user, "INBOX")
	if err != nil {
		return -1
	}
	status, err := st.Status(ctx, user, mb.ID)
	if err != nil {
		return -1
	}
	return int(status.Messages)
}

// TestClusterRelaysToServingNode: an MX node without stores queues the
// mail, and its runner relays it over LMTP to the node holding the
// store's lease; when that node shuts down, the other mailstore node takes
// the store over and later mail reaches it there.
func TestClusterRelaysToServingNode(t *testing.T) {
	c := newClusterEnv(t)
	ms1 := c.node(t, "ms1", "mailstore", "imap", "pop3")
	d := ms1.Directory()
	ctx := context.Background()
	if err := d.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct{ addr, store string }{{"alice@example.test", "s1"}, {"bob@example.test", "s2"}} {
		if _, err := d.AddAccount(ctx, u.addr, testPassword, u.store); err != nil {
			t.Fatal(err)
		}
	}
	mx := c.node(t, "mx1", "mx", "submission", "outbound")
	if len(mx.Stores()) != 0 {
		t.Fatalf("an MX node opened stores %v", mx.Stores())
	}
	waitFor(t, 5*time.Second, "ms1 serves s1 and s2", func() bool { return ms1.cluster.Serves("s1") && ms1.cluster.Serves("s2") })
	msg := "From: s@remote.test\r\nTo: alice@example.test, bob@example.test\r\nSubject: relayed\r\n\r\nover LMTP\r\n"
	sendMail(t, mx.Addr("mx").String(), "s@remote.test", []string{"alice@example.test", "bob@example.test"}, msg)
	waitFor(t, 10*time.Second, "alice's copy on s1 and bob's on s2", func() bool {
		return inbox(t, ms1.Stores()["s1"], "alice@example.test") == 1 && inbox(t, ms1.Stores()["s2"], "bob@example.test") == 1
	})

	ms2 := c.node(t, "ms2", "mailstore", "imap", "pop3")
	shutdown(t, ms1) // releases its leases: ms2 takes them at its next round
	waitFor(t, 5*time.Second, "ms2 serves s1 and s2", func() bool { return ms2.cluster.Serves("s1") && ms2.cluster.Serves("s2") })
	sendMail(t, mx.Addr("mx").String(), "s@remote.test", []string{"alice@example.test"}, msg)
	waitFor(t, 10*time.Second, "the second message on s1, now served by ms2", func() bool {
		return inbox(t, ms2.Stores()["s1"], "alice@example.test") == 2
	})
}

package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/engine"
	"github.com/rookery-mail/rookery/internal/testsvc"
)

// scaledConfig is the TOML that puts every engine of a node on PostgreSQL
// (dsn) and S3 (a fresh bucket): the directory, the queue with its bodies,
// and the mailstore "default" with its blobs. Nodes given the same text
// share all their data.
func scaledConfig(t *testing.T, dsn string) string {
	endpoint, bucket, _, _ := testsvc.S3(t)
	return scaledConfigOn(dsn, endpoint, bucket)
}

// scaledConfigOn is scaledConfig on a given S3 server and bucket.
func scaledConfigOn(dsn, endpoint, bucket string) string {
	ak, sk := testsvc.S3AccessKey, testsvc.S3SecretKey
	return fmt.Sprintf(`
[postgres]
dsn = %q
[s3]
endpoint = %q
access_key = %q
secret_key = %q
insecure = true
[directory]
engine = "postgres"
[queue]
engine = "postgres"
bodies = "s3://%s/queue"
claim_ttl = "15s"
# A delivery caught by an outage test mid-attempt is retried in seconds,
# not after the default 5 minutes the test would not wait out.
retry = ["2s", "5s"]
[[mailstores]]
name = "default"
engine = "postgres"
blobs = "s3://%s/default"
`, dsn, endpoint, ak, sk, bucket, bucket)
}

// TestScaledCrashDuringSMTPLoad: `rookery serve` entirely on PostgreSQL +
// S3, killed with SIGKILL under SMTP load: after a restart every message
// that got a 250 is in the mailbox exactly once, readable over IMAP, and
// `rookery check` passes.
func TestScaledCrashDuringSMTPLoad(t *testing.T) {
	n := newNodeWith(t, scaledConfig(t, testsvc.Postgres(t)))
	crashDuringSMTPLoad(t, n)
	p := n.serve()
	defer p.stop(t)
	got := imapTokens(t, p.addr("imap"), "alice@example.test", "pw-alice-123")
	if len(got) < 300 {
		t.Fatalf("IMAP shows %d messages, want at least the 300 accepted before the kill", len(got))
	}
	wantOnce(t, got)
}

// TestScaledSharedQueue: two nodes on one PostgreSQL + S3 share the queue
// and the mailstore (every role on both). 2,000 messages go through both
// MX listeners; node a is killed with SIGKILL a third of the way, while
// its runner holds claims on undelivered mail. Node b delivers every
// message either node answered 250 to, exactly once, taking a's claims
// over when they expire.
func TestScaledSharedQueue(t *testing.T) {
	const total = 2000
	shared := scaledConfig(t, testsvc.Postgres(t))
	a, b := newNodeWith(t, shared), newNodeWith(t, shared)
	a.cli("", "domain", "add", "example.test")
	a.cli("pw-alice-123\n", "user", "add", "alice@example.test", "--password-stdin")
	pa, pb := a.serve(), b.serve()
	la, lb := startLoad(pa.addr("mx"), "a", 10), startLoad(pb.addr("mx"), "b", 10)
	la.waitAccepted(total/3, 60*time.Second)
	pa.kill(t)
	acceptedA, _ := la.stop()
	claimedByA := claimsOf(t, a, time.Now())
	lb.waitAccepted(total-len(acceptedA), 120*time.Second)
	acceptedB, _ := lb.stop()
	t.Logf("node a accepted %d before SIGKILL and held %d claims, node b accepted %d", len(acceptedA), claimedByA, len(acceptedB))
	if len(acceptedA)+len(acceptedB) < total {
		t.Fatalf("only %d of %d messages accepted", len(acceptedA)+len(acceptedB), total)
	}

	st := b.openStore()
	defer st.Close()
	if missing := tokensMissing(t, st, "alice@example.test", append(acceptedA, acceptedB...), 90*time.Second); missing > 0 {
		pb.mu.Lock()
		logs := pb.logs.String()
		pb.mu.Unlock()
		t.Fatalf("%d accepted messages missing after 90s; queue:\n%s\nnode b's errors:\n%s", missing, b.cli("", "queue", "list"), grepLines(logs, "level=ERROR", "status=pending"))
	}
	pb.stop(t)
	pb.mu.Lock()
	t.Logf("node b's deferrals and errors:\n%s", grepLines(pb.logs.String(), "level=ERROR", "status=pending"))
	pb.mu.Unlock()
	wantOnce(t, inboxTokens(t, st, "alice@example.test"))
	if out := b.cli("", "queue", "list"); strings.TrimSpace(out) != "" {
		t.Fatalf("queue not empty after delivery:\n%s", out)
	}
}

// claimsOf counts the recipients n's runner holds claims on at now.
func claimsOf(t *testing.T, n *node, now time.Time) int {
	t.Helper()
	cfg, err := config.Load(n.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	q, err := engine.Queue(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	msgs, err := q.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	owner := cfg.Hostname + ":" + cfg.DataDir
	held := 0
	for _, m := range msgs {
		for _, rc := range m.Recipients {
			if rc.ClaimOwner == owner && rc.ClaimUntil.After(now) {
				held++
			}
		}
	}
	return held
}

// TestScaledPostgresDown: PostgreSQL stopped under SMTP load for a few
// seconds. While it is down the MX answers 4xx (never 250 for what it
// could not commit); after it is back every message that got a 250 is
// delivered exactly once and new mail flows.
func TestScaledPostgresDown(t *testing.T) {
	pg := testsvc.OwnPostgres(t)
	outage(t, newNodeWith(t, scaledConfig(t, pg.DSN)), pg.Stop, pg.Start)
}

// TestScaledS3Down is TestScaledPostgresDown with the S3 server stopped:
// a body that cannot be stored is never answered 250.
func TestScaledS3Down(t *testing.T) {
	s3 := testsvc.OwnS3(t)
	outage(t, newNodeWith(t, scaledConfigOn(testsvc.Postgres(t), s3.Endpoint, s3.Bucket(t))), s3.Stop, s3.Start)
}

// outage runs SMTP load on n, stops a service for five seconds with stop,
// starts it again, and checks that the outage only deferred mail: 4xx
// replies while it lasted, no 5xx, and every 250 delivered once after.
func outage(t *testing.T, n *node, stop, start func(testing.TB)) {
	n.cli("", "domain", "add", "example.test")
	n.cli("pw-alice-123\n", "user", "add", "alice@example.test", "--password-stdin")
	p := n.serve()
	l := startLoad(p.addr("mx"), "", 10)
	l.waitAccepted(100, 30*time.Second)
	stop(t)
	okBefore, refusedBefore := l.counts()
	time.Sleep(5 * time.Second)
	okDown, refusedDown := l.counts()
	start(t)
	l.waitAccepted(okDown+100, 60*time.Second)
	accepted, _ := l.stop()
	t.Logf("during the outage: %d accepted, %d refused", okDown-okBefore, refusedDown-refusedBefore)
	if len(l.rejected) > 0 {
		t.Fatalf("%d permanent (5xx) refusals, e.g. %s; an outage must only defer mail", len(l.rejected), l.rejected[0])
	}
	if refusedDown-refusedBefore == 0 {
		t.Fatal("no message was refused during the outage: it was not exercised")
	}
	if len(accepted) < okDown+100 {
		t.Fatalf("mail did not flow again after the outage: %d accepted, want %d", len(accepted), okDown+100)
	}
	st := n.openStore()
	defer st.Close()
	waitTokens(t, st, "alice@example.test", accepted, 90*time.Second)
	p.stop(t)
	wantOnce(t, inboxTokens(t, st, "alice@example.test"))
}

// grepLines returns the lines of text holding any of the words, at most 40.
func grepLines(text string, words ...string) string {
	var out []string
	for line := range strings.SplitSeq(text, "\n") {
		for _, w := range words {
			if strings.Contains(line, w) && len(out) < 40 {
				out = append(out, line)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

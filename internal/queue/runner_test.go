package queue_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rookery-mail/rookery/internal/queue"
	"github.com/rookery-mail/rookery/internal/queue/sqlitequeue"
)

// clock is a fake time source the test advances by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// deliverer answers each recipient with outcome(address) and counts the
// attempts. DSNs (recognised by their From) are delivered at once and kept.
type deliverer struct {
	outcome  func(rcpt string) (queue.Status, string)
	attempts map[string]int
	dsns     []dsn
}

type dsn struct {
	to         queue.Recipient
	body       string
	requireTLS bool
}

func (d *deliverer) Deliver(_ context.Context, msgs []*queue.Message) []queue.Result {
	var out []queue.Result
	for _, m := range msgs {
		if m.From == "" && strings.Contains(string(m.Body), "From: \"Mail Delivery System\"") {
			d.dsns = append(d.dsns, dsn{m.Recipients[0], string(m.Body), m.RequireTLS})
			out = append(out, queue.Result{MessageID: m.ID, Recipient: m.Recipients[0].Address, Status: queue.Delivered})
			continue
		}
		for _, rc := range m.Recipients {
			d.attempts[rc.Address]++
			st, msg := d.outcome(rc.Address)
			out = append(out, queue.Result{MessageID: m.ID, Recipient: rc.Address, Status: st, Error: msg})
		}
	}
	return out
}

type fixture struct {
	store  *sqlitequeue.Queue
	runner *queue.Runner
	clock  *clock
	d      *deliverer
	reg    *prometheus.Registry
}

// newFixture starts a runner over a real sqlitequeue with a fake clock.
// Addresses ending in @local.test are local; others remote.
func newFixture(t *testing.T, outcome func(string) (queue.Status, string)) *fixture {
	t.Helper()
	store, err := sqlitequeue.Open(t.Context(), filepath.Join(t.TempDir(), "queue.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f := &fixture{store: store, clock: &clock{t: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)},
		d: &deliverer{outcome: outcome, attempts: map[string]int{}}, reg: prometheus.NewRegistry()}
	f.runner = queue.NewRunner(store, f.d, queue.RunnerOptions{Now: f.clock.Now, Hostname: "mx.local.test", Registerer: f.reg,
		IsLocal: func(_ context.Context, a string) (bool, error) { return strings.HasSuffix(a, "@local.test"), nil }})
	return f
}

func (f *fixture) enqueue(t *testing.T, from string, rcpts ...string) *queue.Message {
	t.Helper()
	m := &queue.Message{From: from, Received: f.clock.Now(), Body: []byte("From: " + from + "\r\nSubject: test\r\n\r\nhello\r\n")}
	for _, r := range rcpts {
		m.Recipients = append(m.Recipients, queue.Recipient{Address: r, Orig: r})
	}
	if err := f.store.Enqueue(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

// process runs the runner until nothing is due at the current fake time,
// DSNs queued on the way included.
func (f *fixture) process(t *testing.T) {
	for i := 0; ; i++ {
		f.runner.Process(t.Context())
		// A zero TTL peeks: the claim ends at once.
		peek := queue.ClaimRequest{Owner: "peek", Now: f.clock.Now(), Limit: 1, Local: true, Remote: true}
		if due, err := f.store.Due(t.Context(), peek); err != nil || len(due) == 0 {
			return
		}
		if i > 100 {
			t.Fatal("runner does not settle")
		}
	}
}

// dsns returns the queued messages from the null sender (DSNs) other than id.
func (f *fixture) dsns(t *testing.T) []*queue.Message {
	t.Helper()
	all, err := f.store.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []*queue.Message
	for _, m := range all {
		if m.From == "" {
			out = append(out, m)
		}
	}
	return out
}

// TestLocalOutageRetriesUntilMaxAge: a mailstore that stays down is retried
// on the policy schedule, warned about once after 4h, and bounced with
// 4.4.7 only after 5 days.
func TestLocalOutageRetriesUntilMaxAge(t *testing.T) {
	down := true
	f := newFixture(t, func(rcpt string) (queue.Status, string) {
		if rcpt == "bob@local.test" && down {
			return queue.Pending, "mailstore default: database is locked"
		}
		return queue.Delivered, ""
	})
	ctx := t.Context()
	m := f.enqueue(t, "alice@remote.test", "bob@local.test")
	f.process(t)
	got, _ := f.store.Get(ctx, m.ID)
	if rc := got.Recipients[0]; rc.Status != queue.Pending || !rc.NextAttempt.Equal(f.clock.Now().Add(5*time.Minute)) {
		t.Fatalf("after the first failure: %+v, want a retry in 5m", rc)
	}
	// Retry times: +5m, +10m, +20m, +40m, then hourly.
	for i, wait := range []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute, 40 * time.Minute, time.Hour} {
		f.clock.Add(wait - time.Second)
		f.process(t)
		if n := f.d.attempts["bob@local.test"]; n != i+1 {
			t.Fatalf("retried before its time: %d attempts after %v", n, wait-time.Second)
		}
		f.clock.Add(time.Second)
		f.process(t)
		if n := f.d.attempts["bob@local.test"]; n != i+2 {
			t.Fatalf("retry %d not attempted at +%v: %d attempts", i+1, wait, n)
		}
	}
	if len(f.d.dsns) != 0 {
		t.Fatal("no warning before DelayWarning (4h)")
	}
	// Advance hour by hour to just under 5 days: exactly one delay warning.
	for f.clock.Now().Sub(m.Received) < 5*24*time.Hour-time.Hour {
		f.clock.Add(time.Hour)
		f.process(t)
	}
	if len(f.d.dsns) != 1 {
		t.Fatalf("%d DSNs before MaxAge, want exactly one delay warning", len(f.d.dsns))
	}
	if w := f.d.dsns[0]; !strings.Contains(w.body, "Action: delayed") || w.to.Address != "alice@remote.test" || !w.to.Remote {
		t.Fatalf("warning DSN to %+v:\n%s", w.to, w.body)
	}
	if got, _ := f.store.Get(ctx, m.ID); got.Recipients[0].Status != queue.Pending || !got.Warned {
		t.Fatalf("before MaxAge: %+v", got)
	}
	f.clock.Add(time.Hour)
	f.process(t)
	got, _ = f.store.Get(ctx, m.ID)
	if rc := got.Recipients[0]; rc.Status != queue.Failed || !strings.HasPrefix(rc.LastError, "4.4.7 Delivery time expired") {
		t.Fatalf("after MaxAge: %+v", rc)
	}
	if len(f.d.dsns) != 2 {
		t.Fatalf("%d DSNs after expiry, want the warning and one bounce", len(f.d.dsns))
	}
	body := f.d.dsns[1].body
	for _, want := range []string{"Action: failed", "Status: 4.4.7", "Diagnostic-Code: X-Rookery; mailstore default: database is locked"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("expiry DSN lacks %q:\n%s", want, body)
		}
	}
}

// TestBounceCombinesRecipients: two permanent failures of one message in
// one pass produce one DSN, delivered like any message to a local sender.
func TestBounceCombinesRecipients(t *testing.T) {
	f := newFixture(t, func(rcpt string) (queue.Status, string) {
		switch rcpt {
		case "x@remote.test", "y@remote.test":
			return queue.Failed, "550 5.1.1 " + rcpt + ": user unknown"
		}
		return queue.Delivered, ""
	})
	ctx := t.Context()
	m := f.enqueue(t, "alice@local.test", "x@remote.test", "ok@remote.test", "y@remote.test")
	f.runner.Process(ctx)
	dsns := f.dsns(t)
	if len(dsns) != 1 {
		t.Fatalf("%d DSNs, want one for both failures", len(dsns))
	}
	dsn := dsns[0]
	if rc := dsn.Recipients[0]; rc.Address != "alice@local.test" || rc.Remote {
		t.Fatalf("DSN recipient %+v, want local alice", rc)
	}
	body, _ := f.store.Body(ctx, dsn.ID)
	for _, want := range []string{"Final-Recipient: rfc822; x@remote.test", "Final-Recipient: rfc822; y@remote.test",
		"Status: 5.1.1", "Diagnostic-Code: smtp; 550 5.1.1 y@remote.test: user unknown", "Subject: test"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("DSN lacks %q", want)
		}
	}
	if strings.Contains(string(body), "ok@remote.test") {
		t.Error("DSN names a delivered recipient")
	}
	got, _ := f.store.Get(ctx, m.ID)
	if len(got.Recipients) != 3 || got.Recipients[0].Status != queue.Failed || got.Recipients[2].Status != queue.Failed {
		t.Fatalf("failed recipients stay listed: %+v", got.Recipients)
	}
	// The DSN is delivered by the runner like any other message.
	f.process(t)
	if len(f.d.dsns) != 1 {
		t.Fatal("DSN not delivered")
	}
	if all := f.dsns(t); len(all) != 0 {
		t.Fatalf("delivered DSN still queued: %+v", all)
	}
}

// TestNoDSNForNullSender: RFC 5321 §4.5.5 — a failed bounce is not bounced.
func TestNoDSNForNullSender(t *testing.T) {
	f := newFixture(t, func(string) (queue.Status, string) { return queue.Failed, "550 5.1.1 gone" })
	f.enqueue(t, "", "x@remote.test")
	f.process(t)
	if n := len(f.dsns(t)); n != 1 { // the original, failed, kept for the administrator
		t.Fatalf("%d null-sender messages queued, want only the original", n)
	}
	m := f.dsns(t)[0]
	if m.Recipients[0].Status != queue.Failed {
		t.Fatalf("%+v", m.Recipients[0])
	}
}

// TestDelayWarningOnce: a message of several recipients, retried many times
// past DelayWarning, gets a single warning.
func TestDelayWarningOnce(t *testing.T) {
	f := newFixture(t, func(string) (queue.Status, string) { return queue.Pending, "451 4.7.1 greylisted" })
	f.enqueue(t, "alice@local.test", "x@remote.test", "y@remote.test")
	for range 12 {
		f.clock.Add(time.Hour)
		f.process(t)
	}
	if len(f.d.dsns) != 1 {
		t.Fatalf("%d warnings delivered, want 1", len(f.d.dsns))
	}
	if w := f.d.dsns[0].body; !strings.Contains(w, "Action: delayed") || !strings.Contains(w, "Status: 4.7.1") ||
		!strings.Contains(w, "rfc822; x@remote.test") || !strings.Contains(w, "rfc822; y@remote.test") {
		t.Errorf("warning:\n%s", w)
	}
}

// TestHeldNotAttempted: hold stops delivery, release resumes it.
func TestHeldNotAttempted(t *testing.T) {
	f := newFixture(t, func(string) (queue.Status, string) { return queue.Delivered, "" })
	m := f.enqueue(t, "alice@local.test", "bob@local.test")
	f.store.Hold(t.Context(), m.ID)
	f.process(t)
	if f.d.attempts["bob@local.test"] != 0 {
		t.Fatal("held message attempted")
	}
	f.store.Release(t.Context(), m.ID)
	f.process(t)
	if f.d.attempts["bob@local.test"] != 1 {
		t.Fatal("released message not attempted")
	}
}

func TestQueueMetrics(t *testing.T) {
	f := newFixture(t, func(string) (queue.Status, string) { return queue.Pending, "down" })
	a := f.enqueue(t, "alice@local.test", "bob@local.test")
	f.clock.Add(time.Hour)
	f.enqueue(t, "alice@local.test", "carol@local.test")
	b := f.enqueue(t, "alice@local.test", "dave@local.test")
	f.store.Hold(t.Context(), b.ID)
	f.clock.Add(30 * time.Minute)
	want := map[string]float64{"active": 2, "held": 1, "age": (90 * time.Minute).Seconds()}
	got := map[string]float64{}
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "rookery_queue_messages":
				got[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			case "rookery_queue_oldest_age_seconds":
				got["age"] = m.GetGauge().GetValue()
			}
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (oldest is %s)", k, got[k], v, a.ID)
		}
	}
}

// TestRunnerKinds: a runner set to Local delivers only to mailstores and
// one set to Remote only by SMTP; the recipients of one message are split
// between them, each attempted once.
func TestRunnerKinds(t *testing.T) {
	f := newFixture(t, func(string) (queue.Status, string) { return queue.Delivered, "" })
	m := &queue.Message{From: "alice@local.test", Received: f.clock.Now(), Body: []byte("Subject: x\r\n\r\nx\r\n"),
		Recipients: []queue.Recipient{{Address: "bob@local.test"}, {Address: "carol@remote.test", Remote: true}}}
	if err := f.store.Enqueue(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	local := &deliverer{outcome: f.d.outcome, attempts: map[string]int{}}
	remote := &deliverer{outcome: f.d.outcome, attempts: map[string]int{}}
	queue.NewRunner(f.store, local, queue.RunnerOptions{Now: f.clock.Now, Owner: "store-node", Local: true}).Process(t.Context())
	queue.NewRunner(f.store, remote, queue.RunnerOptions{Now: f.clock.Now, Owner: "outbound-node", Remote: true}).Process(t.Context())
	if local.attempts["bob@local.test"] != 1 || local.attempts["carol@remote.test"] != 0 {
		t.Errorf("local runner attempted %v; want bob only", local.attempts)
	}
	if remote.attempts["carol@remote.test"] != 1 || remote.attempts["bob@local.test"] != 0 {
		t.Errorf("remote runner attempted %v; want carol only", remote.attempts)
	}
	if _, err := f.store.Get(t.Context(), m.ID); err == nil {
		t.Error("message still queued after both runners delivered")
	}
}

package pgstore

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

func withHub(o *Options) { o.Hub = mailstore.NewHub() }

func wantWake(t *testing.T, ch <-chan struct{}, within time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(within):
		t.Fatalf("%s: no wake within %v", what, within)
	}
}

func deliverTo(t *testing.T, s *Store, user, subject string) {
	t.Helper()
	res, err := s.Deliver(t.Context(), []mailstore.Delivery{{User: user,
		Message: msg("Subject: " + subject + "\r\n\r\nbody\r\n")}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("deliver: %v %+v", err, res)
	}
}

// TestNotifyAcrossHandles: a delivery through one handle wakes a watcher
// on another handle (another pool and hub, as another node), for the
// mailbox and for AnyMailbox; a watcher of another user stays asleep, and
// the delivering handle's own watcher wakes once, not again through its
// listener.
func TestNotifyAcrossHandles(t *testing.T) {
	env := newEnv(t)
	schema := newSchema()
	a, b := env.openWith(t, schema, withHub), env.openWith(t, schema, withHub)
	ctx := t.Context()
	for _, u := range []string{"alice", "bob"} {
		if err := a.EnsureAccount(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	inbox, err := b.Mailbox(ctx, "alice", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	box, stop := b.Watch("alice", inbox.ID)
	defer stop()
	any, stopAny := b.Watch("alice", mailstore.AnyMailbox)
	defer stopAny()
	other, stopOther := b.Watch("bob", mailstore.AnyMailbox)
	defer stopOther()
	own, stopOwn := a.Watch("alice", inbox.ID)
	defer stopOwn()
	drain(box, any, other, own) // EnsureAccount's own notifications

	deliverTo(t, a, "alice", "hello")
	wantWake(t, own, time.Second, "the delivering handle's watcher")
	wantWake(t, box, 2*time.Second, "INBOX watcher")
	wantWake(t, any, 2*time.Second, "AnyMailbox watcher")
	select {
	case <-other:
		t.Error("bob's watcher woke for alice's delivery")
	case <-own:
		t.Error("the delivering handle's watcher woke twice")
	case <-time.After(300 * time.Millisecond):
	}
}

// drain empties pending signals.
func drain(chs ...<-chan struct{}) {
	time.Sleep(200 * time.Millisecond)
	for _, ch := range chs {
		select {
		case <-ch:
		default:
		}
	}
}

// listenerPID is the backend of the schema's listener connection, 0 if
// there is none.
func listenerPID(t *testing.T, admin *pgx.Conn, schema string) int {
	t.Helper()
	var pid int
	err := admin.QueryRow(t.Context(), `SELECT coalesce(max(pid), 0) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1`, listenerAppName(schema)).Scan(&pid)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// TestNotifyReconnect: B's listener connection is killed, and the database
// refuses new connections while A delivers, so B cannot see that NOTIFY.
// Once connections are allowed again B reconnects and wakes its watchers.
func TestNotifyReconnect(t *testing.T) {
	env := newEnv(t)
	schema := newSchema()
	a := env.open(t, schema, 0) // no hub: no listener of its own
	b := env.openWith(t, schema, withHub)
	admin := adminConn(t, env.dsn)
	ctx := t.Context()
	if err := a.EnsureAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	inbox, err := a.Mailbox(ctx, "alice", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	ch, stop := b.Watch("alice", inbox.ID)
	defer stop()
	drain(ch)

	var db string
	if err := admin.QueryRow(ctx, `SELECT current_database()`).Scan(&db); err != nil {
		t.Fatal(err)
	}
	// A database cannot refuse connections from inside itself.
	cfg, err := pgx.ParseConfig(env.dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = "postgres"
	outside, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { outside.Close(context.Background()) })
	allow := func(on bool) {
		if _, err := outside.Exec(context.Background(), `ALTER DATABASE `+pgx.Identifier{db}.Sanitize()+` ALLOW_CONNECTIONS `+map[bool]string{true: "true", false: "false"}[on]); err != nil {
			t.Fatal(err)
		}
	}
	allow(false)
	t.Cleanup(func() { allow(true) })
	old := listenerPID(t, admin, schema)
	if old == 0 {
		t.Fatal("no listener connection")
	}
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend($1, 5000)`, old); err != nil {
		t.Fatal(err)
	}
	deliverTo(t, a, "alice", "while away") // a's pool reuses its open connection
	select {
	case <-ch:
		t.Fatal("woken while the listener was down")
	case <-time.After(500 * time.Millisecond):
	}
	if pid := listenerPID(t, admin, schema); pid != 0 {
		t.Fatalf("listener %d connected while connections were refused", pid)
	}
	allow(true)
	wantWake(t, ch, 10*time.Second, "after reconnect")
	if pid := listenerPID(t, admin, schema); pid == 0 || pid == old {
		t.Errorf("listener pid %d after reconnect (was %d)", pid, old)
	}
	// And the new connection relays again.
	drain(ch)
	deliverTo(t, a, "alice", "back")
	wantWake(t, ch, 2*time.Second, "after reconnect, a new delivery")
}

// TestNotifyCloseStops: Close ends the listener goroutine and its
// connection.
func TestNotifyCloseStops(t *testing.T) {
	env := newEnv(t)
	admin := adminConn(t, env.dsn)
	schema := newSchema()
	// A first handle warms up whatever the test binary starts once.
	env.open(t, newSchema(), 0)
	before := runtime.NumGoroutine()
	s := env.openWith(t, schema, withHub)
	if listenerPID(t, admin, schema) == 0 {
		t.Fatal("no listener connection")
	}
	if runtime.NumGoroutine() <= before {
		t.Fatalf("%d goroutines after Open, %d before: no listener?", runtime.NumGoroutine(), before)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
	for listenerPID(t, admin, schema) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("listener connection still open after Close")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestNotifyChannel(t *testing.T) {
	if got := notifyChannel("store_a"); got != "rookery_store_a" {
		t.Errorf("channel %q", got)
	}
	long := strings.Repeat("x", maxIdentBytes)
	if c := notifyChannel(long); len(c) > maxIdentBytes || c == notifyChannel(long[1:]) {
		t.Errorf("channel of a long schema %q", c)
	}
	for _, k := range []watchKey{{"alice", 3}, {"a\tb", 0}} {
		if got, ok := parsePayload(notifyPayload(k)); !ok || got != k {
			t.Errorf("payload of %v came back as %v %v", k, got, ok)
		}
	}
}

// TestNotifySilentDeath: B's listener connection stops carrying anything
// without closing (a black-holed TCP connection). After the idle time its
// ping fails, it reconnects and wakes B's watchers for the change it
// missed.
func TestNotifySilentDeath(t *testing.T) {
	env := newEnv(t)
	schema := newSchema()
	hole, viaHole := newBlackHole(t, env.dsn)
	a := env.open(t, schema, 0)
	b := env.openWith(t, schema, func(o *Options) {
		o.Hub = mailstore.NewHub()
		o.DSN = viaHole
		o.listenIdle = 300 * time.Millisecond
	})
	ctx := t.Context()
	if err := a.EnsureAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	inbox, err := a.Mailbox(ctx, "alice", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	ch, stop := b.Watch("alice", inbox.ID)
	defer stop()
	drain(ch)
	deliverTo(t, a, "alice", "through the proxy")
	wantWake(t, ch, 2*time.Second, "before the freeze")

	hole.freeze()
	deliverTo(t, a, "alice", "into the hole")
	// The ping times out after another idle time; the reconnect then
	// goes through the proxy afresh.
	wantWake(t, ch, 5*time.Second, "after the silent death")
}

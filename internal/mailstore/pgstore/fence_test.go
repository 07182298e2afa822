package pgstore

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/blob/fsblob"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// leaseDDL is the cluster package's lease table, made here by hand.
const leaseDDL = `CREATE SCHEMA cluster;
CREATE TABLE cluster.leases (store text PRIMARY KEY, holder text,
	epoch bigint NOT NULL DEFAULT 0, expires_at timestamptz NOT NULL DEFAULT 'epoch')`

// fencedStore opens a store named "test" fenced by cluster.leases, whose
// row says node1 holds it at epoch 1 for an hour; the Token says the same.
// It returns the store, an admin connection to its database, and the
// database's DSN.
func fencedStore(t *testing.T, more ...func(*Options)) (*Store, *pgx.Conn, string) {
	env := newEnv(t)
	admin := adminConn(t, env.dsn)
	if _, err := admin.Exec(t.Context(), leaseDDL); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(t.Context(), `INSERT INTO cluster.leases VALUES ('test', 'node1', 1, now() + interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	s := env.openWith(t, newSchema(), func(o *Options) {
		o.Fence = &Fence{Table: "cluster.leases", Token: func() (string, int64, bool) { return "node1", 1, true }}
		for _, set := range more {
			set(o)
		}
	})
	return s, admin, env.dsn
}

func adminConn(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(t.Context()) })
	return c
}

// snapshot is every row of every table of the schema, as text.
func snapshot(t *testing.T, admin *pgx.Conn, schema string) map[string]string {
	t.Helper()
	rows, _ := admin.Query(t.Context(), `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, schema)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) == 0 {
		t.Fatalf("tables of %s: %v %v", schema, tables, err)
	}
	snap := map[string]string{}
	for _, tb := range tables {
		id := pgx.Identifier{schema, tb}.Sanitize()
		var dump string
		if err := admin.QueryRow(t.Context(), `SELECT coalesce(string_agg(r::text, E'\n' ORDER BY r::text), '') FROM `+id+` r`).Scan(&dump); err != nil {
			t.Fatal(err)
		}
		snap[tb] = dump
	}
	return snap
}

func wantNotServed(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, mailstore.ErrNotServed) {
		t.Errorf("%s: %v, want ErrNotServed", what, err)
	}
}

func msg(body string) mailstore.NewMessage {
	return mailstore.NewMessage{Body: strings.NewReader(body)}
}

// TestFenceTakeover: with the lease, writes work; once
// another node took the lease over (epoch + 1), every kind of write fails
// with ErrNotServed and leaves every table as it was and every blob in
// place. (Deliver and Append store the body before their transaction: a
// refused one leaves an unreferenced blob, garbage for Sweep, as design
// §7.7 expects of blobs.)
func TestFenceTakeover(t *testing.T) {
	s, admin, _ := fencedStore(t)
	schema := s.schema
	ctx := t.Context()
	if err := s.EnsureAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	inbox, err := s.Mailbox(ctx, "alice", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"Subject: one\r\n\r\n1\r\n", "Subject: two\r\n\r\n2\r\n"} {
		if _, err := s.Append(ctx, "alice", inbox.ID, msg(b)); err != nil {
			t.Fatal(err)
		}
	}
	// An orphan blob for the GC to find: message 2 goes.
	if _, err := s.Expunge(ctx, "alice", inbox.ID, []uint32{2}); err != nil {
		t.Fatal(err)
	}
	old, err := s.CreateMailbox(ctx, "alice", "Old", "")
	if err != nil {
		t.Fatal(err)
	}

	if _, err := admin.Exec(ctx, `UPDATE cluster.leases SET holder = 'node2', epoch = epoch + 1 WHERE store = 'test'`); err != nil {
		t.Fatal(err)
	}
	// A blob nobody references, for Sweep to find.
	if _, _, err := s.blobs.Put(ctx, strings.NewReader("stray")); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, admin, schema)
	blobsBefore := blobFiles(t, s)

	res, err := s.Deliver(ctx, []mailstore.Delivery{{User: "alice", Message: msg("Subject: three\r\n\r\n3\r\n")}})
	wantNotServed(t, "deliver", err)
	if res != nil {
		t.Errorf("deliver results %+v", res)
	}
	_, err = s.Append(ctx, "alice", inbox.ID, msg("Subject: four\r\n\r\n4\r\n"))
	wantNotServed(t, "append", err)
	_, err = s.SetFlags(ctx, "alice", inbox.ID, []uint32{1}, mailstore.FlagsAdd, []string{`\Seen`})
	wantNotServed(t, "store flags", err)
	_, err = s.Expunge(ctx, "alice", inbox.ID, []uint32{1})
	wantNotServed(t, "expunge", err)
	_, err = s.CreateMailbox(ctx, "alice", "New", "")
	wantNotServed(t, "create mailbox", err)
	wantNotServed(t, "delete mailbox", s.DeleteMailbox(ctx, "alice", "Old"))
	wantNotServed(t, "ensure account", s.EnsureAccount(ctx, "bob"))
	wantNotServed(t, "set quota", s.SetQuota(ctx, "alice", 1<<20, 10))
	_, _, err = s.Copy(ctx, "alice", inbox.ID, []uint32{1}, old.ID)
	wantNotServed(t, "copy", err)
	_, _, err = s.Move(ctx, "alice", inbox.ID, []uint32{1}, old.ID)
	wantNotServed(t, "move", err)
	_, _, err = s.SetFlagsIf(ctx, "alice", inbox.ID, mailstore.ConditionalFlags{UIDs: []uint32{1},
		Op: mailstore.FlagsAdd, Flags: []string{`\Flagged`}, UnchangedSince: 1 << 40})
	wantNotServed(t, "conditional store flags", err)
	wantNotServed(t, "rename mailbox", s.RenameMailbox(ctx, "alice", "Old", "Older"))
	wantNotServed(t, "subscribe", s.SetSubscribed(ctx, "alice", "Old", true))
	wantNotServed(t, "set acl", s.SetACL(ctx, "alice", "Old", "bob", "lr"))
	_, err = s.URLAuthKey(ctx, "alice", inbox.ID)
	wantNotServed(t, "urlauth key", err)
	wantNotServed(t, "reset urlauth keys", s.ResetURLAuthKeys(ctx, "alice", inbox.ID))
	_, err = s.ClaimRecent(ctx, "alice", inbox.ID, 3)
	wantNotServed(t, "claim recent", err)
	wantNotServed(t, "delete account", s.DeleteAccount(ctx, "alice"))
	_, err = s.CollectGarbage(ctx, time.Now().Add(time.Hour))
	wantNotServed(t, "collect garbage", err)
	_, err = s.Sweep(ctx, time.Nanosecond)
	wantNotServed(t, "sweep", err)

	if after := snapshot(t, admin, schema); !maps.Equal(before, after) {
		t.Errorf("a refused write changed the store:\nbefore %v\nafter  %v", before, after)
	}
	after := blobFiles(t, s)
	for f := range blobsBefore {
		if !after[f] {
			t.Errorf("a refused write deleted blob %s", f)
		}
	}
}

// blobFiles lists the files of the store's blob directory.
func blobFiles(t *testing.T, s *Store) map[string]bool {
	t.Helper()
	files := map[string]bool{}
	err := filepath.WalkDir(s.blobs.(*fsblob.Store).Dir(), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files[p] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestFenceRefuses: an expired lease, and a Token that says this node
// holds none, refuse writes; a renewed lease writes again.
func TestFenceRefuses(t *testing.T) {
	env := newEnv(t)
	admin := adminConn(t, env.dsn)
	ctx := t.Context()
	if _, err := admin.Exec(ctx, leaseDDL); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `INSERT INTO cluster.leases VALUES ('test', 'node1', 7, now() - interval '1 second')`); err != nil {
		t.Fatal(err)
	}
	var held atomic.Bool
	held.Store(true)
	s := env.openWith(t, newSchema(), func(o *Options) {
		o.Fence = &Fence{Table: "cluster.leases", Token: func() (string, int64, bool) { return "node1", 7, held.Load() }}
	})
	wantNotServed(t, "expired lease", s.EnsureAccount(ctx, "alice"))
	if _, err := admin.Exec(ctx, `UPDATE cluster.leases SET expires_at = now() + interval '1 minute'`); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureAccount(ctx, "alice"); err != nil {
		t.Fatalf("renewed lease: %v", err)
	}
	held.Store(false)
	wantNotServed(t, "no token", s.EnsureAccount(ctx, "bob"))
	if n := adminAccounts(t, admin, s.schema); n != 1 {
		t.Errorf("%d accounts, want 1", n)
	}
}

func adminAccounts(t *testing.T, admin *pgx.Conn, schema string) int {
	t.Helper()
	var n int
	if err := admin.QueryRow(t.Context(), `SELECT count(*) FROM `+pgx.Identifier{schema, "accounts"}.Sanitize()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitLockWait waits until a backend of the database waits on a lock
// running a statement that contains stmt.
func waitLockWait(t *testing.T, admin *pgx.Conn, stmt string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		err := admin.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%' || $1 || '%'
			AND pid <> pg_backend_pid()`, stmt).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no backend waits on a lock in %q", stmt)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFenceTakeoverWaits proves the ordering the lease check gives, with
// connections besides the store's (one watching pg_stat_activity stays
// outside any transaction: its view is per transaction). No write of the
// old holder commits after a takeover commits:
//   - a write that passed its lease check holds the takeover's UPDATE off
//     until it commits;
//   - a write still under way when the takeover commits is refused at its
//     check and changes nothing;
//   - a write that checks during an uncommitted takeover waits for it and
//     is refused.
//
// It holds with the brief's lease table and with the cluster package's,
// whose unique (store, epoch) index makes a takeover lock the row FOR
// UPDATE and a renewal only FOR NO KEY UPDATE.
func TestFenceTakeoverWaits(t *testing.T) {
	for _, index := range []bool{false, true} {
		t.Run(fmt.Sprintf("unique_epoch=%v", index), func(t *testing.T) { testTakeoverWaits(t, index) })
	}
}

func testTakeoverWaits(t *testing.T, uniqueEpoch bool) {
	// Without a text index, a write's final batch queues its new blob for
	// indexing: a blocker holding that fts_pending key uncommitted stops
	// the write right after its lease check.
	s, admin, dsn := fencedStore(t, func(o *Options) { o.TextExtractor, o.TextFold, o.SentDate = nil, nil, nil })
	ctx := t.Context()
	if uniqueEpoch {
		if _, err := admin.Exec(ctx, `CREATE UNIQUE INDEX ON cluster.leases (store, epoch)`); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.EnsureAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	inbox, err := s.Mailbox(ctx, "alice", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	takeover := adminConn(t, dsn)
	blocker := adminConn(t, dsn)
	table := func(name string) string { return pgx.Identifier{s.schema, name}.Sanitize() }
	setLease := func(holder string, epoch int) {
		t.Helper()
		if _, err := takeover.Exec(ctx, `UPDATE cluster.leases SET holder = $1, epoch = $2 WHERE store = 'test'`, holder, epoch); err != nil {
			t.Fatal(err)
		}
	}
	messages := func() uint32 {
		t.Helper()
		st, err := s.Status(ctx, "alice", inbox.ID)
		if err != nil {
			t.Fatal(err)
		}
		return st.Messages
	}
	appended := make(chan error, 1)
	appendAsync := func(body string) {
		go func() {
			_, err := s.Append(ctx, "alice", inbox.ID, msg(body))
			appended <- err
		}()
	}
	quiet := func(chs ...chan error) {
		t.Helper()
		for _, ch := range chs {
			select {
			case err := <-ch:
				t.Fatalf("finished while it should wait: %v", err)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}

	// 1. The write passed its check, then waits on the blocker.
	body := "Subject: checked\r\n\r\nx\r\n"
	id, _, err := s.blobs.Put(ctx, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	btx, err := blocker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := btx.Exec(ctx, `INSERT INTO `+table("fts_pending")+` VALUES ($1)`, id); err != nil {
		t.Fatal(err)
	}
	appendAsync(body)
	waitLockWait(t, admin, "INSERT INTO fts_pending")
	tookOver := make(chan error, 1)
	go func() {
		_, err := takeover.Exec(ctx, `UPDATE cluster.leases SET holder = 'node2', epoch = epoch + 1 WHERE store = 'test'`)
		tookOver <- err
	}()
	waitLockWait(t, admin, "UPDATE cluster.leases")
	quiet(tookOver, appended)
	if err := btx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-appended; err != nil {
		t.Fatalf("write that passed its check: %v", err)
	}
	if err := <-tookOver; err != nil {
		t.Fatalf("takeover: %v", err)
	}
	if n := messages(); n != 1 {
		t.Fatalf("%d messages, want the checked write's", n)
	}

	// 2. The write waits for alice's INBOX lock, before its check, while
	// the takeover commits.
	setLease("node1", 1)
	btx, err = blocker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := btx.Exec(ctx, `SELECT 1 FROM `+table("mailboxes")+` WHERE id = $1 FOR UPDATE`, inbox.ID); err != nil {
		t.Fatal(err)
	}
	appendAsync("Subject: unchecked\r\n\r\nx\r\n")
	waitLockWait(t, admin, "FOR UPDATE OF m")
	setLease("node2", 2) // does not wait
	quiet(appended)
	if err := btx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	wantNotServed(t, "write under way at the takeover", <-appended)
	if n := messages(); n != 1 {
		t.Fatalf("%d messages after a refused write, want 1", n)
	}

	// 3. The write checks while a takeover is uncommitted.
	setLease("node1", 1)
	ttx, err := takeover.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ttx.Exec(ctx, `UPDATE cluster.leases SET holder = 'node3', epoch = 2 WHERE store = 'test'`); err != nil {
		t.Fatal(err)
	}
	appendAsync("Subject: late\r\n\r\nx\r\n")
	waitLockWait(t, admin, "FOR SHARE")
	quiet(appended)
	if err := ttx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	wantNotServed(t, "write checking during a takeover", <-appended)
	if n := messages(); n != 1 {
		t.Fatalf("%d messages after a refused write, want 1", n)
	}
}

// TestFenceEndsStaleTransactions: a fenced store's sessions end a
// transaction left idle (a frozen holder), so its row locks do not hold up
// the next holder.
func TestFenceEndsStaleTransactions(t *testing.T) {
	s, _, _ := fencedStore(t)
	var v string
	if err := s.pool.QueryRow(t.Context(), `SHOW idle_in_transaction_session_timeout`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != "5s" {
		t.Fatalf("idle_in_transaction_session_timeout = %q on a fenced store's connection, want 5s", v)
	}
}

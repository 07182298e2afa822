package pgdir_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/directory/dirtest"
	"github.com/rookery-mail/rookery/internal/directory/pgdir"
	"github.com/rookery-mail/rookery/internal/testsvc"
)

// schemaSeq names the schemas of one test binary.
var schemaSeq atomic.Int64

func newSchema() string { return fmt.Sprintf("dir%d", schemaSeq.Add(1)) }

func open(t testing.TB, dsn, schema string, opts pgdir.Options) *pgdir.Dir {
	t.Helper()
	opts.DSN, opts.Schema = dsn, schema
	d, err := pgdir.Open(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	return d
}

// TestConformance runs the suite with a fresh schema per subtest in one
// database: measured against a fresh database per subtest (testsvc keeps
// one made ahead), both spend their time in argon2id; the schema was no
// slower (16-18 s against 17-28 s on a loaded machine) and exercises
// Options.Schema.
func TestConformance(t *testing.T) {
	dsn := testsvc.Postgres(t)
	dirtest.Run(t, func(t *testing.T) directory.Directory {
		return open(t, dsn, newSchema(), pgdir.Options{})
	})
}

// Reopening runs no migration again and keeps the data; concurrent Opens
// of a new schema agree (the advisory lock), each version recorded once.
func TestReopenIdempotent(t *testing.T) {
	ctx := t.Context()
	dsn, schema := testsvc.Postgres(t), newSchema()
	var wg sync.WaitGroup
	dirs := make([]*pgdir.Dir, 4)
	errs := make([]error, len(dirs))
	for i := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dirs[i], errs[i] = pgdir.Open(ctx, pgdir.Options{DSN: dsn, Schema: schema})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open %d: %v", i, err)
		}
		defer dirs[i].Close()
	}
	if err := dirs[0].AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
	again := open(t, dsn, schema, pgdir.Options{})
	if ok, err := again.IsLocalDomain(ctx, "example.test"); err != nil || !ok {
		t.Fatalf("after reopen IsLocalDomain = %v, %v", ok, err)
	}
	conn := connect(t, dsn)
	rows, _ := conn.Query(ctx, `SELECT version FROM `+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+` ORDER BY version`)
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil || len(versions) == 0 || !slices.Equal(versions, seq(1, len(versions))) {
		t.Fatalf("schema_migrations = %v, %v; want 1..n once each", versions, err)
	}
}

// A schema from a newer release is refused rather than misread.
func TestRefuseNewerSchema(t *testing.T) {
	ctx := t.Context()
	dsn, schema := testsvc.Postgres(t), newSchema()
	open(t, dsn, schema, pgdir.Options{}).Close()
	conn := connect(t, dsn)
	if _, err := conn.Exec(ctx, `INSERT INTO `+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+` (version) VALUES (99)`); err != nil {
		t.Fatal(err)
	}
	if d, err := pgdir.Open(ctx, pgdir.Options{DSN: dsn, Schema: schema}); err == nil {
		d.Close()
		t.Fatal("Open accepted schema version 99")
	}
}

// Every node opens the same schema; each handle sees the other's
// committed changes at once.
func TestTwoHandles(t *testing.T) {
	ctx := t.Context()
	dsn, schema := testsvc.Postgres(t), newSchema()
	server := open(t, dsn, schema, pgdir.Options{})
	cli := open(t, dsn, schema, pgdir.Options{})

	if err := cli.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	if ok, err := server.IsLocalDomain(ctx, "example.test"); err != nil || !ok {
		t.Fatalf("server IsLocalDomain = %v, %v", ok, err)
	}
	if _, err := cli.AddAccount(ctx, "alice@example.test", "pw1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := server.Authenticate(ctx, "alice@example.test", "pw1"); err != nil {
		t.Fatalf("server Authenticate: %v", err)
	}
	if err := cli.SetPassword(ctx, "alice@example.test", "pw2"); err != nil {
		t.Fatal(err)
	}
	if _, err := server.Authenticate(ctx, "alice@example.test", "pw1"); !errors.Is(err, directory.ErrAuthFailed) {
		t.Fatalf("server Authenticate old password: %v", err)
	}
	if err := server.AddAlias(ctx, "info@example.test", []string{"alice@example.test"}); err != nil {
		t.Fatal(err)
	}
	res, err := cli.Resolve(ctx, "info@example.test")
	if err != nil || len(res.Accounts) != 1 || res.Accounts[0].Address != "alice@example.test" {
		t.Fatalf("cli Resolve = %v, %v", res, err)
	}
	if err := server.DeleteAccount(ctx, "alice@example.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Account(ctx, "alice@example.test"); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("cli Account after delete: %v", err)
	}
}

// Two nodes adding the same address at once: exactly one succeeds, the
// others get ErrExists (not a raw unique or serialization error).
func TestConcurrentAddAccount(t *testing.T) {
	ctx := t.Context()
	dsn, schema := testsvc.Postgres(t), newSchema()
	var retries atomic.Int64
	log := slog.New(countRetries{&retries})
	a := open(t, dsn, schema, pgdir.Options{Logger: log})
	b := open(t, dsn, schema, pgdir.Options{Logger: log})
	if err := a.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	const n = 4 // argon2id takes 64 MiB per hash
	errs := make(chan error, n)
	for i := range n {
		d := []*pgdir.Dir{a, b}[i%2]
		go func() {
			_, err := d.AddAccount(ctx, "alice@example.test", fmt.Sprint("pw", i), fmt.Sprint("store", i))
			errs <- err
		}()
	}
	var ok, exists int
	for range n {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, directory.ErrExists):
			exists++
		default:
			t.Errorf("AddAccount: %v", err)
		}
	}
	if ok != 1 || exists != n-1 {
		t.Fatalf("%d succeeded, %d ErrExists; want 1 and %d", ok, exists, n-1)
	}
	if as, err := b.Accounts(ctx, ""); err != nil || len(as) != 1 {
		t.Fatalf("Accounts = %v, %v; want one", as, err)
	}
	t.Logf("%d writes retried after a serialization failure", retries.Load())
}

// Many writers on two handles contend on one alias (SERIALIZABLE aborts
// some); every write lands after its retries.
func TestConcurrentWriters(t *testing.T) {
	ctx := t.Context()
	dsn, schema := testsvc.Postgres(t), newSchema()
	var retries atomic.Int64
	log := slog.New(countRetries{&retries})
	a := open(t, dsn, schema, pgdir.Options{Logger: log})
	b := open(t, dsn, schema, pgdir.Options{Logger: log})
	if err := a.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	const n = 20
	errs := make(chan error, 2*n)
	for i := range n {
		for j, d := range []*pgdir.Dir{a, b} {
			go func() {
				errs <- d.AddAlias(ctx, "list@example.test", []string{fmt.Sprintf("m%d-%d@example.test", i, j)})
			}()
		}
	}
	for range 2 * n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	as, err := a.Aliases(ctx, "example.test")
	if err != nil || len(as) != 1 || len(as[0].Targets) != 2*n {
		t.Fatalf("Aliases = %v, %v; want one alias with %d targets", as, err, 2*n)
	}
	t.Logf("%d writes retried after a serialization failure", retries.Load())
}

// countRetries is a slog handler counting "directory write retried" lines.
type countRetries struct{ n *atomic.Int64 }

func (c countRetries) Enabled(context.Context, slog.Level) bool { return true }
func (c countRetries) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "directory write retried" {
		c.n.Add(1)
	}
	return nil
}
func (c countRetries) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c countRetries) WithGroup(string) slog.Handler      { return c }

// An account's mailstore is a row of mailstores (made on demand, so the
// foreign key holds), and moving the account bumps its location version.
func TestMailstoresAndLocationVersion(t *testing.T) {
	ctx := t.Context()
	dsn, schema := testsvc.Postgres(t), newSchema()
	d := open(t, dsn, schema, pgdir.Options{DefaultMailstore: "store-a"})
	if err := d.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	if a, err := d.AddAccount(ctx, "alice@example.test", "pw", ""); err != nil || a.Mailstore != "store-a" {
		t.Fatalf("AddAccount with default store-a = %+v, %v", a, err)
	}
	if _, err := d.AddAccount(ctx, "bob@example.test", "pw", "store-b"); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dsn)
	if _, err := conn.Exec(ctx, `SET search_path TO `+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	rows, _ := conn.Query(ctx, `SELECT name FROM mailstores WHERE accepts_new_users ORDER BY name`)
	stores, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || !slices.Equal(stores, []string{"store-a", "store-b"}) {
		t.Fatalf("mailstores = %v, %v; want store-a, store-b accepting new users", stores, err)
	}
	version := func() (v int64) {
		t.Helper()
		if err := conn.QueryRow(ctx, `SELECT location_version FROM accounts WHERE address = 'alice@example.test'`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := version(); v != 1 {
		t.Fatalf("new account's location_version = %d, want 1", v)
	}
	if _, err := conn.Exec(ctx, `UPDATE accounts SET password_hash = password_hash, mailstore = 'store-a'`); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != 1 {
		t.Fatalf("location_version after an update that moves nothing = %d, want 1", v)
	}
	if _, err := conn.Exec(ctx, `UPDATE accounts SET mailstore = 'store-b' WHERE address = 'alice@example.test'`); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != 2 {
		t.Fatalf("location_version after a move = %d, want 2", v)
	}
	if a, err := d.Account(ctx, "alice@example.test"); err != nil || a.Mailstore != "store-b" {
		t.Fatalf("Account after move = %+v, %v", a, err)
	}
	if _, err := conn.Exec(ctx, `UPDATE accounts SET mailstore = 'nowhere'`); err == nil {
		t.Fatal("an account moved to a mailstore that does not exist")
	}
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// A write that PostgreSQL aborts with a serialization failure runs again:
// AddAccount waits on another transaction's uncommitted insert of the same
// address, fails to serialize when it commits, and on retry reports
// ErrExists.
func TestWriteRetriedAfterSerializationFailure(t *testing.T) {
	ctx := t.Context()
	dsn, schema := testsvc.Postgres(t), newSchema()
	var retries atomic.Int64
	d := open(t, dsn, schema, pgdir.Options{Logger: slog.New(countRetries{&retries})})
	if err := d.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	other := connect(t, dsn)
	tx, err := other.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	for _, q := range []string{
		`SET LOCAL search_path TO ` + pgx.Identifier{schema}.Sanitize(),
		`INSERT INTO mailstores (name) VALUES ('default')`,
		`INSERT INTO accounts (address, domain, password_hash, mailstore)
			VALUES ('alice@example.test', 'example.test', 'x', 'default')`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := d.AddAccount(ctx, "alice@example.test", "pw", "")
		done <- err
	}()
	// Commit once AddAccount waits on our row lock.
	watch := connect(t, dsn)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting int
		if err := watch.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("AddAccount never waited on the concurrent insert")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, directory.ErrExists) {
		t.Fatalf("AddAccount = %v, want ErrExists", err)
	}
	if retries.Load() == 0 {
		t.Fatal("AddAccount was not retried")
	}
}

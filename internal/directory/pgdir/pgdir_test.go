package pgdir

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/directory/dirtest"
	"github.com/rookery-mail/rookery/internal/testsvc"
)

// schemaSeq names the schemas of one test binary; each directory gets a
// fresh schema in its test's database, which is much faster than a
// database per directory (CREATE DATABASE copies a template with fsync).
var schemaSeq atomic.Int64

func newSchema() string { return fmt.Sprintf("d%d", schemaSeq.Add(1)) }

// open opens a handle on schema of the database at dsn, closed at t's
// cleanup.
func open(t testing.TB, dsn, schema string) *Dir {
	t.Helper()
	d, err := Open(t.Context(), Options{DSN: dsn, Schema: schema, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestConformance(t *testing.T) {
	dsn := testsvc.Postgres(t)
	dirtest.Run(t, func(t *testing.T) directory.Directory {
		return open(t, dsn, newSchema())
	})
}

// Opening an existing schema again changes nothing, and processes that
// open a new schema at the same time all succeed (the migration lock makes
// the later ones wait and find it done).
func TestOpenConcurrentAndReopen(t *testing.T) {
	dsn := testsvc.Postgres(t)
	schema := newSchema()
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			d, err := Open(t.Context(), Options{DSN: dsn, Schema: schema, MaxConns: 2})
			if err == nil {
				d.Close()
			}
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent Open: %v", err)
		}
	}
	d := open(t, dsn, schema)
	ctx := t.Context()
	if err := d.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	again := open(t, dsn, schema)
	if ok, err := again.IsLocalDomain(ctx, "example.test"); err != nil || !ok {
		t.Fatalf("after reopen IsLocalDomain = %v, %v", ok, err)
	}
	var versions int
	if err := again.pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if versions != len(migrations) {
		t.Errorf("schema_migrations has %d rows, want %d", versions, len(migrations))
	}
}

// An account's mailstore is a row of mailstores, made on first use, and a
// new account is at location version 1.
func TestMailstoreRows(t *testing.T) {
	d := open(t, testsvc.Postgres(t), newSchema())
	ctx := t.Context()
	if err := d.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct{ addr, store string }{
		{"a@example.test", ""}, {"b@example.test", "east"}, {"c@example.test", "east"},
	} {
		if _, err := d.AddAccount(ctx, a.addr, "pw", a.store); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := d.pool.Query(ctx, `SELECT name || ':' || accepts_new_users FROM mailstores ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	stores, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"default:true", "east:true"}; !slices.Equal(stores, want) {
		t.Errorf("mailstores = %v, want %v", stores, want)
	}
	var minV, maxV int64
	if err := d.pool.QueryRow(ctx, `SELECT min(location_version), max(location_version) FROM accounts`).Scan(&minV, &maxV); err != nil {
		t.Fatal(err)
	}
	if minV != 1 || maxV != 1 {
		t.Errorf("location_version in [%d, %d], want 1", minV, maxV)
	}
}

// Two handles (two pools, as two nodes or the CLI and the server) see each
// other's committed changes at once.
func TestTwoHandles(t *testing.T) {
	dsn, schema := testsvc.Postgres(t), newSchema()
	server, cli := open(t, dsn, schema), open(t, dsn, schema)
	ctx := t.Context()
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
		t.Fatalf("cli Resolve = %+v, %v", res, err)
	}
	if err := cli.DeleteAccount(ctx, "alice@example.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := server.Resolve(ctx, "info@example.test"); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("server Resolve after delete: %v, want ErrNotFound", err)
	}
}

// Concurrent adds of one address through several handles: exactly one
// succeeds, every other gets ErrExists (not a unique-violation error).
func TestConcurrentAddAccount(t *testing.T) {
	dsn, schema := testsvc.Postgres(t), newSchema()
	const n = 6
	var dirs []*Dir
	for range n {
		dirs = append(dirs, open(t, dsn, schema))
	}
	ctx := t.Context()
	if err := dirs[0].AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := dirs[i].AddAccount(ctx, "Same@Example.test", fmt.Sprint("pw", i), "store"+fmt.Sprint(i%2))
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
		t.Fatalf("%d successes and %d ErrExists, want 1 and %d", ok, exists, n-1)
	}
	accts, err := dirs[1].Accounts(ctx, "")
	if err != nil || len(accts) != 1 {
		t.Fatalf("Accounts = %v, %v", accts, err)
	}
}

// With the database down, the lookups the MX makes fail with an error
// that is not ErrNotFound (so it answers 4xx, not 5xx), and Authenticate's
// is not ErrAuthFailed.
func TestDatabaseDown(t *testing.T) {
	srv := testsvc.OwnPostgres(t)
	d := open(t, srv.DSN, "directory")
	ctx := t.Context()
	if err := d.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.AddAccount(ctx, "alice@example.test", "pw", ""); err != nil {
		t.Fatal(err)
	}
	srv.Stop(t)
	if ok, err := d.IsLocalDomain(ctx, "example.test"); err == nil || errors.Is(err, directory.ErrNotFound) {
		t.Errorf("IsLocalDomain with the database down = %v, %v; want a backend error", ok, err)
	}
	for _, addr := range []string{"alice@example.test", "nobody@example.test"} {
		if res, err := d.Resolve(ctx, addr); err == nil || errors.Is(err, directory.ErrNotFound) {
			t.Errorf("Resolve(%s) with the database down = %+v, %v; want a backend error", addr, res, err)
		}
	}
	if _, err := d.Authenticate(ctx, "alice@example.test", "pw"); err == nil || errors.Is(err, directory.ErrAuthFailed) {
		t.Errorf("Authenticate with the database down: %v; want a backend error", err)
	}
	srv.Start(t)
	if _, err := d.Resolve(ctx, "alice@example.test"); err != nil {
		t.Errorf("Resolve after restart: %v", err)
	}
}

// DeleteDomain racing AddAccount, in both interleavings inside the
// transactions, made deterministic by holding the other side's
// transaction open by hand: a DeleteDomain that
// waits on an uncommitted account insert then refuses (ErrExists), and an
// AddAccount that waits on an uncommitted domain delete then fails its
// foreign key as ErrNotFound.
func TestDeleteDomainWaitsForAddAccount(t *testing.T) {
	d := open(t, testsvc.Postgres(t), newSchema())
	ctx := t.Context()
	for _, dom := range []string{"a.test", "b.test"} {
		if err := d.AddDomain(ctx, dom); err != nil {
			t.Fatal(err)
		}
	}
	blocked := func(what string, done <-chan error) {
		t.Helper()
		select {
		case err := <-done:
			t.Fatalf("%s did not wait for the open transaction: %v", what, err)
		case <-time.After(300 * time.Millisecond):
		}
	}

	// An AddAccount between its insert and its commit.
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, q := range []string{
		`INSERT INTO mailstores (name) VALUES ('default') ON CONFLICT DO NOTHING`,
		`INSERT INTO accounts (address, domain, password_hash, mailstore) VALUES ('u@a.test', 'a.test', 'x', 'default')`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- d.DeleteDomain(ctx, "a.test") }()
	blocked("DeleteDomain", done)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, directory.ErrExists) {
		t.Errorf("DeleteDomain after a concurrent account: %v, want ErrExists", err)
	}

	// A DeleteDomain between its delete and its commit.
	tx, err = d.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `DELETE FROM domains WHERE name = 'b.test'`); err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := d.AddAccount(ctx, "u@b.test", "pw", "")
		done <- err
	}()
	start := time.Now()
	if _, err := directory.HashPassword("x"); err != nil { // let AddAccount's own hash finish
		t.Fatal(err)
	}
	time.Sleep(time.Since(start)) // twice the hash time, under load
	blocked("AddAccount", done)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("AddAccount after a concurrent domain delete: %v, want ErrNotFound", err)
	}
}

// Options left empty mean the schema "directory" and the mailstore
// "default"; set ones are used, and the Policy reaches Resolve.
func TestOptions(t *testing.T) {
	dsn := testsvc.Postgres(t)
	ctx := t.Context()
	d, err := Open(ctx, Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	if a, err := d.AddAccount(ctx, "alice@example.test", "pw", ""); err != nil || a.Mailstore != "default" {
		t.Fatalf("AddAccount = %+v, %v; want mailstore default", a, err)
	}
	var n int
	if err := d.pool.QueryRow(ctx, `SELECT count(*) FROM directory.accounts`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("accounts in schema directory: %d, %v", n, err)
	}

	e, err := Open(ctx, Options{DSN: dsn, Schema: newSchema(), DefaultMailstore: "store-a",
		Policy: directory.Policy{Postmaster: "admin@example.test"}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	if a, err := e.AddAccount(ctx, "admin@example.test", "pw", ""); err != nil || a.Mailstore != "store-a" {
		t.Fatalf("AddAccount = %+v, %v; want mailstore store-a", a, err)
	}
	res, err := e.Resolve(ctx, "postmaster@example.test")
	if err != nil || len(res.Accounts) != 1 || res.Accounts[0].Address != "admin@example.test" {
		t.Fatalf("Resolve(postmaster) = %+v, %v; want the Policy's postmaster", res, err)
	}
	if _, err := Open(ctx, Options{}); err == nil {
		t.Error("Open without a DSN succeeded")
	}
}

// Writers on two handles adding targets to one alias all succeed.
func TestConcurrentAliasWriters(t *testing.T) {
	dsn, schema := testsvc.Postgres(t), newSchema()
	a, b := open(t, dsn, schema), open(t, dsn, schema)
	ctx := t.Context()
	if err := a.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	const n = 20
	errs := make(chan error, 2*n)
	for i := range n {
		for j, d := range []*Dir{a, b} {
			go func() {
				errs <- d.AddAlias(ctx, "list@example.test", []string{fmt.Sprintf("u%d-%d@example.test", i, j)})
			}()
		}
	}
	for range 2 * n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	as, err := b.Aliases(ctx, "example.test")
	if err != nil || len(as) != 1 || len(as[0].Targets) != 2*n {
		t.Fatalf("Aliases = %v, %v; want one alias with %d targets", as, err, 2*n)
	}
}

// A schema migrated by a newer program is refused, not used.
func TestRefuseNewerSchema(t *testing.T) {
	dsn, schema := testsvc.Postgres(t), newSchema()
	d := open(t, dsn, schema)
	if _, err := d.pool.Exec(t.Context(), `INSERT INTO schema_migrations (version) VALUES ($1)`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	if e, err := Open(t.Context(), Options{DSN: dsn, Schema: schema}); err == nil {
		e.Close()
		t.Fatal("Open accepted a schema newer than the program")
	}
}

// The argon2id work of Authenticate, AddAccount and SetPassword holds no
// connection: with a pool of one, lookups keep answering quickly while
// those calls hash (each lookup must finish in a third of a hash's time).
func TestHashingHoldsNoConnection(t *testing.T) {
	d, err := Open(t.Context(), Options{DSN: testsvc.Postgres(t), Schema: newSchema(), MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := t.Context()
	if err := d.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := d.AddAccount(ctx, "alice@example.test", "pw", ""); err != nil {
		t.Fatal(err)
	}
	budget := time.Since(start) / 3
	done := make(chan error, 1)
	go func() {
		done <- errors.Join(
			func() error { _, err := d.Authenticate(ctx, "alice@example.test", "pw"); return err }(),
			d.SetPassword(ctx, "alice@example.test", "pw2"),
			func() error { _, err := d.AddAccount(ctx, "bob@example.test", "pw", ""); return err }(),
			func() error { _, err := d.Authenticate(ctx, "alice@example.test", "pw2"); return err }(),
		)
	}()
	// Judged over all lookups, not each: on a loaded machine one lookup
	// may miss the budget for want of CPU, while a connection held during
	// hashing makes most of them wait for a hash.
	lookups, late := 0, 0
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d lookups while hashing, %d slower than %v", lookups, late, budget)
			if lookups == 0 || late*2 > lookups {
				t.Fatalf("%d of %d lookups waited longer than %v: hashing holds the connection", late, lookups, budget)
			}
			return
		default:
		}
		lctx, cancel := context.WithTimeout(ctx, budget)
		_, err := d.IsLocalDomain(lctx, "example.test")
		expired := lctx.Err() != nil
		cancel()
		switch {
		case err != nil && expired:
			late++
		case err != nil:
			t.Fatalf("lookup %d while hashing: %v", lookups, err)
		}
		lookups++
		time.Sleep(time.Millisecond)
	}
}

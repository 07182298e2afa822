package pgdir

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rookery-mail/rookery/internal/testsvc"
)

// location_version counts the account's moves: an update that leaves the
// mailstore as it is does not count, and a move to a mailstore without a
// row in mailstores is refused.
func TestLocationVersion(t *testing.T) {
	ctx := t.Context()
	d := open(t, testsvc.Postgres(t), newSchema())
	if err := d.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ addr, store string }{{"alice@example.test", "store-a"}, {"bob@example.test", "store-b"}} {
		if _, err := d.AddAccount(ctx, c.addr, "pw", c.store); err != nil {
			t.Fatal(err)
		}
	}
	version := func() (v int64) {
		t.Helper()
		if err := d.pool.QueryRow(ctx, `SELECT location_version FROM accounts WHERE address = 'alice@example.test'`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	exec := func(q string) error {
		_, err := d.pool.Exec(ctx, q)
		return err
	}
	if v := version(); v != 1 {
		t.Fatalf("new account's location_version = %d, want 1", v)
	}
	if err := exec(`UPDATE accounts SET password_hash = password_hash, mailstore = mailstore`); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != 1 {
		t.Fatalf("location_version after an update that moves nothing = %d, want 1", v)
	}
	for want := int64(2); want <= 3; want++ {
		store := map[int64]string{2: "store-b", 3: "store-a"}[want]
		if err := exec(`UPDATE accounts SET mailstore = '` + store + `' WHERE address = 'alice@example.test'`); err != nil {
			t.Fatal(err)
		}
		if v := version(); v != want {
			t.Fatalf("location_version after move %d = %d, want %d", want-1, v, want)
		}
		if a, err := d.Account(ctx, "alice@example.test"); err != nil || a.Mailstore != store {
			t.Fatalf("Account after move = %+v, %v; want mailstore %s", a, err, store)
		}
	}
	if err := exec(`UPDATE accounts SET mailstore = 'nowhere'`); pgCode(err) != "23503" {
		t.Fatalf("move to an unknown mailstore: %v, want a foreign-key violation", err)
	}
}

// A directory made by schema version 1 opens, keeps its data, and its
// accounts' moves are counted from then on.
func TestMigrateFromV1(t *testing.T) {
	ctx := t.Context()
	dsn, schema := testsvc.Postgres(t), newSchema()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	ident := pgx.Identifier{schema}.Sanitize()
	for _, q := range []string{
		`CREATE SCHEMA ` + ident,
		`SET search_path TO ` + ident,
		migrations[0],
		`CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
		`INSERT INTO schema_migrations (version) VALUES (1)`,
		`INSERT INTO domains (name) VALUES ('example.test')`,
		`INSERT INTO mailstores (name) VALUES ('store-a'), ('store-b')`,
		`INSERT INTO accounts (address, domain, password_hash, mailstore)
			VALUES ('alice@example.test', 'example.test', 'x', 'store-a')`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	d := open(t, dsn, schema)
	if a, err := d.Account(ctx, "alice@example.test"); err != nil || a.Mailstore != "store-a" {
		t.Fatalf("Account after migration = %+v, %v", a, err)
	}
	var v int64
	err = d.pool.QueryRow(ctx, `UPDATE accounts SET mailstore = 'store-b' RETURNING location_version`).Scan(&v)
	if err != nil || v != 2 {
		t.Fatalf("location_version after a move = %d, %v; want 2", v, err)
	}
	rows, _ := d.pool.Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil || len(versions) != len(migrations) || versions[len(versions)-1] != len(migrations) {
		t.Fatalf("schema_migrations = %v, %v; want 1..%d", versions, err, len(migrations))
	}
}

// pgCode is err's SQLSTATE, or "" when err is not a PostgreSQL error.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

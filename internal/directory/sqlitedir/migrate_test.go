package sqlitedir_test

import (
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/directory/sqlitedir"
)

// schemaV1 is the schema as released at user_version 1 (before DKIM keys),
// frozen here so the upgrade path stays tested after later migrations.
const schemaV1 = `
CREATE TABLE domains (
	name    TEXT PRIMARY KEY,
	created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;
CREATE TABLE accounts (
	id            INTEGER PRIMARY KEY,
	address       TEXT NOT NULL UNIQUE,
	domain        TEXT NOT NULL REFERENCES domains(name),
	password_hash TEXT NOT NULL,
	mailstore     TEXT NOT NULL,
	created       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;
CREATE INDEX accounts_domain ON accounts(domain);
CREATE TABLE aliases (
	address TEXT NOT NULL,
	domain  TEXT NOT NULL REFERENCES domains(name),
	target  TEXT NOT NULL,
	created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
	PRIMARY KEY (address, target)
) STRICT;
CREATE INDEX aliases_domain ON aliases(domain);
INSERT INTO domains (name) VALUES ('example.test');
INSERT INTO aliases (address, domain, target) VALUES ('info@example.test', 'example.test', 'x@elsewhere.test');
INSERT INTO accounts (address, domain, password_hash, mailstore) VALUES ('alice@example.test', 'example.test', 'x', 'store-a');
PRAGMA user_version = 1;
`

// A database written by the previous release opens, keeps its data and
// gains the DKIM key table and the mailstore registry, which holds the
// stores its accounts name.
func TestMigrateFromV1(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "directory.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, schemaV1); err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	db := open(t, path, sqlitedir.Options{})
	as, err := db.Aliases(ctx, "example.test")
	if err != nil || len(as) != 1 || as[0].Targets[0] != "x@elsewhere.test" {
		t.Fatalf("Aliases after migration = %v, %v", as, err)
	}
	stores, err := db.Stores(ctx)
	if want := []directory.Store{{Name: "store-a", AcceptsNewUsers: true, Accounts: 1}}; err != nil || !slices.Equal(stores, want) {
		t.Fatalf("Stores after migration = %+v, %v; want %+v", stores, err, want)
	}
	key := directory.DKIMKey{Domain: "example.test", Selector: "rk2026r", Algorithm: directory.DKIMRSA,
		PrivateKeyPEM: "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n", Created: time.Now().UTC()}
	if err := db.AddDKIMKey(ctx, key); err != nil {
		t.Fatalf("AddDKIMKey after migration: %v", err)
	}
	if keys, err := db.DKIMKeys(ctx, "example.test"); err != nil || len(keys) != 1 || !keys[0].Created.Equal(key.Created) {
		t.Fatalf("DKIMKeys after migration = %v, %v", keys, err)
	}

	raw, err = sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var version int
	if err := raw.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil || version < 3 {
		t.Fatalf("user_version = %d, %v; want at least 3", version, err)
	}
}

// A database from a newer release is refused rather than misread.
func TestRefuseNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "directory.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(t.Context(), "PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if db, err := sqlitedir.Open(t.Context(), path, sqlitedir.Options{}); err == nil {
		db.Close()
		t.Fatal("Open accepted schema version 99")
	}
}

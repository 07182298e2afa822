package pgdir

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations[i] brings the schema from version i to i+1 (rows of
// schema_migrations). Append only; never edit a released step.
//
// Names are COLLATE "C" so ORDER BY compares bytes, as SQLite does, and
// listings come out in the same order on both engines.
var migrations = []string{
	// 1: sqlitedir's migrations 1–2, plus what the cluster needs (issue
	// #10): every mailstore an account may name is a row of mailstores,
	// which later carries placement (accepts_new_users), and an account's
	// location_version grows with each move, so a router can tell a stale
	// location from the current one.
	`
CREATE TABLE domains (
	name    text COLLATE "C" PRIMARY KEY,
	created timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE mailstores (
	name              text COLLATE "C" PRIMARY KEY,
	accepts_new_users boolean NOT NULL DEFAULT true,
	created           timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE accounts (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	address          text COLLATE "C" NOT NULL UNIQUE,
	domain           text COLLATE "C" NOT NULL,
	password_hash    text NOT NULL,
	mailstore        text COLLATE "C" NOT NULL,
	location_version bigint NOT NULL DEFAULT 1,
	created          timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT accounts_domain_fk FOREIGN KEY (domain) REFERENCES domains(name),
	CONSTRAINT accounts_mailstore_fk FOREIGN KEY (mailstore) REFERENCES mailstores(name)
);
CREATE INDEX accounts_domain ON accounts(domain);
CREATE INDEX accounts_mailstore ON accounts(mailstore);
CREATE TABLE aliases (
	address text COLLATE "C" NOT NULL, -- "local@domain" or the catch-all "@domain"
	domain  text COLLATE "C" NOT NULL,
	target  text COLLATE "C" NOT NULL,
	created timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (address, target),
	CONSTRAINT aliases_domain_fk FOREIGN KEY (domain) REFERENCES domains(name)
);
CREATE INDEX aliases_domain ON aliases(domain);
CREATE TABLE dkim_keys (
	domain      text COLLATE "C" NOT NULL,
	selector    text COLLATE "C" NOT NULL,
	algorithm   text NOT NULL CHECK (algorithm IN ('rsa-sha256', 'ed25519-sha256')),
	private_key text NOT NULL,
	created     timestamptz NOT NULL,
	PRIMARY KEY (domain, selector),
	CONSTRAINT dkim_keys_domain_fk FOREIGN KEY (domain) REFERENCES domains(name) ON DELETE CASCADE
);
`,
	// 2: the rest of what issue #10's placement needs in the schema. The
	// trigger makes location_version count every change of an account's
	// mailstore, whoever writes it (a move, an admin's UPDATE), so a
	// router's cached location can never look current after a move.
	// placement_rules is read by nothing yet: the first rule by position
	// whose domain equals a new account's domain, or whose pattern (a
	// regular expression on the canonical address, e.g. '^[a-k]') matches,
	// names its mailstore.
	`
CREATE FUNCTION accounts_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.location_version := OLD.location_version + 1;
	RETURN NEW;
END $$;
CREATE TRIGGER accounts_moved BEFORE UPDATE OF mailstore ON accounts
FOR EACH ROW WHEN (NEW.mailstore IS DISTINCT FROM OLD.mailstore)
EXECUTE FUNCTION accounts_moved();

CREATE TABLE placement_rules (
	position  integer PRIMARY KEY,
	domain    text COLLATE "C" REFERENCES domains(name) ON DELETE CASCADE,
	pattern   text,
	mailstore text COLLATE "C" NOT NULL REFERENCES mailstores(name),
	CHECK ((domain IS NULL) <> (pattern IS NULL))
);
`,
}

// migrateLock is the pg_advisory_xact_lock key of directory migrations:
// two processes opening a new schema at once do not both create it; the
// second waits, then sees the first one's version.
const migrateLock = 0x726f6f6b6469726d // "rookdirm"

// migrate creates schema if it is missing and applies the missing
// migrations, all in one transaction under migrateLock.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	// Created only when missing: CREATE SCHEMA needs CREATE on the
	// database even with IF NOT EXISTS, which a role given a prepared
	// schema may lack.
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&exists); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	ident := pgx.Identifier{schema}.Sanitize()
	if !exists {
		if _, err := tx.Exec(ctx, `CREATE SCHEMA `+ident); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	for _, q := range []string{
		`SET LOCAL search_path TO ` + ident,
		`CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now())`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	var version int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return fmt.Errorf("migrate: read version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("migrate: schema version %d is newer than this program knows (%d); upgrade rookery", version, len(migrations))
	}
	for v := version; v < len(migrations); v++ {
		if _, err := tx.Exec(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v+1); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

package sqlitedir

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations[i] brings the schema from user_version i to i+1. Append only:
// a released step never changes, because databases in the field ran it.
var migrations = []string{
	`
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
	address TEXT NOT NULL, -- "local@domain" or the catch-all "@domain"
	domain  TEXT NOT NULL REFERENCES domains(name),
	target  TEXT NOT NULL,
	created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
	PRIMARY KEY (address, target)
) STRICT;
CREATE INDEX aliases_domain ON aliases(domain);
`,
	// Version 2: DKIM signing keys (RFC 6376, RFC 8463). created is a
	// fixed-width UTC timestamp, so ORDER BY created sorts by time.
	`
CREATE TABLE dkim_keys (
	domain      TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
	selector    TEXT NOT NULL,
	algorithm   TEXT NOT NULL CHECK (algorithm IN ('rsa-sha256', 'ed25519-sha256')),
	private_key TEXT NOT NULL,
	created     TEXT NOT NULL,
	PRIMARY KEY (domain, selector)
) STRICT;
`,
	// Version 3: the mailstore registry and placement rules (issue #10).
	// Every mailstore accounts already name is registered. Rule IDs are
	// AUTOINCREMENT, never reused, because their order is the rules'
	// order: a new rule must not take a deleted one's place.
	`
CREATE TABLE mailstores (
	name              TEXT PRIMARY KEY,
	accepts_new_users INTEGER NOT NULL DEFAULT 1 CHECK (accepts_new_users IN (0, 1)),
	created           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;
INSERT INTO mailstores (name) SELECT DISTINCT mailstore FROM accounts;
CREATE INDEX accounts_mailstore ON accounts(mailstore);
CREATE TABLE placement_rules (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	domain    TEXT NOT NULL DEFAULT '', -- '' matches any domain
	pattern   TEXT NOT NULL DEFAULT '', -- a Go regexp on the local part
	mailstore TEXT NOT NULL REFERENCES mailstores(name)
) STRICT;
`,
}

// migrate applies the missing migrations in one write transaction, so two
// processes opening a new file at once do not both create the tables: the
// second waits for the lock, then sees the new user_version.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see Open)
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	defer rollback(tx)
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("schema: read version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this program knows (%d); upgrade rookery", version, len(migrations))
	}
	if version == len(migrations) {
		return tx.Commit()
	}
	for i := version; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("schema: migrate to version %d: %w", i+1, err)
		}
	}
	// PRAGMA takes no bind parameters; the value is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return fmt.Errorf("schema: set version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	return nil
}

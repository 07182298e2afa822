package pgqueue

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are applied in order; migrations[i] brings the schema to
// version i+1. Times are Unix nanoseconds, as in sqlitequeue, so they
// round-trip exactly. Deleting a message records its body as garbage in
// the same transaction (the trigger), so a body whose deletion failed or
// was cut short by a crash is found again by Sweep.
var migrations = []string{
	`
CREATE TABLE messages (
	id          text PRIMARY KEY,
	mail_from   text NOT NULL,
	received    bigint NOT NULL,
	size        bigint NOT NULL,
	smtputf8    boolean NOT NULL,
	require_tls boolean NOT NULL,
	held        boolean NOT NULL DEFAULT false,
	warned      boolean NOT NULL DEFAULT false
);
CREATE INDEX messages_received ON messages (received, id);
CREATE TABLE recipients (
	message_id   text NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	ord          integer NOT NULL,
	address      text NOT NULL,
	orig         text NOT NULL,
	remote       boolean NOT NULL,
	status       text NOT NULL,
	attempts     integer NOT NULL DEFAULT 0,
	next_attempt bigint NOT NULL,
	last_error   text NOT NULL DEFAULT '',
	last_attempt bigint NOT NULL DEFAULT 0,
	claim_owner  text NOT NULL DEFAULT '',
	claim_until  bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (message_id, address)
);
CREATE INDEX recipients_due ON recipients (next_attempt) WHERE status = 'pending';
CREATE TABLE garbage (
	id    text PRIMARY KEY,
	since timestamptz NOT NULL DEFAULT now()
);
CREATE FUNCTION message_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO garbage (id) SELECT id FROM old_rows ON CONFLICT DO NOTHING;
	RETURN NULL;
END $$;
CREATE TRIGGER messages_deleted AFTER DELETE ON messages
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION message_deleted();
`,
}

// migrateLock is the pg_advisory_xact_lock key of queue migrations, so
// nodes opening the queue at once never race to create it.
const migrateLock = 0x726f6f6b71756575 // "rookqueu"

// migrate creates the schema and applies the missing migrations in one
// transaction. A schema newer than this program is refused, not misread.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	ident := pgx.Identifier{schema}.Sanitize()
	for _, q := range []string{
		`SELECT pg_advisory_xact_lock(` + fmt.Sprint(migrateLock) + `)`,
		`CREATE SCHEMA IF NOT EXISTS ` + ident,
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
		return fmt.Errorf("migrate: schema version %d is newer than this program's %d", version, len(migrations))
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

// Package pgschema keeps each PostgreSQL engine's tables in a schema of its
// own (the directory's, the queue's, one per mailstore, so many can share a
// database) and brings that schema up to date when the engine opens: it
// creates the schema when missing and applies the numbered migrations it
// lacks, all in one transaction under a database-wide advisory lock. Nodes
// that start together therefore never race, and a schema newer than the
// binary is refused instead of misread.
package pgschema

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// lockKey is the pg_advisory_xact_lock key every migration takes, so all
// Rookery migrations in a database run one at a time (they are rare; one
// key also orders engines that share objects, such as pg_trgm).
const lockKey = 0x726f6f6b6d696772 // "rookmigr"

// Prepare runs first in the migration transaction, under the lock, and may
// rewrite the migrations' text (pgstore names the schema of pg_trgm).
type Prepare func(ctx context.Context, tx pgx.Tx) (rewrite func(string) string, err error)

// Migrate brings schema up to migrations (migrations[i] makes version i+1).
// prepare may be nil.
func Migrate(ctx context.Context, pool *pgxpool.Pool, schema string, migrations []string, prepare Prepare) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(lockKey)); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	rewrite := func(s string) string { return s }
	if prepare != nil {
		if rewrite, err = prepare(ctx, tx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
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
		return fmt.Errorf("migrate: schema %s is at version %d, newer than this program knows (%d); upgrade rookery", schema, version, len(migrations))
	}
	for v := version; v < len(migrations); v++ {
		if _, err := tx.Exec(ctx, rewrite(migrations[v])); err != nil {
			return fmt.Errorf("migrate %s to version %d: %w", schema, v+1, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v+1); err != nil {
			return fmt.Errorf("migrate %s to version %d: %w", schema, v+1, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

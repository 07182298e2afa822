// Package pgdir is the scaled directory engine: domains, mailstores,
// accounts, aliases and DKIM keys in PostgreSQL (pgx v5), in one schema
// ("directory" by default) that Open creates and migrates. Every node of a
// cluster opens the same schema; PostgreSQL, not the process, serializes
// their writes.
package pgdir

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rookery-mail/rookery/internal/directory"
)

// Options configure Open.
type Options struct {
	DSN string // a pgx connection string (URL or key=value); required
	// Schema holds the directory's tables; "directory" when empty.
	Schema string
	// DefaultMailstore is the mailstore of an account added without one;
	// "default" when empty, as in sqlitedir.
	DefaultMailstore string
	// Policy holds the resolution rules that come from configuration
	// (the postmaster address).
	Policy directory.Policy
	Logger *slog.Logger
	// MaxConns bounds the connection pool; 0 means pgxpool's default.
	MaxConns int32
}

// Dir is a directory.Directory on PostgreSQL. It is safe for concurrent use.
type Dir struct {
	pool      *pgxpool.Pool
	schema    string
	mailstore string
	policy    directory.Policy
	log       *slog.Logger
}

var _ directory.Directory = (*Dir)(nil)

// Open connects and brings the schema up to date.
func Open(ctx context.Context, opts Options) (*Dir, error) {
	if opts.DSN == "" {
		return nil, errors.New("pgdir: Options.DSN is required")
	}
	d := &Dir{schema: opts.Schema, mailstore: opts.DefaultMailstore, policy: opts.Policy, log: opts.Logger}
	if d.schema == "" {
		d.schema = "directory"
	}
	if d.mailstore == "" {
		d.mailstore = "default"
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(opts.DSN)
	if err != nil {
		return nil, fmt.Errorf("pgdir: parse DSN: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	// Statements name tables unqualified; the schema comes from the
	// connection (pg_catalog is always searched first).
	cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{d.schema}.Sanitize()
	if d.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("pgdir: connect: %w", err)
	}
	if err := migrate(ctx, d.pool, d.schema); err != nil {
		d.pool.Close()
		return nil, fmt.Errorf("pgdir: schema %s: %w", d.schema, err)
	}
	d.log.Debug("directory opened", "schema", d.schema)
	return d, nil
}

// Close closes the connection pool.
func (d *Dir) Close() error {
	d.pool.Close()
	return nil
}

// querier is what *pgxpool.Pool and pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// maxAttempts bounds how often write runs a transaction that PostgreSQL
// aborted for a serialization failure or a deadlock.
const maxAttempts = 10

// write runs fn in a SERIALIZABLE transaction and commits, running it again
// from the start after a serialization failure or deadlock. SERIALIZABLE
// makes every check-then-write in fn (the domain exists, the address is
// free) hold at commit without thinking about lock order; directory writes
// are admin actions, so the occasional retry costs nothing that matters.
// fn must reset whatever it returns through closures.
func (d *Dir) write(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := d.writeOnce(ctx, op, fn)
		if err == nil || !retryable(err) || attempt == maxAttempts || ctx.Err() != nil {
			return err
		}
		d.log.Debug("directory write retried", "op", op, "attempt", attempt, "err", err)
		// Jitter, so writers that collided do not collide again in step.
		t := time.NewTimer(time.Duration(rand.Int64N(int64(attempt) * int64(5*time.Millisecond))))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w", op, ctx.Err())
		case <-t.C:
		}
	}
}

// writeOnce runs one attempt; fn's errors say what failed themselves.
func (d *Dir) writeOnce(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	tx, err := d.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return fmt.Errorf("%s: begin: %w", op, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: commit: %w", op, err)
	}
	return nil
}

// read runs fn in a read-only REPEATABLE READ transaction: one snapshot for
// reads of several statements (Resolve), which never blocks or aborts.
func (d *Dir) read(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := d.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// retryable reports 40001 serialization_failure and 40P01 deadlock_detected,
// after which the whole transaction may simply run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

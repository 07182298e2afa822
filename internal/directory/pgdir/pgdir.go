// Package pgdir is the scaled directory engine: domains, mailstores,
// accounts, aliases and DKIM keys in one PostgreSQL schema (pgx v5), shared
// by every node of a cluster. Each handle owns a connection pool whose
// connections have the directory's schema as their search_path; any number
// of processes may open the same schema, and every rule that must hold
// between them is a constraint or a row lock in the database.
package pgdir

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rookery-mail/rookery/internal/directory"
)

// Options configure Open.
type Options struct {
	DSN string // a pgx connection string (URL or key=value)
	// Schema is the PostgreSQL schema holding the directory's tables;
	// "directory" when empty.
	Schema string
	// DefaultMailstore is the mailstore of an account added without one;
	// directory.DefaultMailstore when empty.
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

// Open connects, creates the directory's schema if needed and migrates it.
func Open(ctx context.Context, opts Options) (*Dir, error) {
	if opts.DSN == "" {
		return nil, errors.New("pgdir: Options.DSN is required")
	}
	d := &Dir{schema: opts.Schema, mailstore: opts.DefaultMailstore, policy: opts.Policy, log: opts.Logger}
	if d.schema == "" {
		d.schema = "directory"
	}
	if d.mailstore == "" {
		d.mailstore = directory.DefaultMailstore
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(opts.DSN)
	if err != nil {
		return nil, fmt.Errorf("open directory: parse DSN: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	// Every statement names tables unqualified; the schema comes from the
	// connection. pg_catalog is always searched first.
	cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{d.schema}.Sanitize()
	if d.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("open directory: connect: %w", err)
	}
	if err := migrate(ctx, d.pool, d.schema); err != nil {
		d.pool.Close()
		return nil, fmt.Errorf("open directory: schema %s: %w", d.schema, err)
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

// write runs fn in a READ COMMITTED transaction and commits, running it
// again from the start after a serialization failure or a deadlock; fn
// must reset whatever it returns through closures.
func (d *Dir) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := d.inTx(ctx, pgx.TxOptions{}, fn)
		if err == nil || !retryable(err) || attempt == maxAttempts || ctx.Err() != nil {
			return err
		}
	}
}

// read runs fn in a read-only REPEATABLE READ transaction: one snapshot for
// every query of a read that must be consistent (a domain check and its
// listing, the lookups of one Resolve).
func (d *Dir) read(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return d.inTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

func (d *Dir) inTx(ctx context.Context, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	tx, err := d.pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// retryable reports errors after which the whole transaction may simply
// run again: 40001 serialization_failure, 40P01 deadlock_detected.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// isForeignKey reports a foreign-key violation (23503) of constraint.
func isForeignKey(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503" && pe.ConstraintName == constraint
}

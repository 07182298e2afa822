// Package sqlitedir is the embedded directory engine: domains, accounts and
// aliases in one SQLite file. The admin CLI and the server open the same
// file at the same time, so every handle uses WAL, a busy timeout and
// immediate write transactions instead of any in-process locking.
package sqlitedir

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/rookery-mail/rookery/internal/directory"

	_ "modernc.org/sqlite" // driver "sqlite"
)

// Options configure a DB.
type Options struct {
	// DefaultMailstore is the mailstore of an account added without one;
	// directory.DefaultMailstore when empty.
	DefaultMailstore string
	// Policy holds the resolution rules that come from configuration
	// (the postmaster address).
	Policy directory.Policy
}

// DB is a directory.Directory on a SQLite file. It is safe for concurrent use.
type DB struct {
	db        *sql.DB
	mailstore string
	policy    directory.Policy
}

var _ directory.Directory = (*DB)(nil)

// busyTimeoutMS is how long a statement waits for another process's write
// (the CLI and the server share the file) before failing with SQLITE_BUSY.
const busyTimeoutMS = 10000

// Open opens (creating if needed) the directory database at path and brings
// its schema up to date.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		// The driver reads everything after '?' as DSN parameters.
		return nil, fmt.Errorf("open directory %q: path must be a plain file name without '?' or '#'", path)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	// FULL: a committed account or password change survives power loss.
	q.Add("_pragma", "synchronous(FULL)")
	// BEGIN IMMEDIATE for write transactions: a deferred transaction that
	// reads then writes can fail with SQLITE_BUSY at once, busy_timeout or
	// not, when another process wrote in between.
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open directory %s: %w", path, err)
	}
	d := &DB{db: db, mailstore: opts.DefaultMailstore, policy: opts.Policy}
	if d.mailstore == "" {
		d.mailstore = directory.DefaultMailstore
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open directory %s: %w", path, err)
	}
	return d, nil
}

// Close closes the database.
func (d *DB) Close() error {
	return d.db.Close()
}

// write runs fn in a write (BEGIN IMMEDIATE) transaction.
func (d *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return d.inTx(ctx, nil, fn)
}

// read runs fn in a read transaction: one consistent snapshot that does not
// block writers (WAL).
func (d *DB) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return d.inTx(ctx, &sql.TxOptions{ReadOnly: true}, fn)
}

func (d *DB) inTx(ctx context.Context, opts *sql.TxOptions, fn func(tx *sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, rollback(tx))
	}
	return tx.Commit()
}

func rollback(tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	return nil
}

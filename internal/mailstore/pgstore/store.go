// Package pgstore is the scaled mailstore engine: metadata in PostgreSQL
// (pgx v5), message bodies in a blob.Store (fsblob or an S3 engine).
//
// Many stores may share one database: each lives in its own schema,
// created and migrated by Open, and every connection of the store's pool
// has that schema as its search_path. Several processes may open the same
// store: UIDs and MODSEQs are allocated under the mailbox row's lock
// inside each write transaction (write.go), so writers on any node stay
// correct without coordination in Go.
//
// mailstore.ErrNoSpace comes only from the blob store here: a full disk
// under PostgreSQL is the database server's condition and surfaces as its
// own error, which callers treat as temporary like any database failure.
// The search_path is sent at connection start, so a transaction-pooling
// proxy (PgBouncer) that does not keep it per client is not supported.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rookery-mail/rookery/internal/blob"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/pglisten"
	"github.com/rookery-mail/rookery/internal/pgschema"
)

var _ mailstore.Store = (*Store)(nil)

// staleTxTimeout ends the session of a fenced store's transaction left
// idle this long.
const staleTxTimeout = 5 * time.Second

// Options configures Open.
type Options struct {
	Name string // the mailstore's name in the directory
	DSN  string // a pgx connection string (URL or key=value)
	// Schema is the PostgreSQL schema holding this store's tables;
	// "" means "store_" + Name. Stores sharing a database need distinct
	// schemas.
	Schema string
	Blobs  blob.Store // message bodies
	// Hub receives this store's changes; with one, Open also listens for
	// the changes other processes commit (notify.go). nil: a private hub
	// and no listener (admin commands).
	Hub    *mailstore.Hub
	Logger *slog.Logger

	// MaxConns bounds the connection pool; 0 means pgxpool's default.
	MaxConns int32

	// TextExtractor and TextFold define the text SEARCH BODY/TEXT match
	// and its case folding, as for sqlitestore (the server passes
	// imapmsg.SearchText and imapmsg.Fold). Set both to keep the
	// full-text index and the header cache; without them SearchText says
	// ErrNoIndex.
	TextExtractor func(raw []byte) (header, body string)
	TextFold      func(s string) string
	// SentDate parses a header section's Date field for the sort key;
	// without it Message.Sent is the internal date once indexed.
	SentDate func(header []byte) (time.Time, bool)
	// MaxMailboxes bounds the mailboxes of one account; 0 means
	// mailstore.DefaultMaxMailboxes.
	MaxMailboxes int

	// Fence, when set, makes every write check this node's lease on the
	// store first (fence.go); nil writes unchecked (a single node, the
	// admin CLI).
	Fence *Fence

	// listenIdle overrides pglisten.DefaultIdle in tests.
	listenIdle time.Duration
}

// Store is a mailstore.Store on PostgreSQL.
type Store struct {
	name   string
	schema string
	pool   *pgxpool.Pool
	blobs  blob.Store
	hub    *mailstore.Hub
	log    *slog.Logger
	text   *textIndex // nil: no full-text index

	maxMailboxes int // per account

	fence    *fence             // nil: writes unchecked
	channel  string             // LISTEN/NOTIFY channel of changes (notify.go)
	listener *pglisten.Listener // nil: opened without a Hub
	ownPIDs  pidSet             // the pool's connections, whose notifications the listener skips
}

// maxIdentBytes is PostgreSQL's identifier length (NAMEDATALEN - 1).
const maxIdentBytes = 63

// Open connects, creates the store's schema if needed and migrates it.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.DSN == "" {
		return nil, errors.New("pgstore: Options.DSN is required")
	}
	if opts.Blobs == nil {
		return nil, errors.New("pgstore: Options.Blobs is required")
	}
	if (opts.TextExtractor == nil) != (opts.TextFold == nil) {
		return nil, errors.New("pgstore: Options.TextExtractor and TextFold go together")
	}
	schema := opts.Schema
	if schema == "" {
		schema = "store_" + opts.Name
	}
	// PostgreSQL truncates longer identifiers silently, which could put
	// two stores in one schema.
	if len(schema) > maxIdentBytes {
		return nil, fmt.Errorf("pgstore: schema name %q is longer than %d bytes", schema, maxIdentBytes)
	}
	s := &Store{name: opts.Name, schema: schema, blobs: opts.Blobs, hub: opts.Hub, log: opts.Logger,
		maxMailboxes: opts.MaxMailboxes, channel: notifyChannel(schema)}
	if opts.Fence != nil {
		f, err := newFence(opts.Fence)
		if err != nil {
			return nil, err
		}
		s.fence = f
	}
	if s.maxMailboxes <= 0 {
		s.maxMailboxes = mailstore.DefaultMaxMailboxes
	}
	if s.hub == nil {
		s.hub = mailstore.NewHub()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("mailstore", opts.Name)
	if opts.TextExtractor != nil {
		s.text = &textIndex{extract: opts.TextExtractor, fold: opts.TextFold, sent: opts.SentDate}
	}

	cfg, err := pgxpool.ParseConfig(opts.DSN)
	if err != nil {
		return nil, fmt.Errorf("pgstore %s: parse DSN: %w", opts.Name, err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	// Every statement names tables unqualified; the schema comes from
	// the connection. pg_catalog is always searched first.
	cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	if opts.Fence != nil {
		// A holder frozen inside a write transaction (SIGSTOP, a VM
		// pause) keeps its row locks until its session ends, holding up
		// the next holder's writes to those mailboxes; the server ends
		// such a session. No write idles between its statements for
		// anywhere near this long.
		cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.Itoa(int(staleTxTimeout / time.Millisecond))
	}
	s.ownPIDs.track(cfg)
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("pgstore %s: connect: %w", opts.Name, err)
	}
	if err := pgschema.Migrate(ctx, s.pool, schema, migrations, prepareTrgm); err != nil {
		s.pool.Close()
		return nil, fmt.Errorf("pgstore %s: schema %s: %w", opts.Name, schema, err)
	}
	if opts.Hub != nil {
		if err := s.startListener(ctx, cfg.ConnConfig, opts.listenIdle); err != nil {
			s.pool.Close()
			return nil, fmt.Errorf("pgstore %s: %w", opts.Name, err)
		}
	}
	s.log.Debug("mailstore opened", "schema", schema)
	return s, nil
}

// Name is the mailstore's name in the directory.
func (s *Store) Name() string { return s.name }

// Close stops the change listener and closes the connection pool. It
// does not close the blob store, which the caller owns.
func (s *Store) Close() error {
	if s.listener != nil {
		s.listener.Close()
	}
	s.pool.Close()
	return nil
}

// Watch delegates to the hub; every commit in this process notifies the
// changed mailboxes, and with a Hub in Options so do commits of other
// processes, through LISTEN/NOTIFY (notify.go).
func (s *Store) Watch(user string, mailboxID int64) (<-chan struct{}, func()) {
	return s.hub.Watch(user, mailboxID)
}

// OpenBlob returns a message body by its BlobID, or an error wrapping
// mailstore.ErrBlobMissing if the blob store has none.
func (s *Store) OpenBlob(ctx context.Context, blobID string) (io.ReadCloser, error) {
	return mailstore.OpenBlob(ctx, s.blobs, blobID)
}

// querier is what *pgxpool.Pool and pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// read runs fn in a read-only REPEATABLE READ transaction: one snapshot
// for every query of a read that must be consistent (Changes, Status).
func (s *Store) read(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// likeContains is the LIKE pattern matching s anywhere, with LIKE's
// wildcards and its default escape character escaped.
func likeContains(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// Package sqlitestore is the embedded mailstore engine: metadata in one
// SQLite database per mailstore, message bodies in a blob.Store.
//
// Writes go through a single connection that opens every transaction with
// BEGIN IMMEDIATE, so writers in this process queue in Go instead of
// failing with SQLITE_BUSY, and writers in other processes (the admin CLI)
// wait on busy_timeout. Reads use a separate pool; in WAL mode they never
// block the writer.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // registers driver "sqlite"

	"github.com/rookery-mail/rookery/internal/blob"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

var _ mailstore.Store = (*Store)(nil)

// Options configures Open.
type Options struct {
	Name   string     // the mailstore's name in the directory
	Path   string     // the SQLite database file
	Blobs  blob.Store // message bodies
	Hub    *mailstore.Hub
	Logger *slog.Logger

	// ReadConns is the size of the read pool; 0 means 4.
	ReadConns int

	// TextExtractor and TextFold define the text SEARCH BODY/TEXT match
	// and its case folding (the server passes imapmsg.SearchText and
	// imapmsg.Fold; this engine must not import the IMAP code). Set both
	// to keep the full-text index; without them SearchText says ErrNoIndex.
	TextExtractor func(raw []byte) (header, body string)
	TextFold      func(s string) string
	// SentDate parses a header section's Date field for the sort key
	// (the server passes imapmsg.SentDate); without it Message.Sent is
	// the internal date once indexed.
	SentDate func(header []byte) (time.Time, bool)
	// MaxMailboxes bounds the mailboxes of one account; 0 means
	// mailstore.DefaultMaxMailboxes.
	MaxMailboxes int
	// Pause, when set, reports that background work should wait: the
	// server passes its free-space monitor, so below the reserve the
	// full-text indexer leaves the space to deliveries (fts.go).
	Pause func() bool
}

// Store is a mailstore.Store on SQLite.
type Store struct {
	name   string
	wdb    *sql.DB // one connection: writes serialize here
	rdb    *sql.DB // read pool
	wcache stmtCache
	rcache stmtCache
	blobs  blob.Store
	hub    *mailstore.Hub
	log    *slog.Logger
	text   *textIndex // nil: no full-text index

	maxMailboxes int // per account
}

// busyTimeoutMS is how long a write waits for another process's write
// transaction before SQLITE_BUSY.
const busyTimeoutMS = 10000

func dsn(path string, write bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busyTimeoutMS))
	q.Set("_foreign_keys", "1")
	q.Set("_synchronous", "FULL")
	if write {
		q.Set("_journal_mode", "WAL")
		q.Set("_txlock", "immediate")
	} else {
		q.Set("_query_only", "1")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating and migrating if needed) the mailstore database.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Path == "" {
		return nil, errors.New("sqlitestore: Options.Path is required")
	}
	if opts.Blobs == nil {
		return nil, errors.New("sqlitestore: Options.Blobs is required")
	}
	if (opts.TextExtractor == nil) != (opts.TextFold == nil) {
		return nil, errors.New("sqlitestore: Options.TextExtractor and TextFold go together")
	}
	s := &Store{name: opts.Name, blobs: opts.Blobs, hub: opts.Hub, log: opts.Logger, maxMailboxes: opts.MaxMailboxes}
	if s.maxMailboxes <= 0 {
		s.maxMailboxes = mailstore.DefaultMaxMailboxes
	}
	if s.hub == nil {
		s.hub = mailstore.NewHub()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if opts.TextExtractor != nil {
		s.text = &textIndex{extract: opts.TextExtractor, fold: opts.TextFold, sent: opts.SentDate, pause: opts.Pause}
	}
	s.log = s.log.With("mailstore", opts.Name)

	var err error
	if s.wdb, err = sql.Open("sqlite", dsn(opts.Path, true)); err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", opts.Path, err)
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	s.wdb.SetConnMaxIdleTime(0)
	// Migrate before opening readers: WAL mode is set by the write
	// connection and query_only readers could not create the file.
	if err := migrate(ctx, s.wdb); err != nil {
		s.wdb.Close()
		return nil, fmt.Errorf("sqlitestore: %s: %w", opts.Path, err)
	}
	if s.rdb, err = sql.Open("sqlite", dsn(opts.Path, false)); err != nil {
		s.wdb.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", opts.Path, err)
	}
	n := opts.ReadConns
	if n <= 0 {
		n = 4
	}
	s.rdb.SetMaxOpenConns(n)
	s.rdb.SetMaxIdleConns(n)
	if s.wcache, err = newStmtCache(ctx, s.wdb, hotQueries); err == nil {
		s.rcache, err = newStmtCache(ctx, s.rdb, hotQueries)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: prepare: %w", opts.Path, err)
	}
	if s.text != nil {
		s.startIndexer()
	}
	s.log.Debug("mailstore opened", "path", opts.Path)
	return s, nil
}

// Name is the mailstore's name in the directory.
func (s *Store) Name() string { return s.name }

// Close closes the database. It does not close the blob store, which the
// caller owns.
func (s *Store) Close() error {
	s.stopIndexer()
	s.wcache.close()
	s.rcache.close()
	err := s.rdb.Close()
	if werr := s.wdb.Close(); err == nil {
		err = werr
	}
	return err
}

// Watch delegates to the hub; every commit notifies the changed mailboxes.
func (s *Store) Watch(user string, mailboxID int64) (<-chan struct{}, func()) {
	return s.hub.Watch(user, mailboxID)
}

// OpenBlob returns a message body by its BlobID, or an error wrapping
// mailstore.ErrBlobMissing if the blob store has none.
func (s *Store) OpenBlob(ctx context.Context, blobID string) (io.ReadCloser, error) {
	return mailstore.OpenBlob(ctx, s.blobs, blobID)
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Package engine opens the storage engines a config names: the directory,
// each mailstore with its blob store, and the queue. It is the one place
// that maps config to engine, used by `serve`, every admin command, `check`,
// `quickstart` and `backup`, so they always open the same data.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/rookery-mail/rookery/internal/blob"
	"github.com/rookery-mail/rookery/internal/blob/fsblob"
	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/directory/sqlitedir"
	"github.com/rookery-mail/rookery/internal/imap/imapmsg"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/mailstore/sqlitestore"
	"github.com/rookery-mail/rookery/internal/queue"
	"github.com/rookery-mail/rookery/internal/queue/sqlitequeue"
)

// ErrUnknownStore: the config lists no mailstore of that name, so this
// node cannot open it (an account placed there is served elsewhere, or
// the name is wrong).
var ErrUnknownStore = errors.New("mailstore not configured on this node")

// Directory opens the configured directory.
func Directory(ctx context.Context, cfg *config.Config) (directory.Directory, error) {
	switch cfg.Directory.Engine {
	case config.EngineSQLite:
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		return sqlitedir.Open(ctx, filepath.Join(cfg.DataDir, "directory.db"), sqlitedir.Options{
			DefaultMailstore: cfg.Mailstores[0].Name, Policy: directory.Policy{Postmaster: cfg.Postmaster}})
	case config.EnginePostgres:
		return openPostgresDirectory(ctx, cfg)
	}
	return nil, fmt.Errorf("directory: unknown engine %q", cfg.Directory.Engine)
}

// StoreOptions are what a running node adds to a mailstore's config.
type StoreOptions struct {
	// Hub receives the store's change signals; a PostgreSQL store given
	// one also listens for other nodes' changes. nil: a private one and no
	// listener (admin commands).
	Hub    *mailstore.Hub
	Logger *slog.Logger // nil discards
	// Pause, when set, pauses the store's background work (the server
	// passes its free-space monitor).
	Pause func() bool

	// Fence, when set, returns this node's lease on the named store, and
	// every write of a PostgreSQL store checks it in FenceTable first
	// (pgstore.Fence). SQLite stores ignore both: one process owns the
	// file, so there is no other node to fence off.
	Fence      func(store string) (holder string, epoch int64, ok bool)
	FenceTable string
}

// Mailstore opens the mailstore called name, with its blob store.
func Mailstore(ctx context.Context, cfg *config.Config, name string, opts StoreOptions) (mailstore.Store, error) {
	m, ok := cfg.MailstoreEngineOf(name)
	if !ok {
		return nil, fmt.Errorf("mailstore %q: %w (this node has %v)", name, ErrUnknownStore, cfg.StoreNames())
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	blobs, err := openBlobs(ctx, cfg, m, opts.Logger)
	if err != nil {
		return nil, fmt.Errorf("mailstore %q: %w", name, err)
	}
	switch m.Engine {
	case config.EngineSQLite:
		dir := filepath.Join(cfg.DataDir, "mailstores", name)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, err
		}
		return sqlitestore.Open(ctx, sqlitestore.Options{Name: name, Path: filepath.Join(dir, "store.db"), Blobs: blobs,
			Hub: opts.Hub, Logger: opts.Logger, TextExtractor: imapmsg.SearchText, TextFold: imapmsg.Fold,
			SentDate: imapmsg.SentDate, MaxMailboxes: cfg.Mailstore.MaxMailboxes, Pause: opts.Pause})
	case config.EnginePostgres:
		return openPostgresStore(ctx, cfg, m, blobs, opts)
	}
	return nil, fmt.Errorf("mailstore %q: unknown engine %q", name, m.Engine)
}

// openBlobs opens the blob store of mailstore m.
func openBlobs(ctx context.Context, cfg *config.Config, m config.MailstoreEngine, log *slog.Logger) (blob.Store, error) {
	loc, err := cfg.Blobs(m)
	if err != nil {
		return nil, err
	}
	var st blob.Store
	if loc.Bucket != "" {
		st, err = openS3(ctx, cfg, loc, log)
	} else {
		st, err = fsblob.Open(loc.Dir)
	}
	if err != nil {
		return nil, err // not a typed nil in a non-nil interface
	}
	return st, nil
}

// Queue opens the configured queue.
func Queue(ctx context.Context, cfg *config.Config) (queue.Store, error) {
	switch cfg.Queue.Engine {
	case config.EngineSQLite:
		dir := filepath.Join(cfg.DataDir, "queue")
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, err
		}
		return sqlitequeue.Open(ctx, filepath.Join(dir, "queue.db"))
	case config.EnginePostgres:
		return openPostgresQueue(ctx, cfg)
	}
	return nil, fmt.Errorf("queue: unknown engine %q", cfg.Queue.Engine)
}

// Stores opens every mailstore the config lists, closing what it opened
// if one fails.
func Stores(ctx context.Context, cfg *config.Config, opts StoreOptions) (map[string]mailstore.Store, error) {
	stores := map[string]mailstore.Store{}
	for _, name := range cfg.StoreNames() {
		s, err := Mailstore(ctx, cfg, name, opts)
		if err != nil {
			for _, o := range stores {
				o.Close()
			}
			return nil, err
		}
		stores[name] = s
	}
	return stores, nil
}

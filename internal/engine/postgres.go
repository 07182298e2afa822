package engine

import (
	"context"
	"log/slog"

	"github.com/rookery-mail/rookery/internal/blob"
	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/directory/pgdir"
	"github.com/rookery-mail/rookery/internal/imap/imapmsg"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/mailstore/pgstore"
	"github.com/rookery-mail/rookery/internal/queue"
	"github.com/rookery-mail/rookery/internal/queue/pgqueue"
)

func openPostgresDirectory(ctx context.Context, cfg *config.Config) (directory.Directory, error) {
	d, err := pgdir.Open(ctx, pgdir.Options{DSN: cfg.Directory.DSN, Schema: cfg.Directory.Schema,
		DefaultMailstore: cfg.Mailstores[0].Name, Policy: directory.Policy{Postmaster: cfg.Postmaster}})
	if err != nil {
		return nil, err
	}
	return d, nil
}

func openPostgresStore(ctx context.Context, cfg *config.Config, m config.MailstoreEngine, blobs blob.Store, opts StoreOptions) (mailstore.Store, error) {
	var fence *pgstore.Fence
	if opts.Fence != nil {
		fence = &pgstore.Fence{Table: opts.FenceTable, Token: func() (string, int64, bool) { return opts.Fence(m.Name) }}
	}
	st, err := pgstore.Open(ctx, pgstore.Options{Name: m.Name, DSN: m.DSN, Schema: m.Schema, Blobs: blobs, Hub: opts.Hub,
		Logger: opts.Logger, TextExtractor: imapmsg.SearchText, TextFold: imapmsg.Fold, SentDate: imapmsg.SentDate,
		MaxMailboxes: cfg.Mailstore.MaxMailboxes, Fence: fence})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// openPostgresQueue opens the shared queue; its bodies live in S3 under
// [queue] bodies, where every node can read them.
func openPostgresQueue(ctx context.Context, cfg *config.Config) (queue.Store, error) {
	loc, err := config.ParseBlobs(cfg.Queue.Bodies, cfg.Path)
	if err != nil {
		return nil, err
	}
	bodies, err := openS3(ctx, cfg, loc, slog.Default())
	if err != nil {
		return nil, err
	}
	q, err := pgqueue.Open(ctx, pgqueue.Options{DSN: cfg.Queue.DSN, Schema: cfg.Queue.Schema, Bodies: bodies})
	if err != nil {
		return nil, err
	}
	return q, nil
}

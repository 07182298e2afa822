package engine

import (
	"context"
	"errors"

	"github.com/rookery-mail/rookery/internal/blob"
	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/imap/imapmsg"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/mailstore/pgstore"
	"github.com/rookery-mail/rookery/internal/queue"
)

// errNotYet: the scaled-out engines are being built (issue #9); config
// accepts them so the layout is settled, and opening one says so plainly.
var errNotYet = errors.New("engine not available in this build yet")

func openPostgresDirectory(ctx context.Context, cfg *config.Config) (directory.Directory, error) {
	return nil, errNotYet
}

func openPostgresStore(ctx context.Context, cfg *config.Config, m config.MailstoreEngine, blobs blob.Store, opts StoreOptions) (mailstore.Store, error) {
	st, err := pgstore.Open(ctx, pgstore.Options{Name: m.Name, DSN: m.DSN, Schema: m.Schema, Blobs: blobs, Hub: opts.Hub,
		Logger: opts.Logger, TextExtractor: imapmsg.SearchText, TextFold: imapmsg.Fold, SentDate: imapmsg.SentDate,
		MaxMailboxes: cfg.Mailstore.MaxMailboxes})
	if err != nil {
		return nil, err
	}
	return st, nil
}

func openPostgresQueue(ctx context.Context, cfg *config.Config) (queue.Store, error) {
	return nil, errNotYet
}

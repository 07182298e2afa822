package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// Usage (accounts.used_storage, used_messages) is kept by the triggers of
// migration 1 in the transaction that inserts or deletes a message row;
// Move is an UPDATE and changes nothing. This file sets limits and
// enforces them before inserts.

// SetQuota sets the account's limits (0 = unlimited).
func (s *Store) SetQuota(ctx context.Context, user string, storageLimit, messageLimit int64) error {
	if storageLimit < 0 || messageLimit < 0 {
		return fmt.Errorf("set quota of %q: negative limit", user)
	}
	return s.write(ctx, "set quota", func(w *writeTx) error {
		tag, err := w.tx.Exec(ctx, `UPDATE accounts SET quota_storage = $1, quota_messages = $2 WHERE name = $3`,
			storageLimit, messageLimit, user)
		if err != nil {
			return fmt.Errorf("account %q: %w", user, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("account %q: %w", user, mailstore.ErrNoAccount)
		}
		return nil
	})
}

// Quota reports the account's limits and usage.
func (s *Store) Quota(ctx context.Context, user string) (mailstore.Quota, error) {
	q, err := readQuota(ctx, s.pool, user, "")
	if err != nil {
		return q, fmt.Errorf("quota: %w", err)
	}
	return q, nil
}

// readQuota reads the account's quota row, with suffix (FOR UPDATE) added
// to the query.
func readQuota(ctx context.Context, q querier, user, suffix string) (mailstore.Quota, error) {
	var qt mailstore.Quota
	err := q.QueryRow(ctx, `SELECT quota_storage, quota_messages, used_storage, used_messages
		FROM accounts WHERE name = $1`+suffix, user).
		Scan(&qt.StorageLimit, &qt.MessageLimit, &qt.StorageUsed, &qt.MessagesUsed)
	if errors.Is(err, pgx.ErrNoRows) {
		return qt, fmt.Errorf("account %q: %w", user, mailstore.ErrNoAccount)
	}
	if err != nil {
		return qt, fmt.Errorf("account %q: %w", user, err)
	}
	return qt, nil
}

// checkQuota fails with ErrOverQuota when adding messages totalling bytes
// to user's account would exceed a limit. It locks the account row, so
// the usage it reads cannot change before this transaction commits (two
// nodes delivering to one account cannot both take the last byte), and
// earlier inserts of the same transaction count.
func (w *writeTx) checkQuota(ctx context.Context, user string, bytes, messages int64) error {
	q, err := readQuota(ctx, w.tx, user, " FOR UPDATE")
	if err != nil {
		return err
	}
	if q.StorageLimit > 0 && q.StorageUsed+bytes > q.StorageLimit {
		return fmt.Errorf("%q: %d+%d bytes > %d: %w", user, q.StorageUsed, bytes, q.StorageLimit, mailstore.ErrOverQuota)
	}
	if q.MessageLimit > 0 && q.MessagesUsed+messages > q.MessageLimit {
		return fmt.Errorf("%q: %d+%d messages > %d: %w", user, q.MessagesUsed, messages, q.MessageLimit, mailstore.ErrOverQuota)
	}
	return nil
}

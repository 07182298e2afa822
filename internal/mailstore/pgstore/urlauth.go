package pgstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// urlAuthKeySize is the mailbox access key length: RFC 4467 §7 asks for at
// least 128 bits; 256 matches the HMAC-SHA256 the IMAP role uses.
const urlAuthKeySize = 32

// URLAuthKey returns the mailbox's URLAUTH key, creating it on first use
// (mailstore.Store.URLAuthKey). Two nodes creating it at once agree: the
// insert does nothing on conflict and both read the row that won.
func (s *Store) URLAuthKey(ctx context.Context, user string, mailboxID int64) ([]byte, error) {
	var key []byte
	read := func(q querier) error {
		if _, err := ownedMailbox(ctx, q, user, mailboxID); err != nil {
			return err
		}
		err := q.QueryRow(ctx, `SELECT key FROM urlauth_keys WHERE mailbox_id = $1`, mailboxID).Scan(&key)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	}
	if err := read(s.pool); err != nil {
		return nil, fmt.Errorf("urlauth key: %w", err)
	}
	if key != nil {
		return key, nil
	}
	err := s.write(ctx, "urlauth key", func(w *writeTx) error {
		if err := w.keepMailbox(ctx, user, mailboxID); err != nil {
			return err
		}
		fresh := make([]byte, urlAuthKeySize)
		rand.Read(fresh)
		if _, err := w.tx.Exec(ctx, `INSERT INTO urlauth_keys (mailbox_id, key) VALUES ($1, $2)
			ON CONFLICT (mailbox_id) DO NOTHING`, mailboxID, fresh); err != nil {
			return err
		}
		return w.tx.QueryRow(ctx, `SELECT key FROM urlauth_keys WHERE mailbox_id = $1`, mailboxID).Scan(&key)
	})
	if err != nil {
		return nil, err
	}
	return key, nil
}

// ResetURLAuthKeys drops the mailbox's key, or all of user's keys when
// mailboxID is 0 (mailstore.Store.ResetURLAuthKeys); URLAuthKey then makes
// a new one.
func (s *Store) ResetURLAuthKeys(ctx context.Context, user string, mailboxID int64) error {
	return s.write(ctx, "reset urlauth keys", func(w *writeTx) error {
		if mailboxID != 0 {
			if _, err := ownedMailbox(ctx, w.tx, user, mailboxID); err != nil {
				return err
			}
			_, err := w.tx.Exec(ctx, `DELETE FROM urlauth_keys WHERE mailbox_id = $1`, mailboxID)
			return err
		}
		acct, err := accountID(ctx, w.tx, user)
		if err != nil {
			return err
		}
		_, err = w.tx.Exec(ctx, `DELETE FROM urlauth_keys WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE account_id = $1)`, acct)
		return err
	})
}

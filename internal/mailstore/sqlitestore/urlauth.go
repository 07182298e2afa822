package sqlitestore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
)

// urlAuthKeySize is the mailbox access key length: RFC 4467 §7 asks for at
// least 128 bits; 256 matches the HMAC-SHA256 the IMAP role uses.
const urlAuthKeySize = 32

// URLAuthKey returns the mailbox's URLAUTH key, creating it on first use
// (mailstore.Store.URLAuthKey). The key is stored with the mailbox, so
// URLs stay valid across restarts.
func (s *Store) URLAuthKey(ctx context.Context, user string, mailboxID int64) ([]byte, error) {
	var key []byte
	read := func(q querier) error {
		if _, err := ownedMailbox(ctx, q, user, mailboxID); err != nil {
			return err
		}
		err := q.QueryRowContext(ctx, `SELECT key FROM urlauth_keys WHERE mailbox_id = ?`, mailboxID).Scan(&key)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	}
	tx, err := s.readTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("urlauth key: %w", err)
	}
	err = read(tx)
	tx.Rollback()
	if err != nil {
		return nil, fmt.Errorf("urlauth key: %w", err)
	}
	if key != nil {
		return key, nil
	}
	err = s.write(ctx, "urlauth key", func(w *writeTx) error {
		if err := read(w.tx); err != nil || key != nil {
			return err // another writer made it first: use theirs
		}
		key = make([]byte, urlAuthKeySize)
		rand.Read(key)
		_, err := w.tx.ExecContext(ctx, `INSERT INTO urlauth_keys (mailbox_id, key) VALUES (?, ?)`, mailboxID, key)
		return err
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
			_, err := w.tx.ExecContext(ctx, `DELETE FROM urlauth_keys WHERE mailbox_id = ?`, mailboxID)
			return err
		}
		acct, err := accountID(ctx, w.tx, user)
		if err != nil {
			return err
		}
		_, err = w.tx.ExecContext(ctx, `DELETE FROM urlauth_keys WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE account_id = ?)`, acct)
		return err
	})
}

package sqlitestore

import (
	"context"
	"fmt"
)

// ClaimRecent moves the mailbox's recent_uid mark up to upTo and returns
// the mark before (mailstore.Store.ClaimRecent). The write transaction
// serializes claimers, so each UID is handed out once.
func (s *Store) ClaimRecent(ctx context.Context, user string, mailboxID int64, upTo uint32) (uint32, error) {
	var from uint32
	read := func(q querier) error {
		if _, err := ownedMailbox(ctx, q, user, mailboxID); err != nil {
			return err
		}
		if err := q.QueryRowContext(ctx, `SELECT recent_uid FROM mailboxes WHERE id = ?`, mailboxID).Scan(&from); err != nil {
			return fmt.Errorf("read recent mark of mailbox %d: %w", mailboxID, err)
		}
		return nil
	}
	// Most calls find nothing left to claim: answer those without the
	// write lock.
	tx, err := s.readTx(ctx)
	if err != nil {
		return 0, fmt.Errorf("recent: %w", err)
	}
	err = read(tx)
	tx.Rollback()
	if err != nil {
		return 0, fmt.Errorf("recent: %w", err)
	}
	if upTo <= from {
		return from, nil
	}
	err = s.write(ctx, "claim recent", func(w *writeTx) error {
		if err := read(w.tx); err != nil {
			return err
		}
		if upTo <= from {
			return nil
		}
		_, err := w.tx.ExecContext(ctx, `UPDATE mailboxes SET recent_uid = ? WHERE id = ?`, upTo, mailboxID)
		return err
	})
	return from, err
}

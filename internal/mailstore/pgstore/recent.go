package pgstore

import (
	"context"
	"fmt"
)

// ClaimRecent moves the mailbox's recent_uid mark up to upTo and returns
// the mark before (mailstore.Store.ClaimRecent). The mailbox's row lock,
// taken before the mark is read again, serializes claimers on every node,
// so each UID is handed out once.
func (s *Store) ClaimRecent(ctx context.Context, user string, mailboxID int64, upTo uint32) (uint32, error) {
	var from uint32
	read := func(q querier) error {
		if _, err := ownedMailbox(ctx, q, user, mailboxID); err != nil {
			return err
		}
		if err := q.QueryRow(ctx, `SELECT recent_uid FROM mailboxes WHERE id = $1`, mailboxID).Scan(&from); err != nil {
			return fmt.Errorf("read recent mark of mailbox %d: %w", mailboxID, err)
		}
		return nil
	}
	// Most calls find nothing left to claim: answer those without a lock.
	if err := read(s.pool); err != nil {
		return 0, fmt.Errorf("recent: %w", err)
	}
	if upTo <= from {
		return from, nil
	}
	err := s.write(ctx, "claim recent", func(w *writeTx) error {
		if _, err := w.lock(ctx, user, mailboxID); err != nil {
			return err // deleted meanwhile
		}
		if err := read(w.tx); err != nil {
			return err
		}
		if upTo <= from {
			return nil
		}
		_, err := w.tx.Exec(ctx, `UPDATE mailboxes SET recent_uid = $1 WHERE id = $2`, upTo, mailboxID)
		return err
	})
	return from, err
}

package sqlitestore

import (
	"context"
	"errors"
	"fmt"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// EnsureAccount creates the account with the default mailboxes (subscribed,
// with their SPECIAL-USE attributes) if it does not exist. Account names are
// stored exactly as given; the directory decides their canonical form.
func (s *Store) EnsureAccount(ctx context.Context, user string) error {
	if user == "" {
		return errors.New("ensure account: empty user name")
	}
	// Fast path without the write lock: most calls find the account.
	if tx, err := s.readTx(ctx); err == nil {
		_, err = accountID(ctx, tx, user)
		tx.Rollback()
		if err == nil {
			return nil
		}
	}
	return s.write(ctx, "ensure account", func(w *writeTx) error {
		res, err := w.tx.ExecContext(ctx, `INSERT INTO accounts (name) VALUES (?) ON CONFLICT (name) DO NOTHING`, user)
		if err != nil {
			return fmt.Errorf("insert account %q: %w", user, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // created concurrently
		}
		acct, err := accountID(ctx, w.tx, user)
		if err != nil {
			return err
		}
		for _, d := range mailstore.DefaultMailboxes {
			if _, err := w.createMailbox(ctx, acct, d.Name, d.SpecialUse, true); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteAccount removes the account, its mailboxes and messages. Bodies
// become garbage for CollectGarbage.
func (s *Store) DeleteAccount(ctx context.Context, user string) error {
	return s.write(ctx, "delete account", func(w *writeTx) error {
		acct, err := accountID(ctx, w.tx, user)
		if err != nil {
			return err
		}
		rows, err := w.tx.QueryContext(ctx, `SELECT id FROM mailboxes WHERE account_id = ?`, acct)
		if err != nil {
			return fmt.Errorf("list mailboxes: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			w.notify = append(w.notify, watchKey{user, id})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if _, err := w.tx.ExecContext(ctx, `DELETE FROM accounts WHERE id = ?`, acct); err != nil {
			return fmt.Errorf("delete account %q: %w", user, err)
		}
		return nil
	})
}

package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// EnsureAccount creates the account with the default mailboxes (subscribed,
// with their SPECIAL-USE attributes) if it does not exist. A concurrent
// call, here or in another process, waits on the name's unique index and
// then finds the account made.
func (s *Store) EnsureAccount(ctx context.Context, user string) error {
	if user == "" {
		return errors.New("ensure account: empty user name")
	}
	if _, err := accountID(ctx, s.pool, user); err == nil {
		return nil
	}
	return s.write(ctx, "ensure account", func(w *writeTx) error {
		var acct int64
		err := w.tx.QueryRow(ctx, `INSERT INTO accounts (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id`,
			user).Scan(&acct)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // created concurrently
		}
		if err != nil {
			return fmt.Errorf("insert account %q: %w", user, err)
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
// become garbage for CollectGarbage (the messages_deleted trigger).
func (s *Store) DeleteAccount(ctx context.Context, user string) error {
	return s.write(ctx, "delete account", func(w *writeTx) error {
		w.notify = nil
		acct, err := accountID(ctx, w.tx, user)
		if err != nil {
			return err
		}
		rows, _ := w.tx.Query(ctx, `SELECT id FROM mailboxes WHERE account_id = $1`, acct)
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("list mailboxes: %w", err)
		}
		for _, id := range ids {
			w.notify = append(w.notify, watchKey{user, id})
		}
		if _, err := w.tx.Exec(ctx, `DELETE FROM accounts WHERE id = $1`, acct); err != nil {
			return fmt.Errorf("delete account %q: %w", user, err)
		}
		return nil
	})
}

package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

const mailboxCols = `id, object_id, name, special_use, ` + subscribedCol + `, uidvalidity, uidnext, highestmodseq`

// subscribedCol reads MailboxInfo.Subscribed in a query on mailboxes.
const subscribedCol = `EXISTS (SELECT 1 FROM subscriptions s WHERE s.account_id = mailboxes.account_id AND s.name = mailboxes.name)`

func scanMailbox(sc interface{ Scan(...any) error }) (mailstore.MailboxInfo, error) {
	var mb mailstore.MailboxInfo
	err := sc.Scan(&mb.ID, &mb.ObjectID, &mb.Name, &mb.SpecialUse, &mb.Subscribed, &mb.UIDValidity, &mb.UIDNext, &mb.HighestModSeq)
	return mb, err
}

// Mailboxes lists the account's mailboxes by name.
func (s *Store) Mailboxes(ctx context.Context, user string) ([]mailstore.MailboxInfo, error) {
	tx, err := s.readTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("list mailboxes: %w", err)
	}
	defer tx.Rollback()
	acct, err := accountID(ctx, tx, user)
	if err != nil {
		return nil, fmt.Errorf("list mailboxes: %w", err)
	}
	rows, err := tx.QueryContext(ctx, qMailboxList, acct)
	if err != nil {
		return nil, fmt.Errorf("list mailboxes of %q: %w", user, err)
	}
	defer rows.Close()
	var out []mailstore.MailboxInfo
	for rows.Next() {
		mb, err := scanMailbox(rows)
		if err != nil {
			return nil, fmt.Errorf("list mailboxes of %q: %w", user, err)
		}
		out = append(out, mb)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list mailboxes of %q: %w", user, err)
	}
	return out, nil
}

// Mailbox finds a mailbox by name (INBOX case-insensitively).
func (s *Store) Mailbox(ctx context.Context, user, name string) (mailstore.MailboxInfo, error) {
	tx, err := s.readTx(ctx)
	if err != nil {
		return mailstore.MailboxInfo{}, fmt.Errorf("mailbox: %w", err)
	}
	defer tx.Rollback()
	mb, err := mailboxByName(ctx, tx, user, name)
	if err != nil {
		return mailstore.MailboxInfo{}, fmt.Errorf("mailbox: %w", err)
	}
	return mb, nil
}

// mailboxByName returns ErrNoAccount, ErrInvalidName or ErrNoMailbox.
func mailboxByName(ctx context.Context, q querier, user, name string) (mailstore.MailboxInfo, error) {
	norm, err := mailstore.NormalizeName(name)
	if err != nil {
		return mailstore.MailboxInfo{}, err
	}
	acct, err := accountID(ctx, q, user)
	if err != nil {
		return mailstore.MailboxInfo{}, err
	}
	mb, err := scanMailbox(q.QueryRowContext(ctx,
		qMailboxByName, acct, norm))
	if errors.Is(err, sql.ErrNoRows) {
		return mailstore.MailboxInfo{}, fmt.Errorf("%q of %q: %w", norm, user, mailstore.ErrNoMailbox)
	}
	if err != nil {
		return mailstore.MailboxInfo{}, fmt.Errorf("%q of %q: %w", norm, user, err)
	}
	return mb, nil
}

// CreateMailbox creates the mailbox and any missing parents (RFC 3501
// §6.3.3: servers SHOULD create the superior hierarchical names).
func (s *Store) CreateMailbox(ctx context.Context, user, name, specialUse string) (mailstore.MailboxInfo, error) {
	var mb mailstore.MailboxInfo
	err := s.write(ctx, "create mailbox", func(w *writeTx) error {
		norm, su, err := mailstore.CreateName(name, specialUse)
		if err != nil {
			return err
		}
		acct, err := accountID(ctx, w.tx, user)
		if err != nil {
			return err
		}
		if err := w.createParents(ctx, acct, norm); err != nil {
			return err
		}
		mb, err = w.createMailbox(ctx, acct, norm, su, false)
		w.notify = append(w.notify, watchKey{user, mb.ID}) // NOTIFY MailboxName
		return err
	})
	return mb, err
}

// createParents creates the missing ancestors of a normalized name.
func (w *writeTx) createParents(ctx context.Context, acct int64, name string) error {
	for _, p := range mailstore.Parents(name) {
		exists, err := w.mailboxExists(ctx, acct, p)
		if err != nil {
			return err
		}
		if !exists {
			if _, err := w.createMailbox(ctx, acct, p, "", false); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *writeTx) mailboxExists(ctx context.Context, acct int64, name string) (bool, error) {
	var one int
	err := w.tx.QueryRowContext(ctx, `SELECT 1 FROM mailboxes WHERE account_id = ? AND name = ?`, acct, name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up mailbox %q: %w", name, err)
	}
	return true, nil
}

// createMailbox inserts one mailbox with a fresh UIDVALIDITY. Every new
// mailbox passes here, so here the name bounds and the per-account cap
// are checked.
func (w *writeTx) createMailbox(ctx context.Context, acct int64, name, specialUse string, subscribed bool) (mailstore.MailboxInfo, error) {
	if err := mailstore.CheckNameBounds(name); err != nil {
		return mailstore.MailboxInfo{}, err
	}
	exists, err := w.mailboxExists(ctx, acct, name)
	if err != nil {
		return mailstore.MailboxInfo{}, err
	}
	if exists {
		return mailstore.MailboxInfo{}, fmt.Errorf("%q: %w", name, mailstore.ErrMailboxExists)
	}
	var count int
	if err := w.tx.QueryRowContext(ctx, `SELECT count(*) FROM mailboxes WHERE account_id = ?`, acct).Scan(&count); err != nil {
		return mailstore.MailboxInfo{}, fmt.Errorf("count mailboxes: %w", err)
	}
	if count >= w.maxMailboxes {
		return mailstore.MailboxInfo{}, &mailstore.LimitError{Text: fmt.Sprintf("Account already has the maximum of %d mailboxes", w.maxMailboxes)}
	}
	uv, err := w.nextUIDValidity(ctx)
	if err != nil {
		return mailstore.MailboxInfo{}, err
	}
	mb := mailstore.MailboxInfo{ObjectID: mailstore.NewMailboxObjectID(), Name: name, SpecialUse: specialUse,
		UIDValidity: uv, UIDNext: 1, HighestModSeq: 1}
	err = w.tx.QueryRowContext(ctx, `INSERT INTO mailboxes
		(account_id, object_id, name, special_use, uidvalidity, uidnext, highestmodseq)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id, `+subscribedCol,
		acct, mb.ObjectID, name, specialUse, uv, mb.UIDNext, mb.HighestModSeq).Scan(&mb.ID, &mb.Subscribed)
	if err != nil {
		return mailstore.MailboxInfo{}, fmt.Errorf("insert mailbox %q: %w", name, err)
	}
	if subscribed && !mb.Subscribed {
		if err := w.subscribe(ctx, acct, name, true); err != nil {
			return mailstore.MailboxInfo{}, err
		}
		mb.Subscribed = true
	}
	return mb, nil
}

// nextUIDValidity allocates a UIDVALIDITY from a store-wide counter that
// starts at the current Unix time and only grows, so a re-created mailbox
// name never gets an old value back (RFC 3501 §2.3.1.1), even after the
// account was deleted and re-created.
func (w *writeTx) nextUIDValidity(ctx context.Context) (uint32, error) {
	var last int64
	err := w.tx.QueryRowContext(ctx, `SELECT value FROM store_meta WHERE key = 'uidvalidity'`).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("read uidvalidity counter: %w", err)
	}
	next := max(last+1, w.now.Unix())
	if next > math.MaxUint32 {
		return 0, errors.New("uidvalidity counter exhausted")
	}
	if _, err := w.tx.ExecContext(ctx, `INSERT INTO store_meta (key, value) VALUES ('uidvalidity', ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, next); err != nil {
		return 0, fmt.Errorf("write uidvalidity counter: %w", err)
	}
	return uint32(next), nil
}

// DeleteMailbox removes the mailbox and its messages. INBOX cannot be
// deleted. Children stay: the name lives on as a parent that does not
// exist, which LIST shows as \Noselect (RFC 3501 §6.3.4).
func (s *Store) DeleteMailbox(ctx context.Context, user, name string) error {
	return s.write(ctx, "delete mailbox", func(w *writeTx) error {
		mb, err := mailboxByName(ctx, w.tx, user, name)
		if err != nil {
			return err
		}
		if mb.Name == mailstore.Inbox {
			return fmt.Errorf("%w: INBOX cannot be deleted", mailstore.ErrInvalidName)
		}
		if _, err := w.tx.ExecContext(ctx, `DELETE FROM mailboxes WHERE id = ?`, mb.ID); err != nil {
			return fmt.Errorf("delete %q: %w", mb.Name, err)
		}
		w.notify = append(w.notify, watchKey{user, mb.ID})
		return nil
	})
}

// RenameMailbox renames a mailbox and its children, keeping their IDs and
// UIDVALIDITY. Renaming INBOX moves its messages into a new mailbox and
// leaves INBOX (and its children) in place (RFC 3501 §6.3.5).
func (s *Store) RenameMailbox(ctx context.Context, user, oldName, newName string) error {
	return s.write(ctx, "rename mailbox", func(w *writeTx) error {
		src, err := mailboxByName(ctx, w.tx, user, oldName)
		if err != nil {
			return err
		}
		dst, err := mailstore.RenameTarget(src.Name, newName)
		if err != nil {
			return err
		}
		acct, err := accountID(ctx, w.tx, user)
		if err != nil {
			return err
		}
		if src.Name == mailstore.Inbox {
			return w.renameInbox(ctx, user, acct, src, dst)
		}
		return w.renameTree(ctx, user, acct, src.Name, dst)
	})
}

// renameTree renames name and every name below it to the same place under
// dst, after checking that no target exists.
func (w *writeTx) renameTree(ctx context.Context, user string, acct int64, name, dst string) error {
	rows, err := w.tx.QueryContext(ctx, `SELECT id, name FROM mailboxes WHERE account_id = ?
		AND (name = ? OR (name >= ? AND name < ?))`, acct, name, childLow(name), childHigh(name))
	if err != nil {
		return fmt.Errorf("list %q and children: %w", name, err)
	}
	type ren struct {
		id               int64
		oldName, newName string
	}
	var rens []ren
	for rows.Next() {
		var id int64
		var n string
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return err
		}
		newName := dst + n[len(name):]
		if err := mailstore.CheckNameBounds(newName); err != nil {
			rows.Close()
			return err
		}
		rens = append(rens, ren{id, n, newName})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range rens {
		exists, err := w.mailboxExists(ctx, acct, r.newName)
		if err != nil {
			return err
		}
		if exists {
			return fmt.Errorf("%q: %w", r.newName, mailstore.ErrMailboxExists)
		}
	}
	if err := w.createParents(ctx, acct, dst); err != nil {
		return err
	}
	for _, r := range rens {
		if _, err := w.tx.ExecContext(ctx, `UPDATE mailboxes SET name = ? WHERE id = ?`, r.newName, r.id); err != nil {
			return fmt.Errorf("rename to %q: %w", r.newName, err)
		}
		// The subscription follows the mailbox.
		if _, err := w.tx.ExecContext(ctx, `UPDATE OR REPLACE subscriptions SET name = ? WHERE account_id = ? AND name = ?`,
			r.newName, acct, r.oldName); err != nil {
			return fmt.Errorf("rename subscription to %q: %w", r.newName, err)
		}
		w.notify = append(w.notify, watchKey{user, r.id})
	}
	return nil
}

// renameInbox creates dst and moves every INBOX message into it.
func (w *writeTx) renameInbox(ctx context.Context, user string, acct int64, inbox mailstore.MailboxInfo, dst string) error {
	if err := mailstore.CheckNameBounds(dst); err != nil {
		return err // before its parents are made
	}
	if err := w.createParents(ctx, acct, dst); err != nil {
		return err
	}
	mb, err := w.createMailbox(ctx, acct, dst, "", false)
	if err != nil {
		return err
	}
	_, _, err = w.moveMessages(ctx, user, inbox.ID, nil, mb.ID)
	return err
}

// SetSubscribed subscribes to an existing mailbox or unsubscribes from any
// name (RFC 3501 §6.3.6–7).
func (s *Store) SetSubscribed(ctx context.Context, user, name string, subscribed bool) error {
	return s.write(ctx, "set subscribed", func(w *writeTx) error {
		if subscribed {
			mb, err := mailboxByName(ctx, w.tx, user, name)
			if err != nil {
				return err
			}
			name = mb.Name
		} else if norm, err := mailstore.NormalizeName(name); err == nil {
			name = norm
		}
		acct, err := accountID(ctx, w.tx, user)
		if err != nil {
			return err
		}
		w.notify = append(w.notify, watchKey{user, mailstore.AnyMailbox}) // NOTIFY SubscriptionChange
		return w.subscribe(ctx, acct, name, subscribed)
	})
}

func (w *writeTx) subscribe(ctx context.Context, acct int64, name string, on bool) error {
	q := `DELETE FROM subscriptions WHERE account_id = ? AND name = ?`
	if on {
		q = `INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?, ?)`
	}
	if _, err := w.tx.ExecContext(ctx, q, acct, name); err != nil {
		return fmt.Errorf("subscription %q: %w", name, err)
	}
	return nil
}

// Subscriptions lists the user's subscribed names, sorted.
func (s *Store) Subscriptions(ctx context.Context, user string) ([]string, error) {
	tx, err := s.readTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("subscriptions: %w", err)
	}
	defer tx.Rollback()
	acct, err := accountID(ctx, tx, user)
	if err != nil {
		return nil, fmt.Errorf("subscriptions: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT name FROM subscriptions WHERE account_id = ? ORDER BY name`, acct)
	if err != nil {
		return nil, fmt.Errorf("subscriptions of %q: %w", user, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("subscriptions of %q: %w", user, err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// childLow and childHigh bound the names below name: SQLite compares TEXT
// bytewise, and '0' is the byte after the separator '/'. (substr would
// count characters, not bytes.)
func childLow(name string) string  { return name + mailstore.Separator }
func childHigh(name string) string { return name + "0" }

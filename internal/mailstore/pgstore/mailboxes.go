package pgstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

const mailboxCols = `id, object_id, name, special_use, ` + subscribedCol + `, uidvalidity, uidnext, highestmodseq`

// subscribedCol reads MailboxInfo.Subscribed in a query on mailboxes.
const subscribedCol = `EXISTS (SELECT 1 FROM subscriptions s WHERE s.account_id = mailboxes.account_id AND s.name = mailboxes.name)`

func scanMailbox(sc pgx.Row) (mailstore.MailboxInfo, error) {
	var mb mailstore.MailboxInfo
	err := sc.Scan(&mb.ID, &mb.ObjectID, &mb.Name, &mb.SpecialUse, &mb.Subscribed, &mb.UIDValidity, &mb.UIDNext, &mb.HighestModSeq)
	return mb, err
}

// Mailboxes lists the account's mailboxes by name.
func (s *Store) Mailboxes(ctx context.Context, user string) ([]mailstore.MailboxInfo, error) {
	var out []mailstore.MailboxInfo
	err := s.read(ctx, func(tx pgx.Tx) error {
		acct, err := accountID(ctx, tx, user)
		if err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT `+mailboxCols+` FROM mailboxes WHERE account_id = $1 ORDER BY name`, acct)
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (mailstore.MailboxInfo, error) { return scanMailbox(r) })
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list mailboxes of %q: %w", user, err)
	}
	return out, nil
}

// Mailbox finds a mailbox by name (INBOX case-insensitively).
func (s *Store) Mailbox(ctx context.Context, user, name string) (mailstore.MailboxInfo, error) {
	mb, err := mailboxByName(ctx, s.pool, user, name)
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
	mb, err := scanMailbox(q.QueryRow(ctx, `SELECT `+mailboxCols+` FROM mailboxes WHERE account_id = $1 AND name = $2`, acct, norm))
	if errors.Is(err, pgx.ErrNoRows) {
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
		norm, err := mailstore.NormalizeName(name)
		if err != nil {
			return err
		}
		if err := mailstore.CheckNameBounds(norm); err != nil {
			return err // before its parents are made
		}
		su, err := mailstore.NormalizeSpecialUse(specialUse)
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
		w.notify = []watchKey{{user, mb.ID}} // NOTIFY MailboxName
		return err
	})
	return mb, err
}

// createParents creates the missing ancestors of a normalized name. It
// takes the account's lock first, so it sees the parents another
// transaction just made (two CREATEs of siblings under a new parent).
func (w *writeTx) createParents(ctx context.Context, acct int64, name string) error {
	if err := w.lockAccount(ctx, acct); err != nil {
		return err
	}
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
	var exists bool
	err := w.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM mailboxes WHERE account_id = $1 AND name = $2)`, acct, name).Scan(&exists)
	if err != nil {
		return false, fmt.Errorf("look up mailbox %q: %w", name, err)
	}
	return exists, nil
}

// createMailbox inserts one mailbox with a fresh UIDVALIDITY and
// MAILBOXID. Every new mailbox passes here, so here the name bounds and
// the per-account cap are checked, under the account's row lock.
func (w *writeTx) createMailbox(ctx context.Context, acct int64, name, specialUse string, subscribed bool) (mailstore.MailboxInfo, error) {
	if err := mailstore.CheckNameBounds(name); err != nil {
		return mailstore.MailboxInfo{}, err
	}
	if err := w.lockAccount(ctx, acct); err != nil {
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
	if err := w.tx.QueryRow(ctx, `SELECT count(*) FROM mailboxes WHERE account_id = $1`, acct).Scan(&count); err != nil {
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
	err = w.tx.QueryRow(ctx, `INSERT INTO mailboxes
		(account_id, object_id, name, special_use, uidvalidity, uidnext, highestmodseq)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, `+subscribedCol,
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
// name never gets an old value back (RFC 3501 §2.3.1.1). The upsert takes
// the counter row's lock, so concurrent writers get distinct values.
func (w *writeTx) nextUIDValidity(ctx context.Context) (uint32, error) {
	var next int64
	err := w.tx.QueryRow(ctx, `INSERT INTO store_meta (key, value) VALUES ('uidvalidity', $1)
		ON CONFLICT (key) DO UPDATE SET value = greatest(store_meta.value + 1, excluded.value)
		RETURNING value`, w.now.Unix()).Scan(&next)
	if err != nil {
		return 0, fmt.Errorf("allocate uidvalidity: %w", err)
	}
	if next > math.MaxUint32 {
		return 0, errors.New("uidvalidity counter exhausted")
	}
	return uint32(next), nil
}

// DeleteMailbox removes the mailbox and its messages. INBOX cannot be
// deleted. Children stay: the name lives on as a parent that does not
// exist, which LIST shows as \Noselect (RFC 3501 §6.3.4).
func (s *Store) DeleteMailbox(ctx context.Context, user, name string) error {
	return s.write(ctx, "delete mailbox", func(w *writeTx) error {
		if _, err := w.lockUser(ctx, user); err != nil {
			return err
		}
		mb, err := mailboxByName(ctx, w.tx, user, name)
		if err != nil {
			return err
		}
		if mb.Name == mailstore.Inbox {
			return fmt.Errorf("%w: INBOX cannot be deleted", mailstore.ErrInvalidName)
		}
		if _, err := w.lock(ctx, user, mb.ID); err != nil {
			return err
		}
		if _, err := w.tx.Exec(ctx, `DELETE FROM mailboxes WHERE id = $1`, mb.ID); err != nil {
			return fmt.Errorf("delete %q: %w", mb.Name, err)
		}
		delete(w.boxes, mb.ID) // nothing to write back
		w.notify = []watchKey{{user, mb.ID}}
		return nil
	})
}

// RenameMailbox renames a mailbox and its children, keeping their IDs and
// UIDVALIDITY. Renaming INBOX moves its messages into a new mailbox and
// leaves INBOX (and its children) in place (RFC 3501 §6.3.5).
func (s *Store) RenameMailbox(ctx context.Context, user, oldName, newName string) error {
	return s.write(ctx, "rename mailbox", func(w *writeTx) error {
		w.notify = nil
		// The account's lock first: a RENAME or DELETE of the same
		// mailbox on another node then commits before this one looks.
		acct, err := w.lockUser(ctx, user)
		if err != nil {
			return err
		}
		src, err := mailboxByName(ctx, w.tx, user, oldName)
		if err != nil {
			return err
		}
		dst, err := mailstore.NormalizeName(newName)
		if err != nil {
			return err
		}
		if dst == mailstore.Inbox {
			return fmt.Errorf("%q: %w", dst, mailstore.ErrMailboxExists)
		}
		if src.Name == mailstore.Inbox {
			return w.renameInbox(ctx, user, acct, src, dst)
		}
		if dst == src.Name {
			return fmt.Errorf("%q: %w", dst, mailstore.ErrMailboxExists)
		}
		if strings.HasPrefix(dst, src.Name+mailstore.Separator) {
			return fmt.Errorf("%w: cannot rename %q into itself", mailstore.ErrInvalidName, src.Name)
		}
		return w.renameTree(ctx, user, acct, src.Name, dst)
	})
}

// renameTree renames name and every name below it to the same place under
// dst, after checking that no target exists.
func (w *writeTx) renameTree(ctx context.Context, user string, acct int64, name, dst string) error {
	if err := w.lockAccount(ctx, acct); err != nil {
		return err
	}
	type ren struct {
		id               int64
		oldName, newName string
	}
	rows, _ := w.tx.Query(ctx, `SELECT id, name FROM mailboxes WHERE account_id = $1
		AND (name = $2 OR (name >= $3 AND name < $4))`, acct, name, name+mailstore.Separator, childHigh(name))
	rens, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ren, error) {
		var x ren
		err := r.Scan(&x.id, &x.oldName)
		x.newName = dst + x.oldName[len(name):]
		return x, err
	})
	if err != nil {
		return fmt.Errorf("list %q and children: %w", name, err)
	}
	for _, r := range rens {
		if err := mailstore.CheckNameBounds(r.newName); err != nil {
			return err
		}
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
		if _, err := w.tx.Exec(ctx, `UPDATE mailboxes SET name = $1 WHERE id = $2`, r.newName, r.id); err != nil {
			return fmt.Errorf("rename to %q: %w", r.newName, err)
		}
		// The subscription follows the mailbox, replacing one of the new name.
		if _, err := w.tx.Exec(ctx, `WITH old AS (DELETE FROM subscriptions WHERE account_id = $1 AND name = $2 RETURNING account_id)
			INSERT INTO subscriptions (account_id, name) SELECT account_id, $3 FROM old ON CONFLICT DO NOTHING`,
			acct, r.oldName, r.newName); err != nil {
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
		n := name
		if subscribed {
			mb, err := mailboxByName(ctx, w.tx, user, name)
			if err != nil {
				return err
			}
			n = mb.Name
		} else if norm, err := mailstore.NormalizeName(name); err == nil {
			n = norm
		}
		acct, err := accountID(ctx, w.tx, user)
		if err != nil {
			return err
		}
		w.notify = []watchKey{{user, mailstore.AnyMailbox}} // NOTIFY SubscriptionChange
		return w.subscribe(ctx, acct, n, subscribed)
	})
}

func (w *writeTx) subscribe(ctx context.Context, acct int64, name string, on bool) error {
	q := `DELETE FROM subscriptions WHERE account_id = $1 AND name = $2`
	if on {
		q = `INSERT INTO subscriptions (account_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING`
	}
	if _, err := w.tx.Exec(ctx, q, acct, name); err != nil {
		return fmt.Errorf("subscription %q: %w", name, err)
	}
	return nil
}

// Subscriptions lists the user's subscribed names, sorted.
func (s *Store) Subscriptions(ctx context.Context, user string) ([]string, error) {
	acct, err := accountID(ctx, s.pool, user)
	if err != nil {
		return nil, fmt.Errorf("subscriptions: %w", err)
	}
	rows, _ := s.pool.Query(ctx, `SELECT name FROM subscriptions WHERE account_id = $1 ORDER BY name`, acct)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("subscriptions of %q: %w", user, err)
	}
	return out, nil
}

// childHigh bounds the names below name from above: names compare
// bytewise (COLLATE "C") and '0' is the byte after the separator '/'.
func childHigh(name string) string { return name + "0" }

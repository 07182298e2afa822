package sqlitestore

import (
	"context"
	"fmt"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// SetACL sets identifier's rights on owner's mailbox; empty rights remove
// the entry. Watchers of the mailbox are notified so sessions that have it
// selected can notice the change.
func (s *Store) SetACL(ctx context.Context, owner, mailbox, identifier, rights string) error {
	if identifier == "" {
		return fmt.Errorf("set acl: empty identifier")
	}
	norm, err := mailstore.NormalizeRights(rights)
	if err != nil {
		return fmt.Errorf("set acl: %w", err)
	}
	return s.write(ctx, "set acl", func(w *writeTx) error {
		mb, err := mailboxByName(ctx, w.tx, owner, mailbox)
		if err != nil {
			return err
		}
		if norm == "" {
			_, err = w.tx.ExecContext(ctx, `DELETE FROM acl WHERE mailbox_id = ? AND identifier = ?`, mb.ID, identifier)
		} else {
			_, err = w.tx.ExecContext(ctx, `INSERT INTO acl (mailbox_id, identifier, rights) VALUES (?, ?, ?)
				ON CONFLICT (mailbox_id, identifier) DO UPDATE SET rights = excluded.rights`, mb.ID, identifier, norm)
		}
		if err != nil {
			return fmt.Errorf("write acl of %q for %q: %w", mb.Name, identifier, err)
		}
		w.notify = append(w.notify, watchKey{owner, mb.ID})
		return nil
	})
}

// ACL lists the entries of owner's mailbox, by identifier.
func (s *Store) ACL(ctx context.Context, owner string, mailboxID int64) ([]mailstore.ACLEntry, error) {
	tx, err := s.readTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("acl: %w", err)
	}
	defer tx.Rollback()
	if _, err := ownedMailbox(ctx, tx, owner, mailboxID); err != nil {
		return nil, fmt.Errorf("acl: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT identifier, rights FROM acl WHERE mailbox_id = ? ORDER BY identifier`, mailboxID)
	if err != nil {
		return nil, fmt.Errorf("acl of mailbox %d: %w", mailboxID, err)
	}
	defer rows.Close()
	var out []mailstore.ACLEntry
	for rows.Next() {
		var e mailstore.ACLEntry
		if err := rows.Scan(&e.Identifier, &e.Rights); err != nil {
			return nil, fmt.Errorf("acl of mailbox %d: %w", mailboxID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("acl of mailbox %d: %w", mailboxID, err)
	}
	return out, nil
}

// SharedWith lists other accounts' mailboxes with an entry for user or
// "anyone", by owner then name, each with the union of both entries' rights.
func (s *Store) SharedWith(ctx context.Context, user string) ([]mailstore.SharedMailbox, error) {
	tx, err := s.readTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("shared with: %w", err)
	}
	defer tx.Rollback()
	// group_concat joins the (at most two) entries; NormalizeRights
	// merges them. Subscribed is false: subscriptions are the owner's.
	rows, err := tx.QueryContext(ctx, `SELECT a.name, m.id, m.object_id, m.name, m.special_use, 0,
			m.uidvalidity, m.uidnext, m.highestmodseq, group_concat(acl.rights, '')
		FROM acl JOIN mailboxes m ON m.id = acl.mailbox_id JOIN accounts a ON a.id = m.account_id
		WHERE acl.identifier IN (?, 'anyone') AND a.name <> ?
		GROUP BY m.id ORDER BY a.name, m.name`, user, user)
	if err != nil {
		return nil, fmt.Errorf("mailboxes shared with %q: %w", user, err)
	}
	defer rows.Close()
	var out []mailstore.SharedMailbox
	for rows.Next() {
		var sm mailstore.SharedMailbox
		mb := &sm.MailboxInfo
		var rights string
		if err := rows.Scan(&sm.Owner, &mb.ID, &mb.ObjectID, &mb.Name, &mb.SpecialUse, &mb.Subscribed,
			&mb.UIDValidity, &mb.UIDNext, &mb.HighestModSeq, &rights); err != nil {
			return nil, fmt.Errorf("mailboxes shared with %q: %w", user, err)
		}
		if sm.Rights, err = mailstore.NormalizeRights(rights); err != nil {
			return nil, fmt.Errorf("mailbox %d: stored %w", mb.ID, err)
		}
		out = append(out, sm)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mailboxes shared with %q: %w", user, err)
	}
	return out, nil
}

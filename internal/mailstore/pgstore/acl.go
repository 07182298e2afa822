package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

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
		if err := w.keepMailbox(ctx, owner, mb.ID); err != nil {
			return err
		}
		if norm == "" {
			_, err = w.tx.Exec(ctx, `DELETE FROM acl WHERE mailbox_id = $1 AND identifier = $2`, mb.ID, identifier)
		} else {
			_, err = w.tx.Exec(ctx, `INSERT INTO acl (mailbox_id, identifier, rights) VALUES ($1, $2, $3)
				ON CONFLICT (mailbox_id, identifier) DO UPDATE SET rights = excluded.rights`, mb.ID, identifier, norm)
		}
		if err != nil {
			return fmt.Errorf("write acl of %q for %q: %w", mb.Name, identifier, err)
		}
		w.notify = []watchKey{{owner, mb.ID}}
		return nil
	})
}

// ACL lists the entries of owner's mailbox, by identifier.
func (s *Store) ACL(ctx context.Context, owner string, mailboxID int64) ([]mailstore.ACLEntry, error) {
	var out []mailstore.ACLEntry
	err := s.read(ctx, func(tx pgx.Tx) error {
		if _, err := ownedMailbox(ctx, tx, owner, mailboxID); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT identifier, rights FROM acl WHERE mailbox_id = $1 ORDER BY identifier`, mailboxID)
		var err error
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (mailstore.ACLEntry, error) {
			var e mailstore.ACLEntry
			err := r.Scan(&e.Identifier, &e.Rights)
			return e, err
		})
		if len(out) == 0 {
			out = nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("acl of mailbox %d: %w", mailboxID, err)
	}
	return out, nil
}

// SharedWith lists other accounts' mailboxes with an entry for user or
// "anyone", by owner then name, each with the union of both entries' rights.
func (s *Store) SharedWith(ctx context.Context, user string) ([]mailstore.SharedMailbox, error) {
	// string_agg joins the (at most two) entries; NormalizeRights merges
	// them. Subscribed is false: subscriptions are the owner's.
	rows, _ := s.pool.Query(ctx, `SELECT a.name, m.id, m.object_id, m.name, m.special_use,
			m.uidvalidity, m.uidnext, m.highestmodseq, string_agg(acl.rights, '')
		FROM acl JOIN mailboxes m ON m.id = acl.mailbox_id JOIN accounts a ON a.id = m.account_id
		WHERE acl.identifier IN ($1, 'anyone') AND a.name <> $1
		GROUP BY a.name, m.id ORDER BY a.name, m.name`, user)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mailstore.SharedMailbox, error) {
		var sm mailstore.SharedMailbox
		mb := &sm.MailboxInfo
		var rights string
		if err := r.Scan(&sm.Owner, &mb.ID, &mb.ObjectID, &mb.Name, &mb.SpecialUse,
			&mb.UIDValidity, &mb.UIDNext, &mb.HighestModSeq, &rights); err != nil {
			return sm, err
		}
		var err error
		if sm.Rights, err = mailstore.NormalizeRights(rights); err != nil {
			return sm, fmt.Errorf("mailbox %d: stored %w", mb.ID, err)
		}
		return sm, nil
	})
	if err != nil {
		return nil, fmt.Errorf("mailboxes shared with %q: %w", user, err)
	}
	if len(out) == 0 {
		out = nil
	}
	return out, nil
}

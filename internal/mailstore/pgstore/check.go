package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

// invariantQueries each return one text column per violation. Foreign
// keys and unique constraints PostgreSQL enforces itself.
var invariantQueries = []string{
	`SELECT 'mailbox ' || m.mailbox_id || ' UID ' || m.uid || ' >= UIDNEXT ' || mb.uidnext
		FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id WHERE m.uid >= mb.uidnext`,
	`SELECT 'mailbox ' || m.mailbox_id || ' UID ' || m.uid || ' MODSEQ ' || m.modseq || ' > HIGHESTMODSEQ ' || mb.highestmodseq
		FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id WHERE m.modseq > mb.highestmodseq`,
	`SELECT 'mailbox ' || e.mailbox_id || ' expunged UID ' || e.uid || ' MODSEQ ' || e.modseq || ' > HIGHESTMODSEQ ' || mb.highestmodseq
		FROM expunged e JOIN mailboxes mb ON mb.id = e.mailbox_id WHERE e.modseq > mb.highestmodseq`,
	`SELECT 'mailbox ' || e.mailbox_id || ' expunged UID ' || e.uid || ' >= UIDNEXT ' || mb.uidnext
		FROM expunged e JOIN mailboxes mb ON mb.id = e.mailbox_id WHERE e.uid >= mb.uidnext`,
	`SELECT 'mailbox ' || e.mailbox_id || ' UID ' || e.uid || ' is both stored and expunged'
		FROM expunged e JOIN messages m ON m.mailbox_id = e.mailbox_id AND m.uid = e.uid`,
	`SELECT 'mailbox ' || id || ' UIDVALIDITY 0' FROM mailboxes WHERE uidvalidity = 0`,
	`SELECT 'mailbox ' || id || ' has no MAILBOXID' FROM mailboxes WHERE object_id = ''`,
	`SELECT 'account ' || account_id || ' UIDVALIDITY ' || uidvalidity || ' used by ' || count(*) || ' mailboxes'
		FROM mailboxes GROUP BY account_id, uidvalidity HAVING count(*) > 1`,
	`SELECT 'account ' || a.name || ' has no INBOX' FROM accounts a
		WHERE NOT EXISTS (SELECT 1 FROM mailboxes mb WHERE mb.account_id = a.id AND mb.name = 'INBOX')`,
	`SELECT 'mailbox ' || m.mailbox_id || ' UID ' || m.uid || ' seen/deleted columns disagree with flags ' || quote_literal(m.flags)
		FROM messages m WHERE m.seen != (' ' || m.flags || ' ' LIKE '% \\Seen %')
		OR m.deleted != (' ' || m.flags || ' ' LIKE '% \\Deleted %')`,
	`SELECT 'mailbox ' || m.mailbox_id || ' UID ' || m.uid || ' has account ' || m.account_id || ', its mailbox ' || mb.account_id
		FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id WHERE m.account_id != mb.account_id`,
	// The reference counts kept by the messages triggers.
	`SELECT 'blob ' || coalesce(r.blob_id, c.blob_id) || ' counted ' || coalesce(r.refs, 0) || ' references, has ' || coalesce(c.n, 0)
		FROM blob_refs r FULL JOIN (SELECT blob_id, count(*) AS n FROM messages GROUP BY blob_id) c ON c.blob_id = r.blob_id
		WHERE coalesce(r.refs, 0) != coalesce(c.n, 0)`,
	`SELECT 'blob ' || blob_id || ' unreferenced without an orphan time' FROM blob_refs WHERE refs = 0 AND orphaned_at IS NULL`,
	// The quota usage kept by the same triggers.
	`SELECT 'account ' || a.name || ' usage ' || a.used_storage || ' bytes ' || a.used_messages || ' messages, stored '
		|| coalesce(sum(m.size), 0) || ' bytes ' || count(m.id) || ' messages'
		FROM accounts a LEFT JOIN messages m ON m.account_id = a.id
		GROUP BY a.id HAVING a.used_storage != coalesce(sum(m.size), 0) OR a.used_messages != count(m.id)`,
	// Every stored blob is indexed or queued, else SEARCH BODY/TEXT would
	// silently miss it.
	`SELECT DISTINCT 'blob ' || m.blob_id || ' is neither indexed nor queued for the full-text index'
		FROM messages m WHERE NOT EXISTS (SELECT 1 FROM fts_docs d WHERE d.blob_id = m.blob_id)
		AND NOT EXISTS (SELECT 1 FROM fts_pending p WHERE p.blob_id = m.blob_id)`,
}

// Check verifies the store's invariants and returns one line per
// violation, all read in one snapshot. It opens every message's blob, so
// it is slow on big stores: an admin command, not a health probe.
func (s *Store) Check(ctx context.Context) ([]string, error) {
	var out, blobs []string
	err := s.read(ctx, func(tx pgx.Tx) error {
		for _, q := range invariantQueries {
			rows, _ := tx.Query(ctx, q)
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
			out = append(out, lines...)
		}
		rows, _ := tx.Query(ctx, `SELECT DISTINCT blob_id FROM messages ORDER BY blob_id`)
		var err error
		blobs, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	missing, err := mailstore.CheckBlobs(ctx, s.blobs, blobs)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	return append(out, missing...), nil
}

package sqlitestore

import (
	"context"
	"fmt"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// invariantQueries each return one text column per violation.
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
	`SELECT 'mailbox ' || mailbox_id || ' UID ' || uid || ' used ' || count(*) || ' times'
		FROM messages GROUP BY mailbox_id, uid HAVING count(*) > 1`,
	`SELECT 'delivery id ' || quote(delivery_id) || ' used ' || count(*) || ' times'
		FROM messages WHERE delivery_id IS NOT NULL GROUP BY delivery_id HAVING count(*) > 1`,
	`SELECT 'mailbox ' || id || ' UIDVALIDITY 0' FROM mailboxes WHERE uidvalidity = 0`,
	`SELECT 'mailbox ' || id || ' has no MAILBOXID' FROM mailboxes WHERE object_id = ''`,
	`SELECT 'account ' || account_id || ' UIDVALIDITY ' || uidvalidity || ' used by ' || count(*) || ' mailboxes'
		FROM mailboxes GROUP BY account_id, uidvalidity HAVING count(*) > 1`,
	`SELECT 'account ' || a.name || ' has no INBOX' FROM accounts a
		WHERE NOT EXISTS (SELECT 1 FROM mailboxes mb WHERE mb.account_id = a.id AND mb.name = 'INBOX')`,
	`SELECT 'mailbox ' || m.mailbox_id || ' UID ' || m.uid || ' seen/deleted columns disagree with flags ' || quote(m.flags)
		FROM messages m WHERE m.seen != (' ' || m.flags || ' ' LIKE '% \Seen %')
		OR m.deleted != (' ' || m.flags || ' ' LIKE '% \Deleted %')`,
	`SELECT 'foreign key violation in ' || "table" || ' row ' || rowid FROM pragma_foreign_key_check`,
	// The migration 7 triggers take a blob off the garbage list when a
	// message references it again (gc.go).
	`SELECT DISTINCT 'blob ' || o.blob_id || ' is a garbage candidate but a message uses it'
		FROM blob_orphans o JOIN messages m ON m.blob_id = o.blob_id`,
	// The quota usage kept by the migration 2 triggers.
	`SELECT 'account ' || a.name || ' usage ' || a.used_storage || ' bytes ' || a.used_messages || ' messages, stored '
		|| coalesce(sum(m.size), 0) || ' bytes ' || count(m.id) || ' messages'
		FROM accounts a LEFT JOIN mailboxes b ON b.account_id = a.id LEFT JOIN messages m ON m.mailbox_id = b.id
		GROUP BY a.id HAVING a.used_storage != coalesce(sum(m.size), 0) OR a.used_messages != count(m.id)`,
	// Every stored blob is indexed or queued for the indexer (migration 3),
	// else SEARCH BODY/TEXT would silently miss it.
	`SELECT DISTINCT 'blob ' || m.blob_id || ' is neither indexed nor queued for the full-text index'
		FROM messages m WHERE NOT EXISTS (SELECT 1 FROM fts_docs d WHERE d.blob_id = m.blob_id)
		AND NOT EXISTS (SELECT 1 FROM fts_pending p WHERE p.blob_id = m.blob_id)`,
}

// Check verifies the store's invariants and returns one line per
// violation. It reads every message's blob header (opens it), so it is
// slow on big stores: an admin command, not a health probe.
func (s *Store) Check(ctx context.Context) ([]string, error) {
	var out []string
	rows, err := s.rdb.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return nil, fmt.Errorf("check: integrity_check: %w", err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return nil, fmt.Errorf("check: integrity_check: %w", err)
		}
		if line != "ok" {
			out = append(out, "sqlite: "+line)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("check: integrity_check: %w", err)
	}
	for _, q := range invariantQueries {
		lines, err := queryStrings(ctx, s.rdb, q)
		if err != nil {
			return nil, fmt.Errorf("check: %w", err)
		}
		out = append(out, lines...)
	}
	blobs, err := queryStrings(ctx, s.rdb, `SELECT DISTINCT blob_id FROM messages ORDER BY blob_id`)
	if err != nil {
		return nil, fmt.Errorf("check: list blobs: %w", err)
	}
	missing, err := mailstore.CheckBlobs(ctx, s.blobs, blobs)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	return append(out, missing...), nil
}

func queryStrings(ctx context.Context, q querier, query string) ([]string, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

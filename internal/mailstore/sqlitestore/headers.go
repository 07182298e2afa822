package sqlitestore

import (
	"context"
	"fmt"
	"slices"
)

// headersAllRows is the number of UIDs above which Headers reads the
// cache of their whole UID range in one scan rather than one by one.
const headersAllRows = 256

// Headers reads the header cache that the background indexer fills beside
// the full-text index (fts.go). Messages whose blob is still queued for
// indexing are absent.
func (s *Store) Headers(ctx context.Context, user string, mailboxID int64, uids []uint32) (map[uint32][]byte, error) {
	out := make(map[uint32][]byte, len(uids))
	if len(uids) == 0 {
		return out, nil
	}
	tx, err := s.readTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("headers of mailbox %d: %w", mailboxID, err)
	}
	defer tx.Rollback()
	if _, err := ownedMailbox(ctx, tx, user, mailboxID); err != nil {
		return nil, fmt.Errorf("headers of mailbox %d: %w", mailboxID, err)
	}
	want := slices.Sorted(slices.Values(uids))
	query := `SELECT m.uid, d.header FROM messages m JOIN fts_docs d ON d.blob_id = m.blob_id
		WHERE m.mailbox_id = ?1 AND m.uid = ?2`
	args := func(uid uint32) []any { return []any{mailboxID, uid} }
	lookups := uids
	if len(uids) > headersAllRows {
		query = `SELECT m.uid, d.header FROM messages m JOIN fts_docs d ON d.blob_id = m.blob_id
			WHERE m.mailbox_id = ?1 AND m.uid BETWEEN ?2 AND ?3`
		args = func(uint32) []any { return []any{mailboxID, want[0], want[len(want)-1]} }
		lookups = uids[:1]
	}
	stmt, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("headers of mailbox %d: %w", mailboxID, err)
	}
	defer stmt.Close()
	for _, uid := range lookups {
		rows, err := stmt.QueryContext(ctx, args(uid)...)
		if err != nil {
			return nil, fmt.Errorf("headers of mailbox %d: %w", mailboxID, err)
		}
		for rows.Next() {
			var u uint32
			var h []byte
			if err := rows.Scan(&u, &h); err != nil {
				rows.Close()
				return nil, fmt.Errorf("headers of mailbox %d: %w", mailboxID, err)
			}
			if _, ok := slices.BinarySearch(want, u); ok && len(h) > 0 {
				out[u] = h
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("headers of mailbox %d: %w", mailboxID, err)
		}
	}
	return out, nil
}

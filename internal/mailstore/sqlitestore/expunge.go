package sqlitestore

import (
	"context"
	"fmt"
)

// Expunge removes the messages flagged \Deleted among uids (all when uids
// is nil), records tombstones with the new MODSEQ (RFC 7162 §3.2.10) and
// returns the expunged UIDs ascending. A body no message references any more
// becomes a CollectGarbage candidate (the messages_blob_orphan trigger).
func (s *Store) Expunge(ctx context.Context, user string, mailboxID int64, uids []uint32) ([]uint32, error) {
	var out []uint32
	err := s.write(ctx, "expunge", func(w *writeTx) error {
		out = nil
		if _, err := ownedMailbox(ctx, w.tx, user, mailboxID); err != nil {
			return err
		}
		rows, err := w.tx.QueryContext(ctx, `SELECT uid FROM messages WHERE mailbox_id = ? AND deleted = 1 ORDER BY uid`, mailboxID)
		if err != nil {
			return err
		}
		var want map[uint32]bool
		if uids != nil {
			want = make(map[uint32]bool, len(uids))
			for _, u := range uids {
				want[u] = true
			}
		}
		var del []uint32
		for rows.Next() {
			var uid uint32
			if err := rows.Scan(&uid); err != nil {
				rows.Close()
				return err
			}
			if want == nil || want[uid] {
				del = append(del, uid)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, uid := range del {
			b, err := w.touch(ctx, user, mailboxID)
			if err != nil {
				return err
			}
			if _, err := w.tx.ExecContext(ctx, `DELETE FROM messages WHERE mailbox_id = ? AND uid = ?`, mailboxID, uid); err != nil {
				return fmt.Errorf("delete UID %d: %w", uid, err)
			}
			if err := w.tombstone(ctx, mailboxID, uid, b.modSeq); err != nil {
				return err
			}
		}
		out = del
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

// Expunge removes the messages flagged \Deleted among uids (all when uids
// is nil), records tombstones with the new MODSEQ (RFC 7162 §3.2.10) and
// returns the expunged UIDs ascending. A body no message references any
// more becomes a CollectGarbage candidate (the messages_deleted trigger).
func (s *Store) Expunge(ctx context.Context, user string, mailboxID int64, uids []uint32) ([]uint32, error) {
	var out []uint32
	err := s.write(ctx, "expunge", func(w *writeTx) error {
		out = nil
		b, err := w.lock(ctx, user, mailboxID)
		if err != nil {
			return err
		}
		q := `DELETE FROM messages WHERE mailbox_id = $1 AND deleted`
		args := []any{mailboxID}
		if uids != nil {
			want := make([]int64, 0, len(uids))
			for _, u := range uids {
				want = append(want, int64(u))
			}
			q += ` AND uid = ANY($2)`
			args = append(args, want)
		}
		rows, _ := w.tx.Query(ctx, q+` RETURNING uid`, args...)
		del, err := pgx.CollectRows(rows, pgx.RowTo[uint32])
		if err != nil {
			return fmt.Errorf("delete messages: %w", err)
		}
		if len(del) == 0 {
			return nil
		}
		b.changed = true
		out = mailstore.SortedUIDs(del)
		batch := &pgx.Batch{}
		for _, uid := range out {
			queueTombstone(batch, mailboxID, uid, b.modSeq())
		}
		if err := w.tx.SendBatch(ctx, batch).Close(); err != nil {
			return fmt.Errorf("record expunges: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

package pgstore

import (
	"bytes"
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Headers reads the header cache kept beside the full-text index (fts.go).
// Messages whose blob is not indexed are absent.
func (s *Store) Headers(ctx context.Context, user string, mailboxID int64, uids []uint32) (map[uint32][]byte, error) {
	out := make(map[uint32][]byte, len(uids))
	if len(uids) == 0 {
		return out, nil
	}
	want := make([]int64, 0, len(uids))
	for _, u := range uids {
		want = append(want, int64(u))
	}
	err := s.read(ctx, func(tx pgx.Tx) error {
		if _, err := ownedMailbox(ctx, tx, user, mailboxID); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT m.uid, d.header FROM messages m JOIN fts_docs d ON d.blob_id = m.blob_id
			WHERE m.mailbox_id = $1 AND m.uid = ANY($2) AND length(d.header) > 0`, mailboxID, want)
		var uid uint32
		var h []byte
		_, err := pgx.ForEachRow(rows, []any{&uid, &h}, func() error {
			out[uid] = bytes.Clone(h)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("headers of mailbox %d: %w", mailboxID, err)
	}
	return out, nil
}

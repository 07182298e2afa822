package pgstore

import (
	"bytes"
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// maxCachedHeader bounds a cached header section; a message whose header
// is longer (or has no end) is not cached and is read from its blob.
const maxCachedHeader = 64 << 10

// headerSection returns raw's header section including the blank line
// that ends it, or nil when there is none within maxCachedHeader.
// (sqlitestore has the same function; it belongs in package mailstore.)
func headerSection(raw []byte) []byte {
	head := raw[:min(len(raw), maxCachedHeader)]
	end := -1
	if i := bytes.Index(head, []byte("\r\n\r\n")); i >= 0 {
		end = i + 4
	}
	if i := bytes.Index(head, []byte("\n\n")); i >= 0 && (end < 0 || i+2 < end) {
		end = i + 2
	}
	if end < 0 {
		return nil
	}
	return bytes.Clone(raw[:end])
}

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

package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rookery-mail/rookery/internal/mailstore"
)

// storedRow is a message row as Copy and Move need it.
type storedRow struct {
	id           int64
	uid          uint32
	flags        string
	internalDate int64
	size         int64
	blobID       string
}

// loadRows returns the messages among uids (all when uids is nil) in UID
// order; missing UIDs are skipped. The caller holds the mailbox's lock.
func (w *writeTx) loadRows(ctx context.Context, mailboxID int64, uids []uint32) ([]storedRow, error) {
	q := `SELECT id, uid, flags, internaldate, size, blob_id FROM messages WHERE mailbox_id = $1`
	args := []any{mailboxID}
	if uids != nil {
		want := make([]int64, 0, len(uids))
		for _, u := range uids {
			want = append(want, int64(u))
		}
		q += ` AND uid = ANY($2)`
		args = append(args, want)
	}
	rows, _ := w.tx.Query(ctx, q+` ORDER BY uid`, args...)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (storedRow, error) {
		var x storedRow
		err := r.Scan(&x.id, &x.uid, &x.flags, &x.internalDate, &x.size, &x.blobID)
		return x, err
	})
}

// Copy copies messages with their flags and internal date; destination
// UIDs ascend in source-UID order (RFC 4315 COPYUID). Copies carry no
// delivery id: the original keeps it. Blobs are shared, so copies need no
// new index entry.
func (s *Store) Copy(ctx context.Context, user string, srcID int64, uids []uint32, dstID int64) (src, dst []uint32, err error) {
	if uids == nil {
		uids = []uint32{} // nil means "all" only internally
	}
	err = s.write(ctx, "copy", func(w *writeTx) error {
		src, dst = nil, nil
		if err := w.lockBoxes(ctx, user, srcID, dstID); err != nil {
			return err
		}
		rows, err := w.loadRows(ctx, srcID, uids)
		if err != nil {
			return err
		}
		if err := w.checkQuota(ctx, user, rowsSize(rows), int64(len(rows))); err != nil {
			return err
		}
		for _, r := range rows {
			uid, err := w.insertMessage(ctx, user, dstID, newRow{
				flags: mailstore.SplitFlags(r.flags), internalDate: time.Unix(0, r.internalDate),
				size: r.size, blobID: r.blobID,
			})
			if err != nil {
				return err
			}
			src, dst = append(src, r.uid), append(dst, uid)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return src, dst, nil
}

// Move moves messages atomically (RFC 6851): new UIDs in the destination as
// for Copy, expunge tombstones in the source, all in one transaction.
func (s *Store) Move(ctx context.Context, user string, srcID int64, uids []uint32, dstID int64) (src, dst []uint32, err error) {
	if uids == nil {
		uids = []uint32{} // nil means "all" only internally
	}
	err = s.write(ctx, "move", func(w *writeTx) error {
		var err error
		src, dst, err = w.moveMessages(ctx, user, srcID, uids, dstID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return src, dst, nil
}

// moveMessages moves the messages among uids (all when nil). The row keeps
// its delivery id, so a retried delivery still finds it.
func (w *writeTx) moveMessages(ctx context.Context, user string, srcID int64, uids []uint32, dstID int64) (src, dst []uint32, err error) {
	if err := w.lockBoxes(ctx, user, srcID, dstID); err != nil {
		return nil, nil, err
	}
	rows, err := w.loadRows(ctx, srcID, uids)
	if err != nil {
		return nil, nil, err
	}
	if len(rows) == 0 {
		return nil, nil, nil
	}
	db, err := w.touch(ctx, user, dstID)
	if err != nil {
		return nil, nil, err
	}
	sb, err := w.touch(ctx, user, srcID)
	if err != nil {
		return nil, nil, err
	}
	batch := &pgx.Batch{}
	for _, r := range rows {
		uid, err := db.allocUID()
		if err != nil {
			return nil, nil, err
		}
		batch.Queue(`UPDATE messages SET mailbox_id = $1, uid = $2, modseq = $3, savedate = $4 WHERE id = $5`,
			dstID, uid, db.modSeq(), w.now.UnixNano(), r.id)
		queueTombstone(batch, srcID, r.uid, sb.modSeq())
		src, dst = append(src, r.uid), append(dst, uid)
	}
	if err := w.tx.SendBatch(ctx, batch).Close(); err != nil {
		return nil, nil, fmt.Errorf("move: %w", err)
	}
	return src, dst, nil
}

// rowsSize is what copying rows adds to the account's storage usage.
func rowsSize(rows []storedRow) int64 {
	var n int64
	for _, r := range rows {
		n += r.size
	}
	return n
}

// queueTombstone records an expunged UID so Changes can report it.
func queueTombstone(batch *pgx.Batch, mailboxID int64, uid uint32, modSeq uint64) {
	batch.Queue(`INSERT INTO expunged (mailbox_id, uid, modseq) VALUES ($1, $2, $3)
		ON CONFLICT (mailbox_id, uid) DO UPDATE SET modseq = excluded.modseq`, mailboxID, uid, modSeq)
}

package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

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
// order; missing UIDs are skipped.
func (w *writeTx) loadRows(ctx context.Context, mailboxID int64, uids []uint32) ([]storedRow, error) {
	const cols = `id, uid, flags, internaldate, size, blob_id`
	scan := func(sc interface{ Scan(...any) error }) (storedRow, error) {
		var r storedRow
		err := sc.Scan(&r.id, &r.uid, &r.flags, &r.internalDate, &r.size, &r.blobID)
		return r, err
	}
	var out []storedRow
	if uids == nil {
		rows, err := w.tx.QueryContext(ctx, `SELECT `+cols+` FROM messages WHERE mailbox_id = ? ORDER BY uid`, mailboxID)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scan(rows)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, rows.Err()
	}
	sel, err := w.tx.PrepareContext(ctx, `SELECT `+cols+` FROM messages WHERE mailbox_id = ? AND uid = ?`)
	if err != nil {
		return nil, err
	}
	defer sel.Close()
	for _, uid := range mailstore.SortedUIDs(uids) {
		r, err := scan(sel.QueryRowContext(ctx, mailboxID, uid))
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read UID %d: %w", uid, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Copy copies messages with their flags and internal date; destination
// UIDs ascend in source-UID order (RFC 4315 COPYUID). Copies carry no
// delivery id: the original keeps it.
func (s *Store) Copy(ctx context.Context, user string, srcID int64, uids []uint32, dstID int64) (src, dst []uint32, err error) {
	if uids == nil {
		uids = []uint32{} // nil means "all" only internally
	}
	err = s.write(ctx, "copy", func(w *writeTx) error {
		src, dst = nil, nil
		if err := checkOwned(ctx, w, user, srcID, dstID); err != nil {
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
	if err := checkOwned(ctx, w, user, srcID, dstID); err != nil {
		return nil, nil, err
	}
	rows, err := w.loadRows(ctx, srcID, uids)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range rows {
		db, err := w.touch(ctx, user, dstID)
		if err != nil {
			return nil, nil, err
		}
		sb, err := w.touch(ctx, user, srcID)
		if err != nil {
			return nil, nil, err
		}
		uid, err := db.allocUID()
		if err != nil {
			return nil, nil, err
		}
		if _, err := w.tx.ExecContext(ctx, `UPDATE messages SET mailbox_id = ?, uid = ?, modseq = ?, savedate = ?
			WHERE id = ?`, dstID, uid, db.modSeq, w.now.UnixNano(), r.id); err != nil {
			return nil, nil, fmt.Errorf("move UID %d: %w", r.uid, err)
		}
		if err := w.tombstone(ctx, srcID, r.uid, sb.modSeq); err != nil {
			return nil, nil, err
		}
		src, dst = append(src, r.uid), append(dst, uid)
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

func checkOwned(ctx context.Context, w *writeTx, user string, ids ...int64) error {
	for _, id := range ids {
		if _, err := ownedMailbox(ctx, w.tx, user, id); err != nil {
			return err
		}
	}
	return nil
}

// tombstone records an expunged UID so Changes can report it.
func (w *writeTx) tombstone(ctx context.Context, mailboxID int64, uid uint32, modSeq uint64) error {
	_, err := w.tx.ExecContext(ctx, `INSERT INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)
		ON CONFLICT (mailbox_id, uid) DO UPDATE SET modseq = excluded.modseq`, mailboxID, uid, modSeq)
	if err != nil {
		return fmt.Errorf("record expunge of UID %d: %w", uid, err)
	}
	return nil
}

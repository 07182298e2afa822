package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// SetFlags changes the flags of the given UIDs (RFC 3501 §6.4.6). Only
// messages whose flags actually change get the transaction's new MODSEQ
// and are returned, in UID order; missing UIDs are ignored.
func (s *Store) SetFlags(ctx context.Context, user string, mailboxID int64, uids []uint32, op mailstore.FlagOp,
	flags []string) ([]mailstore.Message, error) {
	change, err := normalizeFlags(flags)
	if err != nil {
		return nil, fmt.Errorf("set flags: %w", err)
	}
	if op != mailstore.FlagsReplace && op != mailstore.FlagsAdd && op != mailstore.FlagsRemove {
		return nil, fmt.Errorf("set flags: unknown operation %d", op)
	}
	var out []mailstore.Message
	err = s.write(ctx, "set flags", func(w *writeTx) error {
		out = nil // in case of a retried closure
		if _, err := ownedMailbox(ctx, w.tx, user, mailboxID); err != nil {
			return err
		}
		sel, err := w.tx.PrepareContext(ctx, `SELECT `+messageCols+` FROM messages WHERE mailbox_id = ? AND uid = ?`)
		if err != nil {
			return err
		}
		defer sel.Close()
		upd, err := w.tx.PrepareContext(ctx, `UPDATE messages SET flags = ?, seen = ?, deleted = ?, modseq = ?
			WHERE mailbox_id = ? AND uid = ?`)
		if err != nil {
			return err
		}
		defer upd.Close()
		for _, uid := range sortedUnique(uids) {
			m, err := scanMessage(sel.QueryRowContext(ctx, mailboxID, uid))
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("read UID %d: %w", uid, err)
			}
			next, changed := applyFlags(m.Flags, op, change)
			if !changed {
				continue
			}
			b, err := w.touch(ctx, user, mailboxID)
			if err != nil {
				return err
			}
			if _, err := upd.ExecContext(ctx, joinFlags(next), hasFlag(next, `\Seen`), hasFlag(next, `\Deleted`),
				b.modSeq, mailboxID, uid); err != nil {
				return fmt.Errorf("update UID %d: %w", uid, err)
			}
			m.Flags, m.ModSeq = next, b.modSeq
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func sortedUnique(uids []uint32) []uint32 {
	u := slices.Clone(uids)
	slices.Sort(u)
	return slices.Compact(u)
}

package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// SetFlags changes the flags of the given UIDs (RFC 3501 §6.4.6). Only
// messages whose flags actually change get the transaction's new MODSEQ
// and are returned, in UID order; missing UIDs are ignored.
func (s *Store) SetFlags(ctx context.Context, user string, mailboxID int64, uids []uint32, op mailstore.FlagOp,
	flags []string) ([]mailstore.Message, error) {
	changed, _, err := s.SetFlagsIf(ctx, user, mailboxID, mailstore.ConditionalFlags{
		UIDs: uids, Op: op, Flags: flags, UnchangedSince: math.MaxUint64})
	return changed, err
}

// SetFlagsIf is SetFlags with the UNCHANGEDSINCE test of RFC 7162 §3.1.3,
// made in the write transaction, which the single write connection
// serializes with every other change.
func (s *Store) SetFlagsIf(ctx context.Context, user string, mailboxID int64,
	req mailstore.ConditionalFlags) (changed []mailstore.Message, modified []uint32, err error) {
	uids, op, flags := req.UIDs, req.Op, req.Flags
	change, err := mailstore.NormalizeFlags(flags)
	if err != nil {
		return nil, nil, fmt.Errorf("set flags: %w", err)
	}
	if op != mailstore.FlagsReplace && op != mailstore.FlagsAdd && op != mailstore.FlagsRemove {
		return nil, nil, fmt.Errorf("set flags: unknown operation %d", op)
	}
	var out []mailstore.Message
	err = s.write(ctx, "set flags", func(w *writeTx) error {
		out, modified = nil, nil // in case of a retried closure
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
		for _, uid := range mailstore.SortedUIDs(uids) {
			m, err := scanMessage(sel.QueryRowContext(ctx, mailboxID, uid))
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("read UID %d: %w", uid, err)
			}
			if m.ModSeq > req.UnchangedSince {
				modified = append(modified, uid)
				continue
			}
			next, changed := mailstore.ApplyFlags(m.Flags, op, change)
			if !changed {
				continue
			}
			b, err := w.touch(ctx, user, mailboxID)
			if err != nil {
				return err
			}
			if _, err := upd.ExecContext(ctx, mailstore.JoinFlags(next), slices.Contains(next, `\Seen`), slices.Contains(next, `\Deleted`),
				b.modSeq, mailboxID, uid); err != nil {
				return fmt.Errorf("update UID %d: %w", uid, err)
			}
			m.Flags, m.ModSeq = next, b.modSeq
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, modified, nil
}

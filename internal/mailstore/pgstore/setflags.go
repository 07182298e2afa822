package pgstore

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/jackc/pgx/v5"

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
// made after taking the mailbox's row lock, so no other writer can change
// a message between the test and the update.
func (s *Store) SetFlagsIf(ctx context.Context, user string, mailboxID int64,
	req mailstore.ConditionalFlags) (changed []mailstore.Message, modified []uint32, err error) {
	op := req.Op
	change, err := mailstore.NormalizeFlags(req.Flags)
	if err != nil {
		return nil, nil, fmt.Errorf("set flags: %w", err)
	}
	if op != mailstore.FlagsReplace && op != mailstore.FlagsAdd && op != mailstore.FlagsRemove {
		return nil, nil, fmt.Errorf("set flags: unknown operation %d", op)
	}
	want := make([]int64, 0, len(req.UIDs))
	for _, u := range mailstore.SortedUIDs(req.UIDs) {
		want = append(want, int64(u))
	}
	var out []mailstore.Message
	err = s.write(ctx, "set flags", func(w *writeTx) error {
		out, modified = nil, nil
		b, err := w.lock(ctx, user, mailboxID)
		if err != nil {
			return err
		}
		msgs, err := queryMessages(ctx, w.tx, `SELECT `+messageCols+` FROM messages
			WHERE mailbox_id = $1 AND uid = ANY($2) ORDER BY uid`, mailboxID, want)
		if err != nil {
			return err
		}
		batch := &pgx.Batch{}
		for _, m := range msgs {
			if m.ModSeq > req.UnchangedSince {
				modified = append(modified, m.UID)
				continue
			}
			next, ch := mailstore.ApplyFlags(m.Flags, op, change)
			if !ch {
				continue
			}
			b.changed = true
			batch.Queue(`UPDATE messages SET flags = $1, seen = $2, deleted = $3, modseq = $4
				WHERE mailbox_id = $5 AND uid = $6`, mailstore.JoinFlags(next), slices.Contains(next, `\Seen`), slices.Contains(next, `\Deleted`),
				b.modSeq(), mailboxID, m.UID)
			m.Flags, m.ModSeq = next, b.modSeq()
			out = append(out, m)
		}
		if batch.Len() == 0 {
			return nil
		}
		if err := w.tx.SendBatch(ctx, batch).Close(); err != nil {
			return fmt.Errorf("update flags: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, modified, nil
}

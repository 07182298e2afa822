package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

const messageCols = `uid, modseq, flags, internaldate, savedate, size, blob_id, sent`

func scanMessage(sc pgx.Row) (mailstore.Message, error) {
	var m mailstore.Message
	var flags string
	var idate, sdate int64
	var sent *int64
	if err := sc.Scan(&m.UID, &m.ModSeq, &flags, &idate, &sdate, &m.Size, &m.BlobID, &sent); err != nil {
		return m, err
	}
	m.Flags = mailstore.SplitFlags(flags)
	m.InternalDate = time.Unix(0, idate).UTC()
	m.SaveDate = time.Unix(0, sdate).UTC()
	if sent != nil {
		m.Sent = time.Unix(0, *sent).UTC()
	}
	return m, nil
}

// queryMessages runs a query selecting messageCols.
func queryMessages(ctx context.Context, q querier, query string, args ...any) ([]mailstore.Message, error) {
	rows, _ := q.Query(ctx, query, args...)
	msgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mailstore.Message, error) { return scanMessage(r) })
	if len(msgs) == 0 {
		msgs = nil
	}
	return msgs, err
}

// Messages lists a mailbox's messages in UID order.
func (s *Store) Messages(ctx context.Context, user string, mailboxID int64) ([]mailstore.Message, error) {
	var msgs []mailstore.Message
	err := s.read(ctx, func(tx pgx.Tx) error {
		if _, err := ownedMailbox(ctx, tx, user, mailboxID); err != nil {
			return err
		}
		var err error
		msgs, err = queryMessages(ctx, tx, `SELECT `+messageCols+` FROM messages WHERE mailbox_id = $1 ORDER BY uid`, mailboxID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("messages of mailbox %d: %w", mailboxID, err)
	}
	return msgs, nil
}

// Changes reports what changed after sinceModSeq, read in one snapshot so
// HighestModSeq matches the lists (RFC 7162 §3.1.4.1, §3.2.5.2).
func (s *Store) Changes(ctx context.Context, user string, mailboxID int64, sinceModSeq uint64) (mailstore.Changes, error) {
	var ch mailstore.Changes
	err := s.read(ctx, func(tx pgx.Tx) error {
		if _, err := ownedMailbox(ctx, tx, user, mailboxID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT highestmodseq, uidnext FROM mailboxes WHERE id = $1`, mailboxID).
			Scan(&ch.HighestModSeq, &ch.UIDNext); err != nil {
			return err
		}
		var err error
		ch.Updated, err = queryMessages(ctx, tx, `SELECT `+messageCols+` FROM messages
			WHERE mailbox_id = $1 AND modseq > $2 ORDER BY uid`, mailboxID, sinceModSeq)
		if err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT uid FROM expunged WHERE mailbox_id = $1 AND modseq > $2 ORDER BY uid`,
			mailboxID, sinceModSeq)
		ch.Expunged, err = pgx.CollectRows(rows, pgx.RowTo[uint32])
		if len(ch.Expunged) == 0 {
			ch.Expunged = nil
		}
		return err
	})
	if err != nil {
		return mailstore.Changes{}, fmt.Errorf("changes of mailbox %d: %w", mailboxID, err)
	}
	return ch, nil
}

// Status returns the mailbox's counters and message counts (RFC 3501
// §6.3.10, RFC 8438 STATUS=SIZE).
func (s *Store) Status(ctx context.Context, user string, mailboxID int64) (mailstore.Status, error) {
	var st mailstore.Status
	err := s.read(ctx, func(tx pgx.Tx) error {
		if _, err := ownedMailbox(ctx, tx, user, mailboxID); err != nil {
			return err
		}
		var err error
		st.MailboxInfo, err = scanMailbox(tx.QueryRow(ctx, `SELECT `+mailboxCols+` FROM mailboxes WHERE id = $1`, mailboxID))
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE NOT seen), count(*) FILTER (WHERE deleted),
			coalesce(sum(size), 0), count(*) FILTER (WHERE uid >= (SELECT recent_uid FROM mailboxes WHERE id = $1))
			FROM messages WHERE mailbox_id = $1`, mailboxID).
			Scan(&st.Messages, &st.Unseen, &st.Deleted, &st.Size, &st.Recent)
	})
	if err != nil {
		return mailstore.Status{}, fmt.Errorf("status of mailbox %d: %w", mailboxID, err)
	}
	return st, nil
}

package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

const messageCols = `uid, modseq, flags, internaldate, savedate, size, blob_id, sent`

func scanMessage(sc interface{ Scan(...any) error }) (mailstore.Message, error) {
	var m mailstore.Message
	var flags string
	var idate, sdate int64
	var sent sql.NullInt64
	if err := sc.Scan(&m.UID, &m.ModSeq, &flags, &idate, &sdate, &m.Size, &m.BlobID, &sent); err != nil {
		return m, err
	}
	m.Flags = mailstore.SplitFlags(flags)
	m.InternalDate = time.Unix(0, idate).UTC()
	m.SaveDate = time.Unix(0, sdate).UTC()
	if sent.Valid {
		m.Sent = time.Unix(0, sent.Int64).UTC()
	}
	return m, nil
}

// queryMessages runs a query selecting messageCols.
func queryMessages(ctx context.Context, q querier, query string, args ...any) ([]mailstore.Message, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []mailstore.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Messages lists a mailbox's messages in UID order.
func (s *Store) Messages(ctx context.Context, user string, mailboxID int64) ([]mailstore.Message, error) {
	tx, err := s.readTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("messages: %w", err)
	}
	defer tx.Rollback()
	if _, err := ownedMailbox(ctx, tx, user, mailboxID); err != nil {
		return nil, fmt.Errorf("messages: %w", err)
	}
	msgs, err := queryMessages(ctx, tx, qMessages, mailboxID)
	if err != nil {
		return nil, fmt.Errorf("messages of mailbox %d: %w", mailboxID, err)
	}
	return msgs, nil
}

// Changes reports what changed after sinceModSeq, read in one snapshot so
// HighestModSeq matches the lists (RFC 7162 §3.1.4.1, §3.2.5.2).
func (s *Store) Changes(ctx context.Context, user string, mailboxID int64, sinceModSeq uint64) (mailstore.Changes, error) {
	var ch mailstore.Changes
	tx, err := s.readTx(ctx)
	if err != nil {
		return ch, fmt.Errorf("changes: %w", err)
	}
	defer tx.Rollback()
	if _, err := ownedMailbox(ctx, tx, user, mailboxID); err != nil {
		return ch, fmt.Errorf("changes: %w", err)
	}
	if err := tx.QueryRowContext(ctx, qChangesCounters, mailboxID).
		Scan(&ch.HighestModSeq, &ch.UIDNext); err != nil {
		return ch, fmt.Errorf("changes of mailbox %d: %w", mailboxID, err)
	}
	ch.Updated, err = queryMessages(ctx, tx, qUpdatedSince, mailboxID, sinceModSeq)
	if err != nil {
		return ch, fmt.Errorf("changes of mailbox %d: %w", mailboxID, err)
	}
	rows, err := tx.QueryContext(ctx, qExpungedSince,
		mailboxID, sinceModSeq)
	if err != nil {
		return ch, fmt.Errorf("expunged of mailbox %d: %w", mailboxID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var uid uint32
		if err := rows.Scan(&uid); err != nil {
			return ch, fmt.Errorf("expunged of mailbox %d: %w", mailboxID, err)
		}
		ch.Expunged = append(ch.Expunged, uid)
	}
	if err := rows.Err(); err != nil {
		return ch, fmt.Errorf("expunged of mailbox %d: %w", mailboxID, err)
	}
	return ch, nil
}

// Status returns the mailbox's counters and message counts (RFC 3501
// §6.3.10, RFC 8438 STATUS=SIZE).
func (s *Store) Status(ctx context.Context, user string, mailboxID int64) (mailstore.Status, error) {
	var st mailstore.Status
	tx, err := s.readTx(ctx)
	if err != nil {
		return st, fmt.Errorf("status: %w", err)
	}
	defer tx.Rollback()
	if _, err := ownedMailbox(ctx, tx, user, mailboxID); err != nil {
		return st, fmt.Errorf("status: %w", err)
	}
	st.MailboxInfo, err = scanMailbox(tx.QueryRowContext(ctx, qMailboxByID, mailboxID))
	if err != nil {
		return st, fmt.Errorf("status of mailbox %d: %w", mailboxID, err)
	}
	err = tx.QueryRowContext(ctx, qStatusCounts, mailboxID).
		Scan(&st.Messages, &st.Unseen, &st.Deleted, &st.Size, &st.Recent)
	if err != nil {
		return st, fmt.Errorf("status of mailbox %d: %w", mailboxID, err)
	}
	return st, nil
}

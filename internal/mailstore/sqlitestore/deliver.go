package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// newRow is a message row to insert.
type newRow struct {
	flags        []string
	internalDate time.Time
	size         int64
	blobID       string
	deliveryID   string
}

func rowFor(msg mailstore.NewMessage, flags []string, p mailstore.PutResult) newRow {
	return newRow{flags: flags, internalDate: msg.InternalDate, size: p.Size, blobID: p.ID, deliveryID: msg.DeliveryID}
}

// insertMessage adds a message with the next UID and this transaction's
// MODSEQ of the mailbox.
func (w *writeTx) insertMessage(ctx context.Context, user string, mailboxID int64, r newRow) (uint32, error) {
	b, err := w.touch(ctx, user, mailboxID)
	if err != nil {
		return 0, err
	}
	uid, err := b.allocUID()
	if err != nil {
		return 0, err
	}
	idate := r.internalDate
	if idate.IsZero() {
		idate = w.now
	}
	var deliveryID sql.NullString
	if r.deliveryID != "" {
		deliveryID = sql.NullString{String: r.deliveryID, Valid: true}
	}
	_, err = w.tx.ExecContext(ctx, qInsertMessage,
		mailboxID, uid, b.modSeq, mailstore.JoinFlags(r.flags), slices.Contains(r.flags, `\Seen`), slices.Contains(r.flags, `\Deleted`),
		idate.UnixNano(), w.now.UnixNano(), r.size, r.blobID, deliveryID)
	if err != nil {
		return 0, fmt.Errorf("insert message: %w", err)
	}
	return uid, nil
}

// duplicate finds the message stored under deliveryID.
func (w *writeTx) duplicate(ctx context.Context, deliveryID string) (mailbox string, uid uint32, found bool, err error) {
	if deliveryID == "" {
		return "", 0, false, nil
	}
	err = w.tx.QueryRowContext(ctx, qDuplicate, deliveryID).Scan(&mailbox, &uid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, fmt.Errorf("look up delivery id: %w", err)
	}
	return mailbox, uid, true, nil
}

// Append adds one message to a mailbox (RFC 3501 §6.3.11). A DeliveryID
// already stored returns the existing message's UID and adds nothing.
func (s *Store) Append(ctx context.Context, user string, mailboxID int64, msg mailstore.NewMessage) (uint32, error) {
	flags, err := mailstore.NormalizeFlags(msg.Flags)
	if err != nil {
		return 0, fmt.Errorf("append: %w", err)
	}
	if msg.Body == nil {
		return 0, errors.New("append: nil body")
	}
	p := mailstore.PutBodies(ctx, s.blobs, []io.Reader{msg.Body})[0]
	if p.Err != nil {
		return 0, fmt.Errorf("append: %w", p.Err)
	}
	var uid uint32
	err = s.write(ctx, "append", func(w *writeTx) error {
		if _, err := ownedMailbox(ctx, w.tx, user, mailboxID); err != nil {
			return err
		}
		_, dupUID, found, err := w.duplicate(ctx, msg.DeliveryID)
		if err != nil || found {
			uid = dupUID
			return err
		}
		if err := w.checkQuota(ctx, user, p.Size, 1); err != nil {
			return err
		}
		uid, err = w.insertMessage(ctx, user, mailboxID, rowFor(msg, flags, p))
		return err
	})
	return uid, err
}

// Deliver stores each delivery in its account's mailbox: all bodies first,
// then one transaction for all metadata. A missing or invalid mailbox name
// falls back to INBOX; an unknown account fails that delivery with
// ErrNoAccount (accounts are created only by EnsureAccount). The returned
// error is non-nil only when the transaction as a whole failed.
func (s *Store) Deliver(ctx context.Context, deliveries []mailstore.Delivery) ([]mailstore.DeliveryResult, error) {
	results := make([]mailstore.DeliveryResult, len(deliveries))
	flags := make([][]string, len(deliveries))
	bodies := make([]io.Reader, len(deliveries))
	for i, d := range deliveries {
		f, err := mailstore.NormalizeFlags(d.Message.Flags)
		switch {
		case err != nil:
			results[i].Err = err
		case d.Message.Body == nil:
			results[i].Err = errors.New("nil body")
		default:
			flags[i] = f
			bodies[i] = d.Message.Body
		}
	}
	puts := mailstore.PutBodies(ctx, s.blobs, bodies)
	for i := range puts {
		if puts[i].Err != nil {
			results[i].Err = puts[i].Err
		}
	}

	err := s.write(ctx, "deliver", func(w *writeTx) error {
		accts := map[string]error{}
		for i, d := range deliveries {
			r := &results[i]
			if r.Err != nil {
				continue
			}
			if err, ok := accts[d.User]; !ok {
				_, err = accountID(ctx, w.tx, d.User)
				accts[d.User] = err
			}
			if err := accts[d.User]; err != nil {
				if !errors.Is(err, mailstore.ErrNoAccount) {
					return err
				}
				r.Err = err
				continue
			}
			name, uid, found, err := w.duplicate(ctx, d.Message.DeliveryID)
			if err != nil {
				return err
			}
			if found {
				r.Mailbox, r.UID, r.Duplicate = name, uid, true
				continue
			}
			mb, err := deliveryMailbox(ctx, w.tx, d.User, d.Mailbox)
			if err != nil {
				if errors.Is(err, mailstore.ErrNoMailbox) {
					r.Err = err
					continue
				}
				return err
			}
			if err := w.checkQuota(ctx, d.User, puts[i].Size, 1); err != nil {
				if !errors.Is(err, mailstore.ErrOverQuota) {
					return err
				}
				r.Err = err // this delivery only; the rest of the batch goes on
				continue
			}
			uid, err = w.insertMessage(ctx, d.User, mb.ID, rowFor(d.Message, flags[i], puts[i]))
			if err != nil {
				return err
			}
			r.Mailbox, r.UID = mb.Name, uid
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// deliveryMailbox resolves a delivery's target, falling back to INBOX when
// the name is empty, invalid or missing (e.g. a Sieve fileinto of a
// mailbox the user deleted).
func deliveryMailbox(ctx context.Context, q querier, user, name string) (mailstore.MailboxInfo, error) {
	if name != "" {
		mb, err := mailboxByName(ctx, q, user, name)
		if err == nil {
			return mb, nil
		}
		if !errors.Is(err, mailstore.ErrNoMailbox) && !errors.Is(err, mailstore.ErrInvalidName) {
			return mb, err
		}
	}
	return mailboxByName(ctx, q, user, mailstore.Inbox)
}

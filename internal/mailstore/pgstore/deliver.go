package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
// MODSEQ of the mailbox. Its sent date comes from the blob's index entry;
// write queues blobs left without one (queueUnindexed).
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
	var deliveryID *string
	if r.deliveryID != "" {
		deliveryID = &r.deliveryID
	}
	_, err = w.tx.Exec(ctx, `INSERT INTO messages (account_id, mailbox_id, uid, modseq, flags, seen, deleted,
			internaldate, savedate, size, blob_id, delivery_id, sent)
		VALUES ((SELECT account_id FROM mailboxes WHERE id = $1), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
			(SELECT coalesce(d.sent, $7) FROM fts_docs d WHERE d.blob_id = $10))`,
		mailboxID, uid, b.modSeq(), mailstore.JoinFlags(r.flags), slices.Contains(r.flags, `\Seen`), slices.Contains(r.flags, `\Deleted`),
		idate.UnixNano(), w.now.UnixNano(), r.size, r.blobID, deliveryID)
	if err != nil {
		return 0, fmt.Errorf("insert message: %w", err)
	}
	w.inserted = append(w.inserted, r.blobID)
	return uid, nil
}

// duplicate finds the message stored under deliveryID.
func (w *writeTx) duplicate(ctx context.Context, deliveryID string) (mailbox string, uid uint32, found bool, err error) {
	if deliveryID == "" {
		return "", 0, false, nil
	}
	err = w.tx.QueryRow(ctx, `SELECT mb.name, m.uid FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id
		WHERE m.delivery_id = $1`, deliveryID).Scan(&mailbox, &uid)
	if errors.Is(err, pgx.ErrNoRows) {
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
	docs, err := s.extractNew(ctx, []string{p.ID})
	if err != nil {
		return 0, fmt.Errorf("append: %w", err)
	}
	var uid uint32
	err = s.write(ctx, "append", func(w *writeTx) error {
		uid = 0
		if _, err := w.lock(ctx, user, mailboxID); err != nil {
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
		added, err := w.addDocs(ctx, docs)
		if err != nil {
			return err
		}
		if uid, err = w.insertMessage(ctx, user, mailboxID, rowFor(msg, flags, p)); err != nil {
			return err
		}
		return w.dropUnusedDocs(ctx, added)
	})
	return uid, err
}

// Deliver stores each delivery in its account's mailbox: all bodies first
// (and their text extracted for the index), then one transaction for all
// metadata. A missing or invalid mailbox name falls back to INBOX; an
// unknown account fails that delivery with ErrNoAccount. The returned
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
	var ids []string
	for i := range puts {
		if puts[i].Err != nil {
			results[i].Err = puts[i].Err
		} else if bodies[i] != nil {
			ids = append(ids, puts[i].ID)
		}
	}
	docs, err := s.extractNew(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("deliver: %w", err)
	}
	pre := make([]error, len(results))
	order := make([]int, len(results))
	for i := range results {
		pre[i], order[i] = results[i].Err, i
	}
	// Every batch takes the mailbox and account locks in user order, so
	// two batches naming the same recipients in other orders queue
	// instead of deadlocking (which PostgreSQL would only notice after
	// deadlock_timeout, a second by default).
	slices.SortStableFunc(order, func(x, y int) int { return strings.Compare(deliveries[x].User, deliveries[y].User) })

	err = s.write(ctx, "deliver", func(w *writeTx) error {
		added, err := w.addDocs(ctx, docs)
		if err != nil {
			return err
		}
		accts := map[string]error{}
		for _, i := range order {
			d := deliveries[i]
			r := &results[i]
			*r = mailstore.DeliveryResult{Err: pre[i]}
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
			if _, err := w.lock(ctx, d.User, mb.ID); err != nil {
				if errors.Is(err, mailstore.ErrNoMailbox) {
					r.Err = err // deleted since it was looked up
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
		return w.dropUnusedDocs(ctx, added)
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

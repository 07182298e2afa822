package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// writeTx is one write transaction. It allocates UIDs and the MODSEQ of
// each mailbox it changes from the database, inside the transaction, and
// writes the new UIDNEXT/HIGHESTMODSEQ back before commit.
type writeTx struct {
	tx    cachedTx
	now   time.Time
	boxes map[int64]*boxState
	// notify lists mailboxes to signal after commit that are not in boxes
	// (deleted or renamed ones).
	notify []watchKey
	// indexing marks the full-text indexer's own transactions, which
	// must not count as activity it yields to (fts.go).
	indexing bool
	// maxMailboxes bounds an account's mailboxes in createMailbox.
	maxMailboxes int
}

type watchKey struct {
	user string
	id   int64
}

// boxState is a mailbox changed by this transaction.
type boxState struct {
	user    string
	uidNext uint32
	modSeq  uint64 // the MODSEQ of every change in this transaction
}

// write runs fn in a BEGIN IMMEDIATE transaction on the single write
// connection, commits, and then notifies watchers of changed mailboxes.
// A full disk fails it with mailstore.ErrNoSpace.
func (s *Store) write(ctx context.Context, op string, fn func(w *writeTx) error) (err error) {
	defer func() { err = noSpace(err) }()
	start := time.Now()
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", op, err)
	}
	w := &writeTx{tx: cachedTx{tx, s.wcache}, now: time.Now(), boxes: map[int64]*boxState{}, maxMailboxes: s.maxMailboxes}
	if err := fn(w); err != nil {
		tx.Rollback()
		return fmt.Errorf("%s: %w", op, err)
	}
	for id, b := range w.boxes {
		if _, err := w.tx.ExecContext(ctx, qSetCounters,
			b.uidNext, b.modSeq, id); err != nil {
			tx.Rollback()
			return fmt.Errorf("%s: update mailbox counters: %w", op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		// A failed COMMIT may or may not have reached the disk; callers
		// treat it as unknown and rely on delivery ids on retry.
		return fmt.Errorf("%s: commit: %w", op, err)
	}
	for id, b := range w.boxes {
		s.hub.Notify(b.user, id)
	}
	for _, k := range w.notify {
		s.hub.Notify(k.user, k.id)
	}
	if !w.indexing {
		s.wakeIndexer()
	}
	s.log.Debug("mailstore write", "op", op, "mailboxes", len(w.boxes), "duration", time.Since(start))
	return nil
}

// touch marks the mailbox as changed by this transaction and returns its
// state, with modSeq = HIGHESTMODSEQ+1 allocated once per transaction.
func (w *writeTx) touch(ctx context.Context, user string, mailboxID int64) (*boxState, error) {
	if b, ok := w.boxes[mailboxID]; ok {
		return b, nil
	}
	var uidNext uint32
	var highest uint64
	err := w.tx.QueryRowContext(ctx, qCounters, mailboxID).
		Scan(&uidNext, &highest)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("mailbox %d: %w", mailboxID, mailstore.ErrNoMailbox)
	}
	if err != nil {
		return nil, fmt.Errorf("mailbox %d: %w", mailboxID, err)
	}
	b := &boxState{user: user, uidNext: uidNext, modSeq: highest + 1}
	w.boxes[mailboxID] = b
	return b, nil
}

// allocUID returns the next UID of a touched mailbox.
func (b *boxState) allocUID() (uint32, error) {
	if b.uidNext == math.MaxUint32 {
		// RFC 3501 §2.3.1.1: UIDs are 32-bit; the mailbox is full until
		// a new UIDVALIDITY, which this store never assigns.
		return 0, errors.New("mailbox UID space exhausted")
	}
	uid := b.uidNext
	b.uidNext++
	return uid, nil
}

// ownedMailbox checks that mailboxID belongs to user and returns its name.
func ownedMailbox(ctx context.Context, q querier, user string, mailboxID int64) (string, error) {
	var name string
	err := q.QueryRowContext(ctx, qOwnedMailbox, mailboxID, user).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("mailbox %d of %q: %w", mailboxID, user, mailstore.ErrNoMailbox)
	}
	if err != nil {
		return "", fmt.Errorf("mailbox %d: %w", mailboxID, err)
	}
	return name, nil
}

// accountID returns the account's row id or ErrNoAccount.
func accountID(ctx context.Context, q querier, user string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, qAccountID, user).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("account %q: %w", user, mailstore.ErrNoAccount)
	}
	if err != nil {
		return 0, fmt.Errorf("account %q: %w", user, err)
	}
	return id, nil
}

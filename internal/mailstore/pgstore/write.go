package pgstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// writeTx is one write transaction. It locks each mailbox it uses (SELECT
// ... FOR UPDATE), allocates UIDs and one MODSEQ per changed mailbox under
// that lock, and writes the new UIDNEXT/HIGHESTMODSEQ back before commit:
// the row lock serializes writers of a mailbox across processes.
type writeTx struct {
	tx    pgx.Tx
	now   time.Time
	boxes map[int64]*boxState
	// notify lists mailboxes to signal after commit that are not in boxes
	// (deleted or renamed ones).
	notify []watchKey
	// maxMailboxes bounds an account's mailboxes in createMailbox.
	maxMailboxes int
	// inserted lists the blobs of the messages this transaction inserted.
	inserted []string
}

type watchKey struct {
	user string
	id   int64
}

// boxState is a mailbox locked by this transaction.
type boxState struct {
	user    string
	uidNext uint32
	highest uint64 // HIGHESTMODSEQ when locked
	changed bool
}

// modSeq is the MODSEQ of every change to the mailbox in this transaction.
func (b *boxState) modSeq() uint64 { return b.highest + 1 }

// maxAttempts bounds how often write runs a transaction that failed with
// a serialization failure, a deadlock or a concurrent duplicate delivery.
const maxAttempts = 10

// write runs fn in a transaction, commits, and then notifies watchers of
// changed mailboxes. Every change to the store goes through here, so the
// lease fencing of issue #10 ("every write transaction checks holder and
// epoch") is in the transaction below, once (at its end: fence.go says
// why), and so are the cross-node notifications (notify.go). A lost
// lease, mailstore.ErrNotServed, is not retried.
//
// A transaction that PostgreSQL aborts for a serialization failure or a
// deadlock (lock order is mailbox, then account, then blob; batches may
// still cross), or for a delivery id committed concurrently, is run again
// from the start: fn must reset whatever it returns through closures.
func (s *Store) write(ctx context.Context, op string, fn func(w *writeTx) error) error {
	start := time.Now()
	for attempt := 1; ; attempt++ {
		w, err := s.writeOnce(ctx, fn)
		if err == nil {
			for _, k := range w.changed() {
				s.hub.Notify(k.user, k.id)
			}
			s.log.Debug("mailstore write", "op", op, "mailboxes", len(w.boxes), "attempts", attempt, "duration", time.Since(start))
			return nil
		}
		if !retryable(err) || attempt == maxAttempts {
			return fmt.Errorf("%s: %w", op, err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
}

// backoff waits a random time that grows with the attempt (up to 2 ms
// times attempt), so transactions that just collided do not collide again
// in lockstep.
func backoff(ctx context.Context, attempt int) error {
	t := time.NewTimer(time.Duration(rand.Int64N(int64(2 * time.Millisecond * time.Duration(attempt)))))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (s *Store) writeOnce(ctx context.Context, fn func(w *writeTx) error) (*writeTx, error) {
	var l lease
	if s.fence != nil {
		var err error
		if l, err = s.fence.lease(s.name); err != nil {
			return nil, err
		}
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	w := &writeTx{tx: tx, now: time.Now(), boxes: map[int64]*boxState{}, maxMailboxes: s.maxMailboxes}
	if err := fn(w); err != nil {
		return nil, err
	}
	// One round trip for the end of every transaction, lease check first.
	batch := &pgx.Batch{}
	if s.fence != nil {
		s.fence.queueCheck(batch, s.name, l)
	}
	w.queueUnindexed(batch)
	w.queueNotify(batch, s.channel)
	for id, b := range w.boxes {
		if b.changed {
			batch.Queue(`UPDATE mailboxes SET uidnext = $1, highestmodseq = $2 WHERE id = $3`, b.uidNext, b.modSeq(), id)
		}
	}
	if batch.Len() > 0 {
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return nil, fmt.Errorf("check lease, queue unindexed blobs, notify, update mailbox counters: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		// A failed COMMIT may or may not have taken effect; callers
		// treat it as unknown and rely on delivery ids on retry.
		return nil, fmt.Errorf("commit: %w", err)
	}
	return w, nil
}

// changed lists the mailboxes to signal after commit, each once.
func (w *writeTx) changed() []watchKey {
	var keys []watchKey
	for id, b := range w.boxes {
		if b.changed {
			keys = append(keys, watchKey{b.user, id})
		}
	}
	for _, k := range w.notify {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// retryable reports errors after which the whole transaction may simply
// run again: 40001 serialization_failure, 40P01 deadlock_detected, and a
// unique violation of the delivery id (another transaction committed the
// same delivery; the next attempt finds it as a duplicate).
func retryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	return pe.Code == "40001" || pe.Code == "40P01" ||
		pe.Code == "23505" && pe.ConstraintName == "messages_delivery_id"
}

// lock checks that the mailbox is user's and takes its row lock for the
// rest of the transaction, and returns its state; every read of its
// messages after this sees all committed changes and none can commit
// meanwhile. A mailbox of another account is ErrNoMailbox.
func (w *writeTx) lock(ctx context.Context, user string, mailboxID int64) (*boxState, error) {
	if b, ok := w.boxes[mailboxID]; ok {
		return b, nil
	}
	b := &boxState{user: user}
	err := w.tx.QueryRow(ctx, `SELECT m.uidnext, m.highestmodseq FROM mailboxes m JOIN accounts a ON a.id = m.account_id
		WHERE m.id = $1 AND a.name = $2 FOR UPDATE OF m`, mailboxID, user).
		Scan(&b.uidNext, &b.highest)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("mailbox %d of %q: %w", mailboxID, user, mailstore.ErrNoMailbox)
	}
	if err != nil {
		return nil, fmt.Errorf("mailbox %d: %w", mailboxID, err)
	}
	w.boxes[mailboxID] = b
	return b, nil
}

// lockBoxes locks several mailboxes in id order, so two transactions on
// the same pair (a Move each way) do not deadlock.
func (w *writeTx) lockBoxes(ctx context.Context, user string, ids ...int64) error {
	for _, id := range slices.Sorted(slices.Values(ids)) {
		if _, err := w.lock(ctx, user, id); err != nil {
			return err
		}
	}
	return nil
}

// touch locks the mailbox and marks it changed: its HIGHESTMODSEQ becomes
// modSeq() at commit.
func (w *writeTx) touch(ctx context.Context, user string, mailboxID int64) (*boxState, error) {
	b, err := w.lock(ctx, user, mailboxID)
	if err != nil {
		return nil, err
	}
	b.changed = true
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
	err := q.QueryRow(ctx, `SELECT m.name FROM mailboxes m JOIN accounts a ON a.id = m.account_id
		WHERE m.id = $1 AND a.name = $2`, mailboxID, user).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("mailbox %d of %q: %w", mailboxID, user, mailstore.ErrNoMailbox)
	}
	if err != nil {
		return "", fmt.Errorf("mailbox %d: %w", mailboxID, err)
	}
	return name, nil
}

// keepMailbox checks that the mailbox is user's and keeps it from being
// deleted until commit (FOR KEY SHARE: deliveries and flag changes go on),
// so a row this transaction adds for it cannot fail on its foreign key.
func (w *writeTx) keepMailbox(ctx context.Context, user string, mailboxID int64) error {
	var one int
	err := w.tx.QueryRow(ctx, `SELECT 1 FROM mailboxes m JOIN accounts a ON a.id = m.account_id
		WHERE m.id = $1 AND a.name = $2 FOR KEY SHARE OF m`, mailboxID, user).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("mailbox %d of %q: %w", mailboxID, user, mailstore.ErrNoMailbox)
	}
	if err != nil {
		return fmt.Errorf("mailbox %d: %w", mailboxID, err)
	}
	return nil
}

// accountID returns the account's row id or ErrNoAccount.
func accountID(ctx context.Context, q querier, user string) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT id FROM accounts WHERE name = $1`, user).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("account %q: %w", user, mailstore.ErrNoAccount)
	}
	if err != nil {
		return 0, fmt.Errorf("account %q: %w", user, err)
	}
	return id, nil
}

// lockAccount takes the account row's lock: mailbox creation counts and
// names, and quota checks, are then decided on committed data only.
func (w *writeTx) lockAccount(ctx context.Context, acct int64) error {
	if _, err := w.tx.Exec(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, acct); err != nil {
		return fmt.Errorf("lock account %d: %w", acct, err)
	}
	return nil
}

// queueUnindexed queues for the full-text indexer the blobs of inserted
// messages that have no index entry. It runs after the inserts, whose
// triggers hold the blobs' blob_refs rows: a CollectGarbage claim that
// dropped a blob's entry while this transaction was under way has
// committed by then, and this statement, with a new snapshot, sees the
// entry gone. So no message is left unindexed and unqueued.
func (w *writeTx) queueUnindexed(batch *pgx.Batch) {
	if len(w.inserted) == 0 {
		return
	}
	batch.Queue(`INSERT INTO fts_pending (blob_id)
		SELECT DISTINCT id FROM unnest($1::text[]) AS id
		WHERE NOT EXISTS (SELECT 1 FROM fts_docs d WHERE d.blob_id = id)
		ON CONFLICT DO NOTHING`, w.inserted)
}

// lockUser is lockAccount by name: it returns the account's id or
// ErrNoAccount.
func (w *writeTx) lockUser(ctx context.Context, user string) (int64, error) {
	acct, err := accountID(ctx, w.tx, user)
	if err != nil {
		return 0, err
	}
	return acct, w.lockAccount(ctx, acct)
}

// Package sqlitequeue is the embedded queue engine: one SQLite database in
// WAL mode with synchronous=FULL. Bodies are stored inline so that one
// commit (one WAL fsync) makes a whole batch of messages durable: concurrent
// Enqueue calls are gathered by a single committer goroutine (group commit),
// so throughput is not capped at one fsync per message.
package sqlitequeue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rookery-mail/rookery/internal/diskspace"
	"github.com/rookery-mail/rookery/internal/queue"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// maxBatch bounds one group commit, in messages and in body bytes.
const (
	maxBatch      = 256
	maxBatchBytes = 64 << 20
)

// Queue is the SQLite queue engine.
type Queue struct {
	db      *sql.DB
	batches *queue.GroupCommit
}

var _ queue.Store = (*Queue)(nil)

// Open opens or creates the queue database at path.
func Open(ctx context.Context, path string) (*Queue, error) {
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open queue %s: %w", path, err)
	}
	// One connection: writers queue in Go instead of in SQLite's busy
	// handler, which sleeps in coarse steps; the committer batches anyway.
	db.SetMaxOpenConns(1)
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("queue schema %s: %w", path, err)
	}
	q := &Queue{db: db}
	q.batches = queue.NewGroupCommit(q.insert, maxBatch, maxBatchBytes)
	return q, nil
}

// Enqueue stores msg durably; see queue.Store.
func (q *Queue) Enqueue(ctx context.Context, msg *queue.Message) error {
	if err := queue.Prepare(msg); err != nil {
		return err
	}
	return q.batches.Commit(ctx, msg)
}

// insert commits one group of messages in one transaction (one fsync).
func (q *Queue) insert(ctx context.Context, batch []*queue.Message) error {
	err := q.insertTx(ctx, batch)
	if diskspace.IsFull(err) {
		err = fmt.Errorf("%w: %w", queue.ErrNoSpace, err)
	}
	return err
}

func (q *Queue) insertTx(ctx context.Context, batch []*queue.Message) error {
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("queue begin: %w", err)
	}
	defer tx.Rollback()
	for _, m := range batch {
		if _, err := tx.ExecContext(ctx, `INSERT INTO messages(id, mail_from, received, size, smtputf8, require_tls, body) VALUES (?,?,?,?,?,?,?)`,
			m.ID, m.From, m.Received.UnixNano(), len(m.Body), m.SMTPUTF8, m.RequireTLS, m.Body); err != nil {
			return fmt.Errorf("queue insert %s: %w", m.ID, err)
		}
		for _, rc := range m.Recipients {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO recipients(message_id, address, orig, remote, status, next_attempt) VALUES (?,?,?,?,?,?)`,
				m.ID, rc.Address, rc.Orig, rc.Remote, queue.Pending, m.Received.UnixNano()); err != nil {
				return fmt.Errorf("queue insert %s recipient: %w", m.ID, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("queue commit: %w", err)
	}
	return nil
}

// ReleaseAllClaims ends every claim, whoever holds it: for a queue
// restored from a backup, whose claims belong to runs that no longer exist.
func (q *Queue) ReleaseAllClaims(ctx context.Context) error {
	if _, err := q.db.ExecContext(ctx, `UPDATE recipients SET claim_owner = '', claim_until = 0 WHERE claim_until != 0`); err != nil {
		return fmt.Errorf("queue release claims: %w", err)
	}
	return nil
}

// ReleaseClaims ends owner's claims; see queue.Store.
func (q *Queue) ReleaseClaims(ctx context.Context, owner string) (int, error) {
	res, err := q.db.ExecContext(ctx, `UPDATE recipients SET claim_owner = '', claim_until = 0 WHERE claim_owner = ? AND claim_until != 0`, owner)
	if err != nil {
		return 0, fmt.Errorf("queue release claims: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Due claims due work; see queue.Store. The transaction is IMMEDIATE
// (the DSN's _txlock), so claims by several handles or processes on one
// database are serialized by SQLite's write lock.
func (q *Queue) Due(ctx context.Context, req queue.ClaimRequest) ([]*queue.Message, error) {
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("queue due: %w", err)
	}
	defer tx.Rollback()
	now := req.Now.UnixNano()
	// dueRcpt is the condition on a recipient r of a message m.
	const dueRcpt = `r.status = 'pending' AND r.next_attempt <= :now AND r.claim_until <= :now AND m.held = 0
		AND ((r.remote = 0 AND :local) OR (r.remote = 1 AND :remote))`
	// The inner query walks recipients_due by retry time, as a backlog's
	// messages become due in about arrival order.
	rows, err := tx.QueryContext(ctx, `
		SELECT `+queue.MessageColumns+`
		FROM messages m JOIN recipients r ON r.message_id = m.id
		WHERE m.id IN (SELECT DISTINCT r.message_id FROM recipients r JOIN messages m ON m.id = r.message_id
		               WHERE `+dueRcpt+` ORDER BY r.next_attempt LIMIT :limit)
		  AND `+dueRcpt+`
		ORDER BY m.received, m.id, r.rowid`,
		sql.Named("now", now), sql.Named("local", req.Local), sql.Named("remote", req.Remote), sql.Named("limit", req.Limit))
	if err != nil {
		return nil, fmt.Errorf("queue due: %w", err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return nil, err
	}
	until := req.Now.Add(req.TTL)
	for _, m := range msgs {
		for i := range m.Recipients {
			rc := &m.Recipients[i]
			if _, err := tx.ExecContext(ctx, `UPDATE recipients SET claim_owner = ?, claim_until = ? WHERE message_id = ? AND address = ?`,
				req.Owner, until.UnixNano(), m.ID, rc.Address); err != nil {
				return nil, fmt.Errorf("queue claim %s: %w", m.ID, err)
			}
			rc.ClaimOwner, rc.ClaimUntil = req.Owner, until
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("queue due: commit: %w", err)
	}
	return msgs, nil
}

// List returns all queued messages; see queue.Store.
func (q *Queue) List(ctx context.Context) ([]*queue.Message, error) {
	rows, err := q.db.QueryContext(ctx, `
		SELECT `+queue.MessageColumns+`
		FROM messages m JOIN recipients r ON r.message_id = m.id ORDER BY m.received, m.id`)
	if err != nil {
		return nil, fmt.Errorf("queue list: %w", err)
	}
	return scanMessages(rows)
}

func scanMessages(rows *sql.Rows) ([]*queue.Message, error) {
	defer rows.Close()
	var mr queue.MessageRows
	for rows.Next() {
		if err := mr.Scan(rows); err != nil {
			return nil, fmt.Errorf("queue scan: %w", err)
		}
	}
	return mr.Messages(), rows.Err()
}

// Body returns a message body; see queue.Store.
func (q *Queue) Body(ctx context.Context, id string) ([]byte, error) {
	var body []byte
	err := q.db.QueryRowContext(ctx, `SELECT body FROM messages WHERE id = ?`, id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", queue.ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("queue body %s: %w", id, err)
	}
	return body, nil
}

// Complete records results; see queue.Store.
func (q *Queue) Complete(ctx context.Context, results []queue.Result) error {
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("queue begin: %w", err)
	}
	defer tx.Rollback()
	touched := map[string]bool{}
	for _, r := range results {
		at := r.Attempted
		if at.IsZero() {
			at = time.Now()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE recipients SET status = ?, attempts = attempts + 1, next_attempt = ?, last_error = ?, last_attempt = ?,
			claim_owner = '', claim_until = 0 WHERE message_id = ? AND address = ?`,
			r.Status, r.NextAttempt.UnixNano(), r.Error, at.UnixNano(), r.MessageID, r.Recipient); err != nil {
			return fmt.Errorf("queue complete %s: %w", r.MessageID, err)
		}
		touched[r.MessageID] = true
	}
	for id := range touched {
		if _, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE id = ? AND NOT EXISTS (SELECT 1 FROM recipients WHERE message_id = ? AND status != ?)`,
			id, id, queue.Delivered); err != nil {
			return fmt.Errorf("queue remove %s: %w", id, err)
		}
	}
	return tx.Commit()
}

// Close stops the committer and closes the database. Enqueue calls already
// being committed are finished first.
func (q *Queue) Close() error {
	q.batches.Close()
	return q.db.Close()
}

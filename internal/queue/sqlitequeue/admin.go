package sqlitequeue

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/rookery-mail/rookery/internal/queue"
)

// Get returns one message without body; see queue.Store.
func (q *Queue) Get(ctx context.Context, id string) (*queue.Message, error) {
	rows, err := q.db.QueryContext(ctx, `
		SELECT `+queue.MessageColumns+`
		FROM messages m JOIN recipients r ON r.message_id = m.id WHERE m.id = ? ORDER BY r.rowid`, id)
	if err != nil {
		return nil, fmt.Errorf("queue get %s: %w", id, err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return nil, fmt.Errorf("%w: %s", queue.ErrNotFound, id)
	}
	return msgs[0], nil
}

// Hold sets the held mark; see queue.Store.
func (q *Queue) Hold(ctx context.Context, id string) error {
	return q.execOne(ctx, "hold", id, `UPDATE messages SET held = 1 WHERE id = ?`, id)
}

// Release clears the held mark; see queue.Store.
func (q *Queue) Release(ctx context.Context, id string) error {
	return q.execOne(ctx, "release", id, `UPDATE messages SET held = 0 WHERE id = ?`, id)
}

// MarkWarned records the delay DSN; see queue.Store.
func (q *Queue) MarkWarned(ctx context.Context, id string) error {
	return q.execOne(ctx, "mark warned", id, `UPDATE messages SET warned = 1 WHERE id = ?`, id)
}

// Delete removes a message; recipients go with it (ON DELETE CASCADE).
func (q *Queue) Delete(ctx context.Context, id string) error {
	return q.execOne(ctx, "delete", id, `DELETE FROM messages WHERE id = ?`, id)
}

// RetryNow makes the pending recipients due; see queue.Store. The wall
// clock is right here: an administrator asks for "now".
func (q *Queue) RetryNow(ctx context.Context, id string) error {
	if _, err := q.Get(ctx, id); err != nil {
		return err
	}
	if _, err := q.db.ExecContext(ctx, `UPDATE recipients SET next_attempt = ? WHERE message_id = ? AND status = ?`,
		time.Now().UnixNano(), id, queue.Pending); err != nil {
		return fmt.Errorf("queue retry %s: %w", id, err)
	}
	return nil
}

// execOne runs a statement on one message, reporting ErrNotFound when it
// touched no row.
func (q *Queue) execOne(ctx context.Context, op, id, stmt string, args ...any) error {
	res, err := q.db.ExecContext(ctx, stmt, args...)
	if err != nil {
		return fmt.Errorf("queue %s %s: %w", op, id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("queue %s %s: %w", op, id, err)
	} else if n == 0 {
		return fmt.Errorf("%w: %s", queue.ErrNotFound, id)
	}
	return nil
}

// Purge removes finished messages kept for their failures; see queue.Store.
func (q *Queue) Purge(ctx context.Context, before time.Time) (int, error) {
	res, err := q.db.ExecContext(ctx, `
		DELETE FROM messages WHERE id IN (
			SELECT message_id FROM recipients GROUP BY message_id
			HAVING SUM(status = ?) = 0 AND MAX(last_attempt) < ?)`, queue.Pending, before.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("queue purge: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Stats counts the queue; see queue.Store. The two queries may see
// different commits, which a gauge can live with.
func (q *Queue) Stats(ctx context.Context) (queue.Stats, error) {
	var (
		s      queue.Stats
		oldest sql.NullInt64
	)
	err := q.db.QueryRowContext(ctx, `
		SELECT COUNT(*), COALESCE(SUM(m.held), 0), COALESCE(SUM(p.n), 0),
		       MIN(CASE WHEN m.held = 0 THEN m.received END)
		FROM messages m JOIN (SELECT message_id, COUNT(*) AS n FROM recipients WHERE status = ? GROUP BY message_id) p
		  ON p.message_id = m.id`, queue.Pending).Scan(&s.Messages, &s.Held, &s.Recipients, &oldest)
	if err != nil {
		return s, fmt.Errorf("queue stats: %w", err)
	}
	if oldest.Valid {
		s.Oldest = time.Unix(0, oldest.Int64)
	}
	err = q.db.QueryRowContext(ctx, `
		SELECT COUNT(*) FROM messages m
		WHERE NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.status = ?)`, queue.Pending).Scan(&s.Failed)
	if err != nil {
		return s, fmt.Errorf("queue stats: %w", err)
	}
	return s, nil
}

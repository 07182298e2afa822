package pgqueue

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/queue"
)

// scanMessages groups rows ordered by message into messages.
func scanMessages(rows pgx.Rows) ([]*queue.Message, error) {
	defer rows.Close()
	var mr queue.MessageRows
	for rows.Next() {
		if err := mr.Scan(rows); err != nil {
			return nil, fmt.Errorf("queue scan: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("queue scan: %w", err)
	}
	return mr.Messages(), nil
}

// List returns all queued messages; see queue.Store.
func (q *Queue) List(ctx context.Context) ([]*queue.Message, error) {
	rows, err := q.pool.Query(ctx, `SELECT `+queue.MessageColumns+`
		FROM messages m JOIN recipients r ON r.message_id = m.id ORDER BY m.received, m.id, r.ord`)
	if err != nil {
		return nil, fmt.Errorf("queue list: %w", err)
	}
	return scanMessages(rows)
}

// Get returns one message without body; see queue.Store.
func (q *Queue) Get(ctx context.Context, id string) (*queue.Message, error) {
	rows, err := q.pool.Query(ctx, `SELECT `+queue.MessageColumns+`
		FROM messages m JOIN recipients r ON r.message_id = m.id WHERE m.id = $1 ORDER BY r.ord`, id)
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
	return q.execOne(ctx, "hold", id, `UPDATE messages SET held = true WHERE id = $1`)
}

// Release clears the held mark; see queue.Store.
func (q *Queue) Release(ctx context.Context, id string) error {
	return q.execOne(ctx, "release", id, `UPDATE messages SET held = false WHERE id = $1`)
}

// MarkWarned records the delay DSN; see queue.Store.
func (q *Queue) MarkWarned(ctx context.Context, id string) error {
	return q.execOne(ctx, "mark warned", id, `UPDATE messages SET warned = true WHERE id = $1`)
}

// Delete removes a message, then its body; see queue.Store.
func (q *Queue) Delete(ctx context.Context, id string) error {
	if err := q.execOne(ctx, "delete", id, `DELETE FROM messages WHERE id = $1`); err != nil {
		return err
	}
	q.dropBodies(ctx, []string{id})
	return nil
}

// RetryNow makes the pending recipients due; see queue.Store. The wall
// clock is right here: an administrator asks for "now".
func (q *Queue) RetryNow(ctx context.Context, id string) error {
	return q.execOne(ctx, "retry", id, `
		WITH u AS (UPDATE recipients SET next_attempt = $2 WHERE message_id = $1 AND status = 'pending')
		UPDATE messages SET id = id WHERE id = $1`, time.Now().UnixNano())
}

// execOne runs a statement on message id ($1), reporting ErrNotFound when
// it touched no row.
func (q *Queue) execOne(ctx context.Context, op, id, stmt string, args ...any) error {
	tag, err := q.pool.Exec(ctx, stmt, append([]any{id}, args...)...)
	if err != nil {
		return fmt.Errorf("queue %s %s: %w", op, id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s", queue.ErrNotFound, id)
	}
	return nil
}

// Purge removes finished messages kept for their failures, then their
// bodies and any garbage left by earlier removals; see queue.Store.
func (q *Queue) Purge(ctx context.Context, before time.Time) (int, error) {
	rows, err := q.pool.Query(ctx, `
		DELETE FROM messages WHERE id IN (
			SELECT message_id FROM recipients GROUP BY message_id
			HAVING count(*) FILTER (WHERE status = 'pending') = 0 AND max(last_attempt) < $1)
		RETURNING id`, before.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("queue purge: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("queue purge: %w", err)
	}
	q.dropBodies(ctx, ids)
	if _, err := q.Sweep(ctx); err != nil {
		q.log.Warn("queue sweep", "err", err)
	}
	return len(ids), nil
}

// Stats counts the queue in one snapshot; see queue.Store.
func (q *Queue) Stats(ctx context.Context) (queue.Stats, error) {
	var (
		s      queue.Stats
		oldest *int64
	)
	err := q.pool.QueryRow(ctx, `
		WITH p AS (SELECT message_id, count(*) FILTER (WHERE status = 'pending') AS n FROM recipients GROUP BY message_id)
		SELECT count(*) FILTER (WHERE p.n > 0),
		       count(*) FILTER (WHERE p.n > 0 AND m.held),
		       coalesce(sum(p.n), 0)::bigint,
		       count(*) FILTER (WHERE p.n = 0),
		       min(m.received) FILTER (WHERE p.n > 0 AND NOT m.held)
		FROM messages m JOIN p ON p.message_id = m.id`).Scan(&s.Messages, &s.Held, &s.Recipients, &s.Failed, &oldest)
	if err != nil {
		return s, fmt.Errorf("queue stats: %w", err)
	}
	if oldest != nil {
		s.Oldest = time.Unix(0, *oldest)
	}
	return s, nil
}

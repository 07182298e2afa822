package pgqueue

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/queue"
)

// dueRecipient is the condition on a recipient r that Due may claim, with
// $1 the claim's Now and $2, $3 its Local and Remote.
const dueRecipient = `r.status = 'pending' AND r.next_attempt <= $1 AND r.claim_until <= $1
	AND ((NOT r.remote AND $2) OR (r.remote AND $3))`

// Due claims due work; see queue.Store. One transaction locks the oldest
// due messages no other runner has locked (SKIP LOCKED: runners pass each
// other instead of queueing) and stamps the claim on their due
// recipients; once it commits, the claims, not the locks, keep others off.
func (q *Queue) Due(ctx context.Context, req queue.ClaimRequest) ([]*queue.Message, error) {
	if req.Limit <= 0 || (!req.Local && !req.Remote) {
		return nil, nil
	}
	tx, err := q.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("queue due: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	now := req.Now.UnixNano()
	rows, err := tx.Query(ctx, `
		SELECT m.id FROM messages m
		WHERE NOT m.held AND m.id IN (SELECT r.message_id FROM recipients r WHERE `+dueRecipient+`)
		ORDER BY m.received, m.id LIMIT $4
		FOR UPDATE OF m SKIP LOCKED`, now, req.Local, req.Remote, req.Limit)
	if err != nil {
		return nil, fmt.Errorf("queue due: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("queue due: %w", err)
	}
	if len(ids) == 0 {
		return nil, tx.Commit(ctx)
	}
	// The recipients are read again under the lock: a claim committed
	// since the first read is not taken twice.
	until := req.Now.Add(req.TTL).UnixNano()
	rows, err = tx.Query(ctx, `
		WITH r AS (
			UPDATE recipients r SET claim_owner = $5, claim_until = $6
			WHERE r.message_id = ANY($4) AND `+dueRecipient+`
			RETURNING r.*)
		SELECT `+queue.MessageColumns+` FROM messages m JOIN r ON r.message_id = m.id
		ORDER BY m.received, m.id, r.ord`, now, req.Local, req.Remote, ids, req.Owner, until)
	if err != nil {
		return nil, fmt.Errorf("queue claim: %w", err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("queue claim: commit: %w", err)
	}
	return msgs, nil
}

// Complete records results and ends their claims; see queue.Store. The
// updates and the removal of finished messages go in one batch: one round
// trip, one implicit transaction.
func (q *Queue) Complete(ctx context.Context, results []queue.Result) error {
	if len(results) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	var touched []string
	seen := map[string]bool{}
	for _, r := range results {
		at := r.Attempted
		if at.IsZero() {
			at = time.Now()
		}
		b.Queue(`UPDATE recipients SET status = $1, attempts = attempts + 1, next_attempt = $2, last_error = $3, last_attempt = $4,
			claim_owner = '', claim_until = 0 WHERE message_id = $5 AND address = $6`,
			r.Status, r.NextAttempt.UnixNano(), r.Error, at.UnixNano(), r.MessageID, r.Recipient)
		if !seen[r.MessageID] {
			seen[r.MessageID] = true
			touched = append(touched, r.MessageID)
		}
	}
	var removed []string
	b.Queue(`
		DELETE FROM messages m WHERE m.id = ANY($1)
		  AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.status != 'delivered')
		RETURNING m.id`, touched).Query(func(rows pgx.Rows) error {
		var err error
		removed, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err := q.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("queue complete: %w", err)
	}
	q.dropBodies(ctx, removed)
	return nil
}

// dropBodies removes the bodies of messages just deleted and their
// garbage records. A failure is only logged: the record stays for Sweep.
func (q *Queue) dropBodies(ctx context.Context, ids []string) {
	var done []string
	for _, id := range ids {
		if err := q.bodies.DeleteKey(ctx, id); err != nil {
			q.log.Warn("queue body not removed; Sweep will retry", "queue_id", id, "err", err)
			continue
		}
		done = append(done, id)
	}
	if len(done) == 0 {
		return
	}
	if _, err := q.pool.Exec(ctx, `DELETE FROM garbage WHERE id = ANY($1)`, done); err != nil {
		q.log.Warn("queue garbage records not removed", "err", err)
	}
}

// Sweep removes the bodies recorded as garbage (their messages deleted,
// the removal failed or never ran) and returns how many it removed. Purge
// calls it; a record whose ID is queued again is skipped, not removed.
func (q *Queue) Sweep(ctx context.Context) (int, error) {
	rows, err := q.pool.Query(ctx, `
		SELECT g.id FROM garbage g WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = g.id)
		ORDER BY g.since LIMIT 10000`)
	if err != nil {
		return 0, fmt.Errorf("queue sweep: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("queue sweep: %w", err)
	}
	var n int
	var firstErr error
	for _, id := range ids {
		if err := q.bodies.DeleteKey(ctx, id); err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("queue sweep %s: %w", id, err)
			}
			continue
		}
		if _, err := q.pool.Exec(ctx, `DELETE FROM garbage WHERE id = $1`, id); err != nil {
			return n, fmt.Errorf("queue sweep: %w", err)
		}
		n++
	}
	return n, firstErr
}

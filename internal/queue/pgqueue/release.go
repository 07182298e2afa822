package pgqueue

import (
	"context"
	"fmt"
)

// ReleaseClaims ends owner's claims; see queue.Store.
func (q *Queue) ReleaseClaims(ctx context.Context, owner string) (int, error) {
	tag, err := q.pool.Exec(ctx, `UPDATE recipients SET claim_owner = '', claim_until = 0 WHERE claim_owner = $1 AND claim_until != 0`, owner)
	if err != nil {
		return 0, fmt.Errorf("queue release claims: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

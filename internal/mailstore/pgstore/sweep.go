package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rookery-mail/rookery/internal/blob"
)

// sweepChunk is how many listed blobs one lookup checks.
const sweepChunk = 1000

// Sweep is the rare full collection: it walks the blob store and deletes
// blobs that blob_refs does not know and that were last written more than
// grace ago, and returns how many it deleted. It finds what CollectGarbage
// cannot: bodies of deliveries that failed or crashed before their commit,
// and blobs of a collection that crashed between its commit and the
// delete. A blob unknown now can only gain a reference through a new Put
// (Copy and Move need an existing one), which refreshes its time, so
// DeleteIfOlder then keeps it. A blob with a row, even an orphan one, is
// left to CollectGarbage, whose grace counts from the last reference.
func (s *Store) Sweep(ctx context.Context, grace time.Duration) (int, error) {
	cb, ok := s.blobs.(blob.Collectable)
	if !ok {
		return 0, errors.New("sweep: blob store cannot list blobs")
	}
	if grace <= 0 {
		return 0, errors.New("sweep: grace must be positive")
	}
	cutoff := time.Now().Add(-grace)
	var candidates []string
	err := cb.Walk(ctx, func(id string, mod time.Time) error {
		if mod.Before(cutoff) {
			candidates = append(candidates, id)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	deleted := 0
	for len(candidates) > 0 {
		chunk := candidates[:min(sweepChunk, len(candidates))]
		candidates = candidates[len(chunk):]
		rows, _ := s.pool.Query(ctx, `SELECT blob_id FROM blob_refs WHERE blob_id = ANY($1)`, chunk)
		known, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return deleted, fmt.Errorf("sweep: %w", err)
		}
		used := make(map[string]bool, len(known))
		for _, id := range known {
			used[id] = true
		}
		for _, id := range chunk {
			if used[id] {
				continue
			}
			ok, err := cb.DeleteIfOlder(ctx, id, cutoff)
			if err != nil {
				return deleted, fmt.Errorf("sweep: %w", err)
			}
			if ok {
				deleted++
			}
		}
	}
	s.log.Info("mailstore blobs swept", "deleted", deleted)
	return deleted, nil
}

package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/mailstore"
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
	plan, err := mailstore.PlanSweep(ctx, s.blobs, grace)
	if err != nil {
		return 0, err
	}
	candidates, cutoff := plan.Candidates, plan.Cutoff
	deleted := 0
	for len(candidates) > 0 {
		chunk := candidates[:min(sweepChunk, len(candidates))]
		candidates = candidates[len(chunk):]
		// A write transaction although it only reads: with a Fence, a
		// node that lost the lease deletes no more blobs.
		var known []string
		err := s.write(ctx, "sweep", func(w *writeTx) error {
			rows, _ := w.tx.Query(ctx, `SELECT blob_id FROM blob_refs WHERE blob_id = ANY($1)`, chunk)
			var err error
			known, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if err != nil {
			return deleted, err
		}
		used := make(map[string]bool, len(known))
		for _, id := range known {
			used[id] = true
		}
		for _, id := range chunk {
			if used[id] {
				continue
			}
			ok, err := plan.Blobs.DeleteIfOlder(ctx, id, cutoff)
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

package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// CollectGarbage deletes the blobs whose last message went away before
// orphanedBefore (blob_refs rows with refs = 0, kept by the messages
// triggers) and returns how many it deleted.
//
// Each batch claims candidates in one transaction: SELECT ... FOR UPDATE
// SKIP LOCKED takes their blob_refs rows (re-checking refs = 0 on the
// latest version, so a message committed meanwhile keeps its blob), and
// deletes them with their index entries; after the commit the blobs are
// deleted. A delivery that references the blob during the claim waits on
// the row lock in its insert trigger and, once the claim commits, makes a
// new row: its message then refers to a blob about to be deleted unless
// its Put came after the claim. A delivery Puts before its transaction,
// so the race is a Put that de-duplicated against the candidate before the
// claim and commits after it. The blobs go with
// DeleteIfOlder(orphanedBefore), which keeps a blob such a Put refreshed;
// it goes back on the list if nothing references it. A crash between the
// claim's commit and the delete leaves an unreferenced blob nobody lists;
// Sweep finds those.
// Several nodes may collect at once: SKIP LOCKED gives them disjoint batches.
func (s *Store) CollectGarbage(ctx context.Context, orphanedBefore time.Time) (int, error) {
	c := mailstore.OrphanCollector{Blobs: s.blobs, Log: s.log, Claim: s.claimOrphans, Requeue: s.requeueOrphans}
	total, err := c.Collect(ctx, orphanedBefore)
	if err != nil {
		return total, err
	}
	// The scheduled pass is also when blobs left unindexed (a read
	// failure at delivery, a race with a claim) get their entries: no
	// other background work runs in this engine.
	if s.text != nil {
		if err := s.IndexPending(ctx); err != nil {
			s.log.Warn("index pending after garbage collection", "err", err)
		}
	}
	return total, nil
}

// claimOrphans removes up to mailstore.GCBatch candidates older than cutoff, with
// their full-text entries, and returns them.
func (s *Store) claimOrphans(ctx context.Context, cutoff time.Time) ([]string, error) {
	var ids []string
	err := s.write(ctx, "collect garbage", func(w *writeTx) error {
		rows, _ := w.tx.Query(ctx, `SELECT blob_id FROM blob_refs WHERE refs = 0 AND orphaned_at < $1
			ORDER BY orphaned_at LIMIT $2 FOR UPDATE SKIP LOCKED`, cutoff, mailstore.GCBatch)
		var err error
		if ids, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := w.tx.Exec(ctx, `DELETE FROM blob_refs WHERE blob_id = $1`, id); err != nil {
				return err
			}
			if err := w.forgetText(ctx, id); err != nil {
				return err
			}
		}
		return nil
	})
	return ids, err
}

// requeueOrphans puts back blobs claimed but not deleted, unless a message
// references them by now (its trigger made a row with refs > 0).
func (s *Store) requeueOrphans(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return s.write(ctx, "requeue orphans", func(w *writeTx) error {
		_, err := w.tx.Exec(ctx, `INSERT INTO blob_refs (blob_id, refs, orphaned_at)
			SELECT id, 0, clock_timestamp() FROM unnest($1::text[]) AS id ON CONFLICT (blob_id) DO NOTHING`, ids)
		return err
	})
}

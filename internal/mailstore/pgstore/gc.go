package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/blob"
)

// gcBatch bounds the candidates one CollectGarbage transaction claims.
const gcBatch = 500

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
// claim and commits after it: the grace (now minus orphanedBefore) must
// exceed the longest time from a Put to its commit, as for sqlitestore.
// With a blob.GuardedDeleter (fsblob, s3blob), a Put within the grace also keeps the
// blob, which goes back on the list if nothing references it. A crash
// between the claim's commit and the delete leaves an unreferenced blob
// nobody lists; a full sweep of the blob store is not implemented yet.
// Several nodes may collect at once: SKIP LOCKED gives them disjoint batches.
func (s *Store) CollectGarbage(ctx context.Context, orphanedBefore time.Time) (int, error) {
	total := 0
	for {
		ids, err := s.claimOrphans(ctx, orphanedBefore)
		if err != nil {
			return total, fmt.Errorf("collect garbage: %w", err)
		}
		var kept []string
		for _, id := range ids {
			deleted, keep, err := s.deleteBlob(ctx, id, orphanedBefore)
			if err != nil {
				s.log.Warn("collect garbage: delete blob", "blob", id, "err", err)
			}
			if deleted {
				total++
			}
			if keep {
				kept = append(kept, id)
			}
		}
		// Even when ctx ended: a claimed blob not put back is listed nowhere.
		if err := s.requeueOrphans(context.WithoutCancel(ctx), kept); err != nil {
			return total, fmt.Errorf("collect garbage: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
		if len(ids) < gcBatch || len(kept) == len(ids) {
			break
		}
	}
	if total > 0 {
		s.log.Info("mailstore garbage collected", "deleted", total)
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

// claimOrphans removes up to gcBatch candidates older than cutoff, with
// their full-text entries, and returns them.
func (s *Store) claimOrphans(ctx context.Context, cutoff time.Time) ([]string, error) {
	var ids []string
	err := s.write(ctx, "collect garbage", func(w *writeTx) error {
		rows, _ := w.tx.Query(ctx, `SELECT blob_id FROM blob_refs WHERE refs = 0 AND orphaned_at < $1
			ORDER BY orphaned_at LIMIT $2 FOR UPDATE SKIP LOCKED`, cutoff, gcBatch)
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

// deleteBlob deletes one claimed blob, guarded when the store allows. keep
// says the blob is still there (re-written within the grace, or the
// delete failed) and must go back on the list.
func (s *Store) deleteBlob(ctx context.Context, id string, cutoff time.Time) (deleted, keep bool, err error) {
	g, ok := s.blobs.(blob.GuardedDeleter)
	if !ok {
		if err := s.blobs.Delete(ctx, id); err != nil {
			return false, true, err
		}
		return true, false, nil
	}
	deleted, err = g.DeleteIfOlder(ctx, id, cutoff)
	if err != nil || deleted {
		return deleted, err != nil, err
	}
	rc, err := s.blobs.Open(ctx, id)
	if errors.Is(err, blob.ErrNotFound) {
		return false, false, nil
	}
	if err != nil {
		return false, true, err
	}
	rc.Close()
	return false, true, nil
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

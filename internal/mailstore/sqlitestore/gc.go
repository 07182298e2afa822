package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rookery-mail/rookery/internal/blob"
)

// gcBatch bounds the candidates one CollectGarbage transaction handles, so
// a large backlog does not hold the write connection for long.
const gcBatch = 500

// CollectGarbage deletes the blobs whose last message went away before
// orphanedBefore (the blob_orphans table, kept by triggers) and that no
// message references now, and returns how many it deleted.
//
// Each batch first commits, in one transaction, the removal of the
// candidate rows and their full-text entries (re-checking that nothing
// references the blob), then deletes the blobs. A crash between the two
// leaves unreferenced blobs nobody lists; Sweep finds those.
//
// A delivery Puts its body before its transaction, so a Put can
// de-duplicate against a candidate and commit after the check. The grace
// (now minus orphanedBefore) must therefore exceed the longest time from a
// Put to its commit; with a blob.GuardedDeleter (fsblob, s3blob) a Put within the grace
// also keeps the blob, which goes back on the candidate list if it is
// still unreferenced.
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
		// Even when ctx ended: a claimed blob not put back is listed
		// nowhere and only Sweep would find it.
		if err := s.requeueOrphans(context.WithoutCancel(ctx), kept); err != nil {
			return total, fmt.Errorf("collect garbage: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
		// A batch that deleted nothing would be claimed again at once
		// when the cutoff is in the future.
		if len(ids) < gcBatch || len(kept) == len(ids) {
			break
		}
	}
	if total > 0 {
		s.log.Info("mailstore garbage collected", "deleted", total)
	}
	return total, nil
}

// claimOrphans removes up to gcBatch candidates older than cutoff that no
// message references, with their full-text entries, and returns them.
func (s *Store) claimOrphans(ctx context.Context, cutoff time.Time) ([]string, error) {
	var ids []string
	err := s.write(ctx, "collect garbage", func(w *writeTx) error {
		ids = nil
		rows, err := w.tx.QueryContext(ctx, `SELECT blob_id FROM blob_orphans o WHERE orphaned_at < ?
			AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.blob_id = o.blob_id) ORDER BY orphaned_at LIMIT ?`,
			cutoff.UnixNano(), gcBatch)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := w.tx.ExecContext(ctx, `DELETE FROM blob_orphans WHERE blob_id = ?`, id); err != nil {
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
// delete failed) and must go back on the list; a blob already gone (a
// Sweep got it) needs nothing more.
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
// references them by now.
func (s *Store) requeueOrphans(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return s.write(ctx, "requeue orphans", func(w *writeTx) error {
		for _, id := range ids {
			if _, err := w.tx.ExecContext(ctx, `INSERT OR IGNORE INTO blob_orphans (blob_id, orphaned_at)
				SELECT ?1, ?2 WHERE NOT EXISTS (SELECT 1 FROM messages WHERE blob_id = ?1)`, id, w.now.UnixNano()); err != nil {
				return err
			}
		}
		return nil
	})
}

// Sweep is the rare full collection: it walks the blob store and deletes
// blobs that no message references and that were last written more than
// grace ago, and returns how many it deleted. It finds what CollectGarbage
// cannot: bodies of deliveries that crashed before their commit, blobs of
// a collection that crashed between its commit and the delete, and blobs
// orphaned before the schema tracked orphans. Its cost grows with every
// blob stored, so run it seldom (the server does, every
// [mailstore] gc_sweep_interval).
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
	// A blob unreferenced now can only gain a reference through a new Put
	// (which refreshes its time, so DeleteIfOlder skips it): Copy and Move
	// need an existing reference. A listed candidate is left to
	// CollectGarbage, whose grace counts from the last reference, not
	// from the write.
	stmt, err := s.rdb.PrepareContext(ctx, `SELECT EXISTS (SELECT 1 FROM messages WHERE blob_id = ?1)
		OR EXISTS (SELECT 1 FROM blob_orphans WHERE blob_id = ?1)`)
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	defer stmt.Close()
	var deleted []string
	for _, id := range candidates {
		var used bool
		if err := stmt.QueryRowContext(ctx, id).Scan(&used); err != nil {
			return len(deleted), fmt.Errorf("sweep: %w", err)
		}
		if used {
			continue
		}
		ok, err := cb.DeleteIfOlder(ctx, id, cutoff)
		if err != nil {
			return len(deleted), fmt.Errorf("sweep: %w", err)
		}
		if ok {
			deleted = append(deleted, id)
		}
	}
	if err := s.forgetBlobs(ctx, deleted); err != nil {
		return len(deleted), fmt.Errorf("sweep: %w", err)
	}
	s.log.Info("mailstore blobs swept", "candidates", len(candidates), "deleted", len(deleted))
	return len(deleted), nil
}

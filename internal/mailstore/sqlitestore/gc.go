package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// CollectableBlobs is what CollectGarbage needs beyond blob.Store: listing
// blobs with the time they were last written (a de-duplicating Put
// refreshes it) and a delete that is atomic with that check, so a blob a
// concurrent delivery just de-duplicated against is never removed.
// fsblob.Store implements it.
type CollectableBlobs interface {
	Walk(ctx context.Context, fn func(id string, modTime time.Time) error) error
	DeleteIfOlder(ctx context.Context, id string, cutoff time.Time) (bool, error)
}

// CollectGarbage deletes blobs that no message references and that were
// last written more than grace ago, and returns how many it deleted. grace
// must exceed the longest time between a delivery's blob Put and its
// commit (an hour is generous). It is safe against deliveries and
// copies in this process; only the process serving the mailstore may run
// it, because the blob store's Put/delete lock is in-process.
func (s *Store) CollectGarbage(ctx context.Context, grace time.Duration) (int, error) {
	cb, ok := s.blobs.(CollectableBlobs)
	if !ok {
		return 0, errors.New("collect garbage: blob store cannot list blobs")
	}
	if grace <= 0 {
		return 0, errors.New("collect garbage: grace must be positive")
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
		return 0, fmt.Errorf("collect garbage: %w", err)
	}
	// A blob unreferenced now can only gain a reference through a new Put
	// (which refreshes its time, so DeleteIfOlder skips it): Copy and Move
	// need an existing reference.
	stmt, err := s.rdb.PrepareContext(ctx, `SELECT EXISTS (SELECT 1 FROM messages WHERE blob_id = ?)`)
	if err != nil {
		return 0, fmt.Errorf("collect garbage: %w", err)
	}
	defer stmt.Close()
	var deleted []string
	for _, id := range candidates {
		var used bool
		if err := stmt.QueryRowContext(ctx, id).Scan(&used); err != nil {
			return len(deleted), fmt.Errorf("collect garbage: %w", err)
		}
		if used {
			continue
		}
		ok, err := cb.DeleteIfOlder(ctx, id, cutoff)
		if err != nil {
			return len(deleted), fmt.Errorf("collect garbage: %w", err)
		}
		if ok {
			deleted = append(deleted, id)
		}
	}
	if err := s.forgetBlobs(ctx, deleted); err != nil {
		return len(deleted), fmt.Errorf("collect garbage: %w", err)
	}
	s.log.Info("mailstore garbage collected", "candidates", len(candidates), "deleted", len(deleted))
	return len(deleted), nil
}

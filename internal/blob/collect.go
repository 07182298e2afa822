package blob

import (
	"context"
	"errors"
	"time"
)

// GuardedDeleter is a Store whose delete cannot race a Put that
// de-duplicated against the blob: DeleteIfOlder keeps a blob written or
// de-duplicated (a Put of the same bytes refreshes its time) at or after
// cutoff, and reports whether it deleted it. fsblob and s3blob implement
// it; a mailstore's garbage collector without it uses Delete and relies on
// its grace period alone.
type GuardedDeleter interface {
	DeleteIfOlder(ctx context.Context, id string, cutoff time.Time) (bool, error)
}

// Collectable is what a mailstore's full sweep needs beyond Store: listing
// every blob with the time it was last written or refreshed, and a guarded
// delete.
type Collectable interface {
	GuardedDeleter
	Walk(ctx context.Context, fn func(id string, modTime time.Time) error) error
}

// DeleteOrphan deletes a blob a garbage collector found unreferenced since
// before cutoff: with DeleteIfOlder when s is a GuardedDeleter, else with
// Delete. keep says the blob is still there (written again at or after
// cutoff, or the delete failed) and must stay a candidate; a blob already
// gone needs nothing more.
func DeleteOrphan(ctx context.Context, s Store, id string, cutoff time.Time) (deleted, keep bool, err error) {
	g, ok := s.(GuardedDeleter)
	if !ok {
		if err := s.Delete(ctx, id); err != nil {
			return false, true, err
		}
		return true, false, nil
	}
	deleted, err = g.DeleteIfOlder(ctx, id, cutoff)
	if err != nil || deleted {
		return deleted, err != nil, err
	}
	rc, err := s.Open(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return false, false, nil
	}
	if err != nil {
		return false, true, err
	}
	rc.Close()
	return false, true, nil
}

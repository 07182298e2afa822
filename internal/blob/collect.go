package blob

import (
	"context"
	"errors"
	"time"
)

// Collectable is what a mailstore's full sweep needs beyond Store: listing
// every blob with the time it was last written or refreshed.
type Collectable interface {
	Store
	Walk(ctx context.Context, fn func(id string, modTime time.Time) error) error
}

// DeleteOrphan deletes a blob a garbage collector found unreferenced since
// before cutoff, with DeleteIfOlder. keep says the blob is still there
// (written again at or after cutoff, or the delete failed) and must stay a
// candidate; a blob already gone needs nothing more.
func DeleteOrphan(ctx context.Context, s Store, id string, cutoff time.Time) (deleted, keep bool, err error) {
	deleted, err = s.DeleteIfOlder(ctx, id, cutoff)
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

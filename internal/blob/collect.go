package blob

import (
	"context"
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

package s3blob

import (
	"context"
	"fmt"
	"path"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/rookery-mail/rookery/internal/blob"
)

// Garbage collection (the mailstores' CollectGarbage and Sweep) needs a
// blob's last write time to include de-duplicating Puts, as fsblob's mtime
// does. S3 cannot touch an object, so a Put that finds its blob older than
// refreshAge uploads it again, which renews LastModified; younger copies
// (the same message delivered to several mailboxes at once) are left as
// they are. refreshAge is below the shortest gc grace the config allows
// (1m), with room for clock skew between the node and the S3 server.
const refreshAge = 30 * time.Second

// Walk calls fn for every blob with the time it was last written or
// refreshed by a de-duplicating Put. Blobs added during the walk may or
// may not be seen.
func (s *Store) Walk(ctx context.Context, fn func(id string, modTime time.Time) error) error {
	ctx, cancel := context.WithCancel(ctx) // stops the listing if fn fails
	defer cancel()
	for obj := range s.core.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + "blobs/", Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("s3blob: walk: %w", obj.Err)
		}
		id := path.Base(obj.Key)
		if !blob.ValidID(id) || obj.Key != s.blobKey(id) {
			continue // not ours
		}
		if err := fn(id, obj.LastModified); err != nil {
			return fmt.Errorf("s3blob: walk: %w", err)
		}
	}
	return nil
}

// DeleteIfOlder removes the blob only if it was last written or refreshed
// before cutoff, and reports whether it did. S3 offers no lock or
// condition that could make the check and the delete one step (a re-upload
// of the same bytes keeps the same ETag), so a Put refreshing the blob in
// the round trip between them can still lose it; the grace before cutoff
// makes that need the same bytes Put again at that very moment.
func (s *Store) DeleteIfOlder(ctx context.Context, id string, cutoff time.Time) (bool, error) {
	if !blob.ValidID(id) {
		return false, nil
	}
	info, err := s.core.StatObject(ctx, s.bucket, s.blobKey(id), minio.StatObjectOptions{})
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("s3blob: stat %s: %w", id, err)
	}
	if !info.LastModified.Before(cutoff) {
		return false, nil
	}
	if err := s.remove(ctx, s.blobKey(id), id); err != nil {
		return false, err
	}
	return true, nil
}

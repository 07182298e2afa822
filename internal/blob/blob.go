// Package blob defines the store for immutable message bodies. Blobs are
// content-addressed: the same bytes always get the same ID, so a retried
// write is harmless and an unreferenced blob is garbage, never data.
package blob

import (
	"context"
	"errors"
	"io"
)

// ErrNotFound is returned by Open for an unknown ID.
var ErrNotFound = errors.New("blob: not found")

// Store keeps message bodies. Engines: fsblob (files under the data dir),
// later s3blob (an S3-compatible object store).
type Store interface {
	// Put stores the bytes read from r and returns their ID (ID's scheme,
	// the same in every engine) and size. It
	// returns only after the blob is durable (fsync'd or acknowledged).
	Put(ctx context.Context, r io.Reader) (id string, size int64, err error)
	// Open returns a reader for the blob. The caller closes it.
	Open(ctx context.Context, id string) (io.ReadCloser, error)
	// Delete removes the blob; deleting a missing blob is not an error.
	Delete(ctx context.Context, id string) error
}

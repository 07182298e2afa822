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
// s3blob (an S3-compatible object store).
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

// Keyed stores objects under names the caller picks rather than by their
// content: the queue keeps each message's body under its queue ID and
// removes it with the message, which a content address shared by two
// identical messages could not do safely. Keys are the caller's; an engine
// may place them under its own prefix.
type Keyed interface {
	// PutKey stores the bytes read from r under key, replacing any object
	// there, and returns their size once they are durable.
	PutKey(ctx context.Context, key string, r io.Reader) (int64, error)
	// OpenKey returns a reader for the object; ErrNotFound if there is none.
	OpenKey(ctx context.Context, key string) (io.ReadCloser, error)
	// DeleteKey removes the object; a missing one is not an error.
	DeleteKey(ctx context.Context, key string) error
}

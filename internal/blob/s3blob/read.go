package s3blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/minio/minio-go/v7"

	"github.com/rookery-mail/rookery/internal/blob"
)

// ErrInvalidKey is returned by PutKey for a key that could not be stored.
var ErrInvalidKey = errors.New("s3blob: invalid key")

// maxKeyLen keeps keys well inside S3's 1,024-byte limit on object names,
// leaving room for the store's prefix.
const maxKeyLen = 512

// Open returns a reader streaming the blob, or an error wrapping
// blob.ErrNotFound for a missing blob or a malformed id.
func (s *Store) Open(ctx context.Context, id string) (io.ReadCloser, error) {
	if !blob.ValidID(id) {
		return nil, fmt.Errorf("s3blob: open %q: %w", id, blob.ErrNotFound)
	}
	return s.get(ctx, s.blobKey(id), id)
}

// OpenKey returns a reader streaming the object under key, or an error
// wrapping blob.ErrNotFound.
func (s *Store) OpenKey(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := validKey(key); err != nil {
		return nil, fmt.Errorf("s3blob: open key: %w: %w", err, blob.ErrNotFound)
	}
	return s.get(ctx, s.objectKey(key), key)
}

// get sends one GET, so a missing object is reported here rather than at
// the first Read.
func (s *Store) get(ctx context.Context, objectKey, name string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rc, _, _, err := s.core.GetObject(ctx, s.bucket, objectKey, minio.GetObjectOptions{})
	if isNotFound(err) {
		return nil, fmt.Errorf("s3blob: open %q: %w", name, blob.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("s3blob: open %q: %w", name, err)
	}
	return rc, nil
}

// Delete removes the blob; a missing blob or a malformed id is not an error.
func (s *Store) Delete(ctx context.Context, id string) error {
	if !blob.ValidID(id) {
		return nil
	}
	return s.remove(ctx, s.blobKey(id), id)
}

// DeleteKey removes the object under key; a missing one is not an error,
// nor is a key that could never have been stored.
func (s *Store) DeleteKey(ctx context.Context, key string) error {
	if validKey(key) != nil {
		return nil
	}
	return s.remove(ctx, s.objectKey(key), key)
}

func (s *Store) remove(ctx context.Context, objectKey, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// S3 answers a DELETE of a missing object with success.
	if err := s.core.RemoveObject(ctx, s.bucket, objectKey, minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
		return fmt.Errorf("s3blob: delete %q: %w", name, err)
	}
	return nil
}

func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	r := minio.ToErrorResponse(err)
	return r.Code == "NoSuchKey" || r.StatusCode == http.StatusNotFound && r.Code != "NoSuchBucket"
}

// validKey accepts keys made of non-empty "/"-separated segments other than
// "." and "..", in printable UTF-8, so a key maps to exactly one object name
// under the store's prefix and cannot reach outside it on a server that
// stores objects as files.
func validKey(key string) error {
	if key == "" || len(key) > maxKeyLen || !utf8.ValidString(key) {
		return fmt.Errorf("%w %q", ErrInvalidKey, key)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return fmt.Errorf("%w %q", ErrInvalidKey, key)
		}
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w %q", ErrInvalidKey, key)
		}
	}
	return nil
}

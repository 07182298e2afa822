package s3blob

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/minio/minio-go/v7"
)

// Put reads r into a spool while hashing it, then uploads it to its content
// address unless an object is already there. It returns once the server
// has acknowledged the upload. The existence check (a HEAD) costs about an
// eighth of a small upload and saves the whole upload for every duplicate,
// such as one message delivered to several mailboxes. A blob older than
// refreshAge is uploaded again, for the garbage collector (see gc.go).
func (s *Store) Put(ctx context.Context, r io.Reader) (id string, size int64, err error) {
	sp, err := s.read(ctx, r)
	if err != nil {
		return "", 0, fmt.Errorf("s3blob: put: %w", err)
	}
	defer sp.close()
	id = hex.EncodeToString(sp.sum())
	key := s.blobKey(id)
	info, err := s.core.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	switch {
	case err == nil && time.Since(info.LastModified) < s.refreshAge:
		return id, sp.size, nil
	case err != nil && !isNotFound(err):
		return "", 0, fmt.Errorf("s3blob: put %s: stat: %w", id, err)
	}
	if err := s.upload(ctx, key, sp); err != nil {
		return "", 0, fmt.Errorf("s3blob: put %s: %w", id, err)
	}
	return id, sp.size, nil
}

// PutKey stores the bytes read from r under key, replacing any object
// there. A reader that fails leaves the previous object in place.
func (s *Store) PutKey(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := validKey(key); err != nil {
		return 0, fmt.Errorf("s3blob: put key: %w", err)
	}
	sp, err := s.read(ctx, r)
	if err != nil {
		return 0, fmt.Errorf("s3blob: put key %q: %w", key, err)
	}
	defer sp.close()
	if err := s.upload(ctx, s.objectKey(key), sp); err != nil {
		return 0, fmt.Errorf("s3blob: put key %q: %w", key, err)
	}
	return sp.size, nil
}

// read spools r; on error the spool is already closed.
func (s *Store) read(ctx context.Context, r io.Reader) (*spool, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sp := newSpool(ctx, s.spoolDir, s.memoryLimit)
	if err := sp.fill(r); err != nil {
		sp.close()
		return nil, err
	}
	return sp, nil
}

// upload stores the spool's bytes at key in one PUT. The request is signed
// over the SHA-256 computed while spooling (x-amz-content-sha256) and also
// carries it as x-amz-checksum-sha256, so the server refuses a body that
// does not match what was read, and the client need not hash it again.
func (s *Store) upload(ctx context.Context, key string, sp *spool) error {
	sum := sp.sum()
	_, err := s.core.PutObject(ctx, s.bucket, key, sp.reader(), sp.size, "", hex.EncodeToString(sum), minio.PutObjectOptions{
		DisableContentSha256: true, // sign the hash above instead of streaming-signing chunks
		UserMetadata:         map[string]string{"x-amz-checksum-sha256": base64.StdEncoding.EncodeToString(sum)},
	})
	return err
}

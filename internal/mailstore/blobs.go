package mailstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/rookery-mail/rookery/internal/blob"
)

// maxParallelPuts bounds concurrent blob writes of one PutBodies call.
const maxParallelPuts = 4

// PutResult is the outcome of one body's write in PutBodies.
type PutResult struct {
	ID   string
	Size int64
	Err  error // marked with ErrNoSpace when the disk is full
}

// StageMessages is the first phase of every engine's Append and Deliver,
// before any transaction: it normalizes each message's flags
// (NormalizeFlags) and writes the bodies (PutBodies). puts[i].Err is set
// for a message that fails here (an invalid flag, a nil body, the blob
// write); the others have their flags in flags[i] and their blob in puts[i].
func StageMessages(ctx context.Context, blobs blob.Store, msgs []NewMessage) (flags [][]string, puts []PutResult) {
	flags = make([][]string, len(msgs))
	bodies := make([]io.Reader, len(msgs))
	bad := make([]error, len(msgs))
	for i, m := range msgs {
		f, err := NormalizeFlags(m.Flags)
		switch {
		case err != nil:
			bad[i] = err
		case m.Body == nil:
			bad[i] = errors.New("nil body")
		default:
			flags[i] = f
			bodies[i] = m.Body
		}
	}
	puts = PutBodies(ctx, blobs, bodies)
	for i, err := range bad {
		if err != nil {
			puts[i].Err = err
		}
	}
	return flags, puts
}

// PutBodies writes the bodies to blobs concurrently; nil bodies are skipped
// (their result is zero). Engines call it before their metadata
// transaction: blobs are durable before any row references them, so a
// crash leaves at worst an orphan blob, never a message without a body.
func PutBodies(ctx context.Context, blobs blob.Store, bodies []io.Reader) []PutResult {
	res := make([]PutResult, len(bodies))
	sem := make(chan struct{}, maxParallelPuts)
	var wg sync.WaitGroup
	for i, r := range bodies {
		if r == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			id, size, err := blobs.Put(ctx, r)
			if err != nil {
				err = fmt.Errorf("store body: %w", NoSpace(err))
			}
			res[i] = PutResult{id, size, err}
		}()
	}
	wg.Wait()
	return res
}

// OpenBlob opens a message body by its BlobID for an engine's OpenBlob: a
// body the blob store lacks is an error wrapping ErrBlobMissing.
func OpenBlob(ctx context.Context, blobs blob.Store, blobID string) (io.ReadCloser, error) {
	rc, err := blobs.Open(ctx, blobID)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, fmt.Errorf("open blob %s: %w: %w", blobID, ErrBlobMissing, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", blobID, err)
	}
	return rc, nil
}

// CheckBlobs opens each of ids, the blobs messages reference, and returns
// a line per one missing or unreadable, for an engine's Check. It stops
// early only when ctx ends.
func CheckBlobs(ctx context.Context, blobs blob.Store, ids []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		rc, err := blobs.Open(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if errors.Is(err, blob.ErrNotFound) {
				out = append(out, fmt.Sprintf("blob %s is missing", id))
			} else {
				out = append(out, fmt.Sprintf("blob %s: %v", id, err))
			}
			continue
		}
		rc.Close()
	}
	return out, nil
}

package mailstore

import (
	"context"
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

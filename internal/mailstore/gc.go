package mailstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/rookery-mail/rookery/internal/blob"
)

// GCBatch bounds the candidates one garbage-collection claim takes, so a
// large backlog does not hold a transaction for long.
const GCBatch = 500

// OrphanCollector is the loop of an engine's CollectGarbage: claim a batch
// of orphaned blobs in the metadata, delete them (blob.DeleteOrphan), put
// back the ones still there, until a batch comes back short. The engine
// supplies the two metadata steps.
type OrphanCollector struct {
	Blobs blob.Store
	Log   *slog.Logger
	// Claim commits, in one transaction, the removal of up to GCBatch
	// candidates orphaned before cutoff that no message references (with
	// their index entries), and returns them.
	Claim func(ctx context.Context, cutoff time.Time) ([]string, error)
	// Requeue puts back claimed blobs that were not deleted, unless a
	// message references them by now.
	Requeue func(ctx context.Context, ids []string) error
}

// Collect deletes the blobs orphaned before orphanedBefore and returns how
// many it deleted. A delete that fails is logged and the blob requeued.
func (c OrphanCollector) Collect(ctx context.Context, orphanedBefore time.Time) (int, error) {
	total := 0
	for {
		ids, err := c.Claim(ctx, orphanedBefore)
		if err != nil {
			return total, fmt.Errorf("collect garbage: %w", err)
		}
		var kept []string
		for _, id := range ids {
			deleted, keep, err := blob.DeleteOrphan(ctx, c.Blobs, id, orphanedBefore)
			if err != nil {
				c.Log.Warn("collect garbage: delete blob", "blob", id, "err", err)
			}
			if deleted {
				total++
			}
			if keep {
				kept = append(kept, id)
			}
		}
		// Even when ctx ended: a claimed blob not put back is listed
		// nowhere and only a sweep would find it.
		if err := c.Requeue(context.WithoutCancel(ctx), kept); err != nil {
			return total, fmt.Errorf("collect garbage: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
		// A batch that deleted nothing would be claimed again at once
		// when the cutoff is in the future.
		if len(ids) < GCBatch || len(kept) == len(ids) {
			break
		}
	}
	if total > 0 {
		c.Log.Info("mailstore garbage collected", "deleted", total)
	}
	return total, nil
}

// SweepPlan is what an engine's Sweep works through: every blob of Blobs
// last written before Cutoff. The engine deletes the ones its metadata
// does not know with Blobs.DeleteIfOlder(ctx, id, Cutoff), which keeps a
// blob a Put has refreshed since it was listed.
type SweepPlan struct {
	Blobs      blob.Collectable
	Cutoff     time.Time
	Candidates []string
}

// PlanSweep lists the candidates of a sweep with the given grace. It fails
// when blobs cannot list its contents or grace is not positive.
func PlanSweep(ctx context.Context, blobs blob.Store, grace time.Duration) (SweepPlan, error) {
	cb, ok := blobs.(blob.Collectable)
	if !ok {
		return SweepPlan{}, errors.New("sweep: blob store cannot list blobs")
	}
	if grace <= 0 {
		return SweepPlan{}, errors.New("sweep: grace must be positive")
	}
	p := SweepPlan{Blobs: cb, Cutoff: time.Now().Add(-grace)}
	err := cb.Walk(ctx, func(id string, mod time.Time) error {
		if mod.Before(p.Cutoff) {
			p.Candidates = append(p.Candidates, id)
		}
		return nil
	})
	if err != nil {
		return SweepPlan{}, fmt.Errorf("sweep: %w", err)
	}
	return p, nil
}

package queue

import (
	"context"
	"errors"
	"sync/atomic"
)

// spaceWait remembers the messages whose local delivery was deferred
// because the mailstore's disk was full (Result.NoSpace), so they are
// retried as soon as writes can succeed again instead of at their next
// backoff slot, which may be an hour away. It lives in memory: after a
// restart they are retried on their schedule.
type spaceWait struct {
	waiting map[string]bool // message IDs; used by the runner's goroutine only
	back    atomic.Bool     // SpaceReturned was called
}

// SpaceReturned tells the runner that the disk has room again (the
// free-space monitor calls it); mail deferred for a full disk is retried
// at once.
func (r *Runner) SpaceReturned() {
	r.space.back.Store(true)
	r.Kick()
}

// note records the deferrals of a batch. A local delivery that succeeded
// with none of the batch short of space shows that writes work again:
// note then makes the waiting messages due and reports that more is due.
func (w *spaceWait) note(msgs []*Message, results []Result) bool {
	for _, res := range results {
		delete(w.waiting, res.MessageID) // attempted: waits again only if still short
	}
	stored, short := false, false
	for _, res := range results {
		if res.NoSpace {
			short = true
			if w.waiting == nil {
				w.waiting = map[string]bool{}
			}
			w.waiting[res.MessageID] = true
		} else if res.Status == Delivered && isLocal(msgs, res) {
			stored = true
		}
	}
	if stored && !short && len(w.waiting) > 0 {
		w.back.Store(true)
		return true
	}
	return false
}

// retryIfBack makes the waiting messages due now once space is back.
func (w *spaceWait) retryIfBack(ctx context.Context, r *Runner) {
	if !w.back.Swap(false) {
		return
	}
	for id := range w.waiting {
		if err := r.store.RetryNow(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
			r.log.Error("queue retry after disk full", "queue_id", id, "err", err)
			continue
		}
		delete(w.waiting, id)
	}
}

// isLocal reports whether res is for a recipient delivered to a local
// mailstore, whose success says the disk takes writes again.
func isLocal(msgs []*Message, res Result) bool {
	for _, m := range msgs {
		if m.ID != res.MessageID {
			continue
		}
		for _, rc := range m.Recipients {
			if rc.Address == res.Recipient {
				return !rc.Remote
			}
		}
	}
	return false
}

package queue

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestGroupCommitBatches: callers arriving while a commit runs are
// committed together in the next one, each told that batch's outcome.
func TestGroupCommitBatches(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	var (
		mu      sync.Mutex
		batches []int
	)
	fail := errors.New("disk on fire")
	g := NewGroupCommit(func(_ context.Context, msgs []*Message) error {
		mu.Lock()
		batches = append(batches, len(msgs))
		n := len(batches)
		mu.Unlock()
		if n == 1 {
			close(started)
			<-release // the first commit is slow
			return nil
		}
		return fail
	}, 64, 1<<20)
	defer g.Close()
	ctx := context.Background()
	first := make(chan error, 1)
	go func() { first <- g.Commit(ctx, &Message{ID: "first"}) }()
	<-started
	const waiting = 10
	errs := make(chan error, waiting)
	for range waiting {
		go func() { errs <- g.Commit(ctx, &Message{ID: "later"}) }()
	}
	// Let all of them reach the committer's queue before the first commit ends.
	deadline := time.Now().Add(10 * time.Second)
	for len(g.reqs) != waiting {
		if time.Now().After(deadline) {
			t.Fatalf("%d callers queued, want %d", len(g.reqs), waiting)
		}
		select {
		case err := <-errs:
			t.Fatalf("a caller returned before its batch was committed: %v", err)
		default:
		}
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first commit: %v", err)
	}
	for range waiting {
		if err := <-errs; !errors.Is(err, fail) {
			t.Fatalf("caller of the second batch got %v, want its failure", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(batches) != 2 || batches[0] != 1 || batches[1] != waiting {
		t.Fatalf("batches %v, want [1 %d]", batches, waiting)
	}
}

// TestGroupCommitClosed: Commit after Close fails rather than waiting.
func TestGroupCommitClosed(t *testing.T) {
	g := NewGroupCommit(func(context.Context, []*Message) error { return nil }, 8, 1<<20)
	g.Close()
	if err := g.Commit(context.Background(), &Message{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Commit after Close = %v, want ErrClosed", err)
	}
}

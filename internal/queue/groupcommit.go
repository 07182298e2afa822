package queue

import (
	"context"
	"errors"
	"sync"
)

// ErrClosed is returned by Enqueue on a store being closed.
var ErrClosed = errors.New("queue: closed")

// Prepare checks a message before Enqueue stores it and assigns its ID
// when it has none. Engines call it first, so an engine that stores the
// body apart from the row has the ID to name it by.
func Prepare(msg *Message) error {
	if len(msg.Recipients) == 0 {
		return errors.New("queue: message without recipients")
	}
	if msg.ID == "" {
		msg.ID = NewID(msg.Received)
	}
	return nil
}

// GroupCommit gathers concurrent Enqueue calls into one transaction, so a
// store whose commit costs an fsync or a network round trip is not capped
// at one message per commit. One goroutine commits batch after batch; the
// callers that arrived while a commit ran make up the next batch.
type GroupCommit struct {
	commit   func(ctx context.Context, msgs []*Message) error
	maxMsgs  int
	maxBytes int
	reqs     chan *commitReq
	stop     chan struct{}
	wg       sync.WaitGroup
	// mu orders Close after every hand-over in progress: Commit holds it
	// shared while handing over, so nothing is handed over once closed.
	mu     sync.RWMutex
	closed bool
}

type commitReq struct {
	msg  *Message
	done chan error
}

// NewGroupCommit starts the committer. commit stores one batch in one
// transaction (all or none); a batch holds at most maxMsgs messages and,
// unless one message alone is larger, maxBytes of bodies.
func NewGroupCommit(commit func(ctx context.Context, msgs []*Message) error, maxMsgs, maxBytes int) *GroupCommit {
	g := &GroupCommit{commit: commit, maxMsgs: maxMsgs, maxBytes: maxBytes,
		reqs: make(chan *commitReq, maxMsgs), stop: make(chan struct{})}
	g.wg.Add(1)
	go g.run()
	return g
}

// Commit hands msg to the committer and returns the outcome of the commit
// that took it. Once handed over, the outcome is waited for even if ctx
// ends: a caller that stopped waiting could not tell its client whether
// the message is queued.
func (g *GroupCommit) Commit(ctx context.Context, msg *Message) error {
	req := &commitReq{msg: msg, done: make(chan error, 1)}
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return ErrClosed
	}
	select {
	case g.reqs <- req: // the committer runs until Close, so this ends
	case <-ctx.Done():
		g.mu.RUnlock()
		return ctx.Err()
	}
	g.mu.RUnlock()
	return <-req.done
}

func (g *GroupCommit) run() {
	defer g.wg.Done()
	for {
		var first *commitReq
		select {
		case first = <-g.reqs:
		case <-g.stop:
			return
		}
		batch, size := []*commitReq{first}, len(first.msg.Body)
	gather:
		for len(batch) < g.maxMsgs && size < g.maxBytes {
			select {
			case r := <-g.reqs:
				batch = append(batch, r)
				size += len(r.msg.Body)
			default:
				break gather
			}
		}
		msgs := make([]*Message, len(batch))
		for i, r := range batch {
			msgs[i] = r.msg
		}
		// Not tied to any one caller's context: the batch belongs to all.
		err := g.commit(context.Background(), msgs)
		for _, r := range batch {
			r.done <- err
		}
	}
}

// Close stops the committer after the batch it is committing; callers
// whose messages it had not taken get ErrClosed.
func (g *GroupCommit) Close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	close(g.stop)
	g.wg.Wait()
	for {
		select {
		case r := <-g.reqs:
			r.done <- ErrClosed
		default:
			return
		}
	}
}

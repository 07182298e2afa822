package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// observer follows a mailbox through Changes as a CONDSTORE/QRESYNC client
// does: it asks for what changed after the HIGHESTMODSEQ it saw last. A
// change committed with a MODSEQ at or below one already reported would
// never reach it, so it must end up with the mailbox's final state.
type observer struct {
	h     *harness
	user  string
	box   int64
	since uint64
	seen  map[uint32]mailstore.Message
	maxID uint32
}

func newObserver(h *harness, user string, box int64) *observer {
	return &observer{h: h, user: user, box: box, since: h.status(user, box).HighestModSeq, seen: map[uint32]mailstore.Message{}}
}

// poll applies one Changes answer. A new UID below one already seen means
// UIDs became visible out of order (RFC 3501 §2.3.1.1: a new message gets
// a UID above every UID the client saw).
func (o *observer) poll() error {
	ch, err := o.h.s.Changes(o.h.ctx, o.user, o.box, o.since)
	if err != nil {
		return err
	}
	for _, m := range ch.Updated {
		if _, known := o.seen[m.UID]; !known {
			if m.UID <= o.maxID {
				o.h.t.Errorf("observer: new UID %d appeared after UID %d", m.UID, o.maxID)
			}
			o.maxID = max(o.maxID, m.UID)
		}
		o.seen[m.UID] = m
	}
	for _, uid := range ch.Expunged {
		delete(o.seen, uid)
	}
	o.since = ch.HighestModSeq
	return nil
}

// run polls until done is closed, then once more.
func (o *observer) run(done <-chan struct{}) {
	for {
		select {
		case <-done:
			if err := o.poll(); err != nil {
				o.h.t.Errorf("observer: %v", err)
			}
			return
		default:
		}
		if err := o.poll(); err != nil {
			o.h.t.Errorf("observer: %v", err)
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// wantSeen checks the observer's view against the mailbox's messages.
func (o *observer) wantSeen(final []mailstore.Message) {
	o.h.t.Helper()
	if len(o.seen) != len(final) {
		o.h.t.Errorf("observer saw %d messages, the mailbox has %d", len(o.seen), len(final))
	}
	for _, m := range final {
		got, ok := o.seen[m.UID]
		if !ok || got.ModSeq != m.ModSeq || !slices.Equal(got.Flags, m.Flags) {
			o.h.t.Errorf("observer missed a change of UID %d: saw %+v, stored %+v", m.UID, got, m)
		}
	}
}

// testHandlesAppend: writers on two handles append and deliver to one
// mailbox at once while an observer on each handle polls Changes. Every
// message is stored once under its own UID, UIDs and MODSEQs follow
// commit order (each Append is its own transaction with its own MODSEQ),
// both handles agree on the counters, and neither observer misses one.
func testHandlesAppend(t *testing.T, h *harness) {
	a, b := h, h.other()
	a.account("alice")
	inbox := a.box("alice", mailstore.Inbox)
	const perHandle = 24
	var mu sync.Mutex
	bodies := map[uint32]string{}
	writer := func(x *harness, name string) func() {
		return func() {
			for i := range perHandle {
				body := fmt.Sprintf("From: a@example.org\r\nSubject: %s %d\r\n\r\nbody\r\n", name, i)
				var uid uint32
				var err error
				if i%2 == 0 {
					uid, err = x.s.Append(x.ctx, "alice", inbox.ID, mailstore.NewMessage{Body: strings.NewReader(body)})
				} else {
					var res []mailstore.DeliveryResult
					if res, err = x.s.Deliver(x.ctx, []mailstore.Delivery{delivery("alice", "", body, "")}); err == nil {
						uid, err = res[0].UID, res[0].Err
					}
				}
				if err != nil {
					t.Errorf("%s: add message %d: %v", name, i, err)
					return
				}
				mu.Lock()
				if other, dup := bodies[uid]; dup {
					t.Errorf("UID %d given to %q and to %q", uid, other, body)
				}
				bodies[uid] = body
				mu.Unlock()
			}
		}
	}
	oa, ob := newObserver(a, "alice", inbox.ID), newObserver(b, "alice", inbox.ID)
	done := make(chan struct{})
	var watching sync.WaitGroup
	for _, o := range []*observer{oa, ob} {
		watching.Add(1)
		go func() {
			defer watching.Done()
			o.run(done)
		}()
	}
	together(t, writer(a, "a"), writer(b, "b"))
	close(done)
	watching.Wait()

	const total = 2 * perHandle
	msgs := b.messages("alice", inbox.ID)
	if len(msgs) != total || len(bodies) != total {
		t.Fatalf("%d messages stored, %d UIDs returned, want %d", len(msgs), len(bodies), total)
	}
	for i, m := range msgs {
		if got := b.body(m.BlobID); got != bodies[m.UID] {
			t.Errorf("UID %d holds %q, Append/Deliver returned it for %q", m.UID, got, bodies[m.UID])
		}
		if i > 0 && m.ModSeq <= msgs[i-1].ModSeq {
			t.Errorf("UID %d has MODSEQ %d, UID %d before it %d: MODSEQs must follow UIDs (one transaction each)",
				m.UID, m.ModSeq, msgs[i-1].UID, msgs[i-1].ModSeq)
		}
	}
	last := msgs[total-1].ModSeq
	for _, x := range []*harness{a, b} {
		if st := x.status("alice", inbox.ID); st.Messages != total || st.UIDNext != total+1 || st.HighestModSeq != last {
			t.Errorf("Status = %+v, want %d messages, UIDNEXT %d, HIGHESTMODSEQ %d", st, total, total+1, last)
		}
	}
	oa.wantSeen(msgs)
	ob.wantSeen(msgs)
	a.wantUsage("alice", "appends from two handles", sumSizes(msgs), total)
}

func sumSizes(msgs []mailstore.Message) int64 {
	var n int64
	for _, m := range msgs {
		n += m.Size
	}
	return n
}

// testHandlesDeliverDedupe: the same delivery (one DeliveryID) stored from
// both handles at once, as two front ends retrying one message would, is
// stored once; every other attempt reports Duplicate with the same UID.
func testHandlesDeliverDedupe(t *testing.T, h *harness) {
	a, b := h, h.other()
	a.account("alice")
	inbox := a.box("alice", mailstore.Inbox)
	const rounds, attempts = 8, 4
	for r := range rounds {
		id := fmt.Sprintf("q%d/alice", r)
		var res [attempts]mailstore.DeliveryResult
		var fns []func()
		for i := range attempts {
			x := []*harness{a, b}[i%2]
			fns = append(fns, func() {
				got, err := x.s.Deliver(x.ctx, []mailstore.Delivery{delivery("alice", "", msg(r), id)})
				if err != nil {
					t.Errorf("round %d: Deliver: %v", r, err)
					return
				}
				res[i] = got[0]
			})
		}
		together(t, fns...)
		stored := 0
		for i, got := range res {
			if got.Err != nil || got.UID == 0 || got.UID != res[0].UID || got.Mailbox != mailstore.Inbox {
				t.Errorf("round %d: attempt %d = %+v, attempt 0 = %+v", r, i, got, res[0])
			}
			if !got.Duplicate {
				stored++
			}
		}
		if stored != 1 {
			t.Errorf("round %d: %d attempts stored the message, want 1: %+v", r, stored, res)
		}
	}
	// Append dedupes the same way.
	var uids [2]uint32
	together(t, func() { uids[0] = appendID(t, a, inbox.ID, "append/1") }, func() { uids[1] = appendID(t, b, inbox.ID, "append/1") })
	if uids[0] == 0 || uids[0] != uids[1] {
		t.Errorf("Append of one DeliveryID from both handles: UIDs %v", uids)
	}

	msgs := b.messages("alice", inbox.ID)
	if len(msgs) != rounds+1 {
		t.Fatalf("%d messages, want %d", len(msgs), rounds+1)
	}
	for r, m := range msgs[:rounds] {
		if got := b.body(m.BlobID); got != msg(r) {
			t.Errorf("UID %d = %q, want %q", m.UID, got, msg(r))
		}
	}
	a.wantUsage("alice", "deduped deliveries", sumSizes(msgs), rounds+1)
}

func appendID(t *testing.T, h *harness, mailboxID int64, id string) uint32 {
	uid, err := h.s.Append(h.ctx, "alice", mailboxID, mailstore.NewMessage{Body: strings.NewReader(msg(99)), DeliveryID: id})
	if err != nil {
		t.Errorf("Append with DeliveryID %s: %v", id, err)
	}
	return uid
}

package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// testHandlesMoveExpunge: both handles move the same messages to
// different mailboxes at once, then expunge the same messages at once.
// Each message is moved by one of them and lands in one mailbox, each is
// expunged once (the UIDs the two Expunges report are disjoint), and the
// usage counts every message once.
func testHandlesMoveExpunge(t *testing.T, h *harness) {
	a, b := h, h.other()
	a.account("alice")
	inbox := a.box("alice", mailstore.Inbox)
	dsts := []mailstore.MailboxInfo{a.create("alice", "A"), a.create("alice", "B")}
	const n = 24
	for i := range n {
		a.append("alice", inbox.ID, msg(i))
	}
	uids := a.uids("alice", inbox.ID)
	backward := slices.Clone(uids)
	slices.Reverse(backward)
	var mu sync.Mutex
	var moved []uint32
	mover := func(x *harness, order []uint32, dst int64) func() {
		return func() {
			for c := range slices.Chunk(order, 2) {
				src, dstUIDs, err := x.s.Move(x.ctx, "alice", inbox.ID, c, dst)
				if err != nil || len(src) != len(dstUIDs) {
					t.Errorf("Move(%v) = %v, %v, %v", c, src, dstUIDs, err)
					return
				}
				mu.Lock()
				moved = append(moved, src...)
				mu.Unlock()
			}
		}
	}
	together(t, mover(a, uids, dsts[0].ID), mover(b, backward, dsts[1].ID))
	slices.Sort(moved)
	if !slices.Equal(moved, uids) {
		t.Errorf("moved UIDs %v, want each of %v once", moved, uids)
	}
	where := map[string]string{}
	for _, mb := range dsts {
		for _, m := range b.messages("alice", mb.ID) {
			body := b.body(m.BlobID)
			if other, dup := where[body]; dup {
				t.Errorf("%q is in %s and in %s", body, other, mb.Name)
			}
			where[body] = mb.Name
		}
	}
	if len(where) != n || len(b.messages("alice", inbox.ID)) != 0 {
		t.Errorf("after the moves: %d messages in A and B, %d left in INBOX; want %d and 0",
			len(where), len(b.messages("alice", inbox.ID)), n)
	}
	a.wantUsage("alice", "moves from two handles",
		sumSizes(a.messages("alice", dsts[0].ID))+sumSizes(a.messages("alice", dsts[1].ID)), n)

	// Expunge A's messages from both handles at once.
	inA := a.uids("alice", dsts[0].ID)
	a.setFlags("alice", dsts[0].ID, inA, mailstore.FlagsAdd, `\Deleted`)
	var expunged []uint32
	expunger := func(x *harness) func() {
		return func() {
			for c := range slices.Chunk(inA, 3) {
				got, err := x.s.Expunge(x.ctx, "alice", dsts[0].ID, c)
				if err != nil {
					t.Errorf("Expunge(%v): %v", c, err)
					return
				}
				mu.Lock()
				expunged = append(expunged, got...)
				mu.Unlock()
			}
		}
	}
	together(t, expunger(a), expunger(b))
	slices.Sort(expunged)
	if !slices.Equal(expunged, inA) {
		t.Errorf("the two Expunges reported %v, want each of %v once", expunged, inA)
	}
	left := int64(n - len(inA))
	for _, x := range []*harness{a, b} {
		x.wantUsage("alice", "expunges from two handles", sumSizes(x.messages("alice", dsts[1].ID)), left)
	}
}

// addUntilRemoved calls add(1), add(2), ... on one goroutine while remove
// runs on another, until add fails with gone, and returns how many adds
// succeeded. An add begun after remove returned must not succeed.
func addUntilRemoved(t *testing.T, add func(i int) error, remove func() error, gone error) int {
	added := 0
	removed := make(chan struct{})
	together(t,
		func() {
			for i := 1; ; i++ {
				late := isClosed(removed)
				err := add(i)
				if errors.Is(err, gone) {
					return
				}
				if err != nil {
					t.Errorf("add %d racing removal: %v", i, err)
					return
				}
				added++
				if late {
					t.Errorf("add %d, begun after the removal returned, succeeded", i)
					return
				}
			}
		},
		func() {
			defer close(removed)
			if err := remove(); err != nil {
				t.Errorf("removal: %v", err)
			}
		},
	)
	return added
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// testHandlesDeleteMailbox: one handle deletes a mailbox while the other
// appends to it. Each Append either lands before the delete or fails with
// ErrNoMailbox; afterwards nothing of the mailbox is left, the usage is
// zero and collecting garbage deletes every body that was stored.
func testHandlesDeleteMailbox(t *testing.T, h *harness) {
	a, b := h, h.other()
	a.account("alice")
	box := a.create("alice", "Doomed")
	a.append("alice", box.ID, msg(0))
	stored := 1 + addUntilRemoved(t,
		func(i int) error {
			_, err := b.s.Append(b.ctx, "alice", box.ID, mailstore.NewMessage{Body: strings.NewReader(msg(i))})
			return err
		},
		func() error { return a.s.DeleteMailbox(a.ctx, "alice", "Doomed") },
		mailstore.ErrNoMailbox)
	for _, x := range []*harness{a, b} {
		_, err := x.s.Mailbox(x.ctx, "alice", "Doomed")
		wantErr(t, "Mailbox after delete", err, mailstore.ErrNoMailbox)
		x.wantUsage("alice", "delete racing appends", 0, 0)
	}
	if got := a.collect(time.Now().Add(time.Minute)); got != stored {
		t.Errorf("CollectGarbage deleted %d bodies, want the %d stored in the deleted mailbox", got, stored)
	}
}

// testHandlesDeleteAccount: one handle deletes an account while the other
// delivers to it: each delivery lands before the delete or fails with
// ErrNoAccount, the account is gone from both handles with all its
// mailboxes, another account is untouched, and the deleted accounts'
// bodies are collected. Several rounds, as one may miss the window.
func testHandlesDeleteAccount(t *testing.T, h *harness) {
	a, b := h, h.other()
	a.account("bob")
	bobs := a.box("bob", mailstore.Inbox)
	a.append("bob", bobs.ID, msg(0))
	stored := 0
	for r := range 4 {
		user := fmt.Sprintf("alice%d", r)
		a.account(user)
		a.append(user, a.box(user, mailstore.Inbox).ID, msg(1000*r+999))
		stored += 1 + addUntilRemoved(t,
			func(i int) error {
				res, err := b.s.Deliver(b.ctx, []mailstore.Delivery{delivery(user, "", msg(1000*r+i), fmt.Sprintf("q%d/%s", i, user))})
				if err != nil {
					return err
				}
				return res[0].Err
			},
			func() error { return a.s.DeleteAccount(a.ctx, user) },
			mailstore.ErrNoAccount)
		for _, x := range []*harness{a, b} {
			_, err := x.s.Mailboxes(x.ctx, user)
			wantErr(t, "Mailboxes after DeleteAccount", err, mailstore.ErrNoAccount)
		}
	}
	for _, x := range []*harness{a, b} {
		x.wantUsage("bob", "DeleteAccount of other accounts", int64(len(msg(0))), 1)
	}
	// bob's msg(0) is the only body kept.
	if got := a.collect(time.Now().Add(time.Minute)); got != stored {
		t.Errorf("CollectGarbage deleted %d bodies, want the %d delivered to the deleted accounts", got, stored)
	}
	if n := len(b.messages("bob", bobs.ID)); n != 1 {
		t.Errorf("bob has %d messages, want 1", n)
	}
}

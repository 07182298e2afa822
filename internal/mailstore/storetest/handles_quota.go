package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// testHandlesQuota: appends from two handles at once stop at exactly the
// limit (the quota test and the write are one step), and after a mix of
// concurrent appends, deliveries, copies and expunges from both handles
// the usage each handle reports is what is stored.
func testHandlesQuota(t *testing.T, h *harness) {
	a, b := h, h.other()
	a.account("alice")
	inbox := a.box("alice", mailstore.Inbox)
	n := int64(len(msg(1))) // msg(1) to msg(9) have the same length

	for _, limit := range []struct {
		what              string
		storage, messages int64
	}{{"message limit", 0, 5}, {"storage limit", 10 * n, 0}} {
		before := a.quota("alice").MessagesUsed
		a.setQuota("alice", limit.storage, limit.messages)
		var mu sync.Mutex
		stored, refused := 0, 0
		var fns []func()
		for w := range 6 {
			x := []*harness{a, b}[w%2]
			fns = append(fns, func() {
				for range 3 {
					_, err := x.s.Append(x.ctx, "alice", inbox.ID, mailstore.NewMessage{Body: strings.NewReader(msg(w + 1))})
					mu.Lock()
					switch {
					case err == nil:
						stored++
					case errors.Is(err, mailstore.ErrOverQuota):
						refused++
					default:
						t.Errorf("%s: Append: %v", limit.what, err)
					}
					mu.Unlock()
				}
			})
		}
		together(t, fns...)
		want := limit.messages + limit.storage/n - before
		if int64(stored) != want || refused != 18-stored {
			t.Errorf("%s: %d appends stored, %d refused, want %d stored", limit.what, stored, refused, want)
		}
		for _, x := range []*harness{a, b} {
			x.wantUsage("alice", limit.what, (before+want)*n, before+want)
		}
	}

	// No limits: the usage follows concurrent additions and removals.
	a.setQuota("alice", 0, 0)
	archive := a.box("alice", "Archive")
	src := a.uids("alice", inbox.ID)
	a.setFlags("alice", inbox.ID, src[:5], mailstore.FlagsAdd, `\Deleted`)
	together(t,
		func() {
			for i := range 10 {
				if _, err := a.s.Append(a.ctx, "alice", archive.ID, mailstore.NewMessage{Body: strings.NewReader(msg(100 + i))}); err != nil {
					t.Errorf("Append: %v", err)
				}
			}
		},
		func() {
			for i := range 10 {
				res, err := b.s.Deliver(b.ctx, []mailstore.Delivery{delivery("alice", "", msg(200+i), fmt.Sprintf("q%d", i))})
				if err == nil {
					err = res[0].Err
				}
				if err != nil {
					t.Errorf("Deliver: %v", err)
				}
			}
		},
		func() {
			for _, uid := range slices.Backward(src) {
				if _, _, err := b.s.Copy(b.ctx, "alice", inbox.ID, []uint32{uid}, archive.ID); err != nil {
					t.Errorf("Copy: %v", err)
				}
			}
		},
		func() {
			for _, uid := range src[:5] {
				if _, err := a.s.Expunge(a.ctx, "alice", inbox.ID, []uint32{uid}); err != nil {
					t.Errorf("Expunge: %v", err)
				}
			}
		},
	)
	// INBOX keeps 5 of its 10 and gets 10 deliveries; Archive gets 10
	// appends and a copy of each of src that Copy found (the 5 expunged
	// ones only if copied first). Only the copies are n bytes long.
	var copies int64
	for _, m := range b.messages("alice", archive.ID) {
		if m.Size == n {
			copies++
		}
	}
	if copies < 5 || copies > 10 {
		t.Errorf("%d copies in Archive, want 5 to 10", copies)
	}
	want := 5 + 10 + 10 + copies
	var bytes int64
	for _, mb := range []int64{inbox.ID, archive.ID} {
		bytes += sumSizes(b.messages("alice", mb))
	}
	for _, x := range []*harness{a, b} {
		x.wantUsage("alice", "concurrent adds and removes", bytes, want)
	}
}

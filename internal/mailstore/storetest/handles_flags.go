package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// testHandlesSetFlags: workers on both handles add keywords to the same
// messages at once. Each change gets its own MODSEQ, above every earlier
// one; the final flags are the union (adds commute); HIGHESTMODSEQ and the
// messages' MODSEQ are the last change's; an observer polling Changes
// misses nothing.
func testHandlesSetFlags(t *testing.T, h *harness) {
	a, b := h, h.other()
	a.account("alice")
	inbox := a.box("alice", mailstore.Inbox)
	for i := 1; i <= 5; i++ {
		a.append("alice", inbox.ID, msg(i))
	}
	uids := a.uids("alice", inbox.ID)
	if len(uids) != 5 {
		t.Fatalf("UIDs after 5 appends: %v", uids)
	}
	base := a.status("alice", inbox.ID).HighestModSeq
	const workers, each = 4, 6
	var mu sync.Mutex
	var modSeqs []uint64
	var keywords []string
	var fns []func()
	for w := range workers {
		x := []*harness{a, b}[w%2]
		fns = append(fns, func() {
			for i := range each {
				kw := fmt.Sprintf("k%d_%d", w, i)
				changed, err := x.s.SetFlags(x.ctx, "alice", inbox.ID, uids, mailstore.FlagsAdd, []string{kw})
				if err != nil {
					t.Errorf("SetFlags(+%s): %v", kw, err)
					return
				}
				if len(changed) != len(uids) || changed[0].ModSeq == 0 {
					t.Errorf("SetFlags(+%s) changed %d messages, want %d", kw, len(changed), len(uids))
					return
				}
				for _, m := range changed {
					if m.ModSeq != changed[0].ModSeq || m.ModSeq <= base || !slices.Contains(m.Flags, kw) {
						t.Errorf("SetFlags(+%s) returned %+v (MODSEQ of the call %d, base %d)", kw, m, changed[0].ModSeq, base)
					}
				}
				mu.Lock()
				modSeqs = append(modSeqs, changed[0].ModSeq)
				keywords = append(keywords, kw)
				mu.Unlock()
			}
		})
	}
	o := newObserver(b, "alice", inbox.ID)
	if err := o.poll(); err != nil { // start from base: know the messages
		t.Fatal(err)
	}
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		o.run(done)
	}()
	together(t, fns...)
	close(done)
	<-watched

	slices.Sort(modSeqs)
	if len(modSeqs) != workers*each || len(slices.Compact(slices.Clone(modSeqs))) != len(modSeqs) {
		t.Fatalf("MODSEQs of %d changes: %v, want one each, all different", workers*each, modSeqs)
	}
	last := modSeqs[len(modSeqs)-1]
	slices.Sort(keywords)
	final := b.messages("alice", inbox.ID)
	for _, m := range final {
		if !slices.Equal(m.Flags, keywords) || m.ModSeq != last {
			t.Errorf("UID %d = flags %v MODSEQ %d, want all %d keywords at MODSEQ %d", m.UID, m.Flags, m.ModSeq, len(keywords), last)
		}
	}
	for _, x := range []*harness{a, b} {
		if hm := x.status("alice", inbox.ID).HighestModSeq; hm != last {
			t.Errorf("HIGHESTMODSEQ = %d, want the last change's %d", hm, last)
		}
	}
	o.wantSeen(final)
}

// testSetFlagsIfRace runs conditional updates of one message from many
// clients on both handles that all read the same MODSEQ: the test and the
// update are one step, so exactly one of them wins (RFC 7162 §3.1.3) and
// the message holds the winner's flags.
func testSetFlagsIfRace(t *testing.T, h *harness) {
	a, b := h, h.other()
	a.account("alice")
	inbox := a.box("alice", mailstore.Inbox)
	a.append("alice", inbox.ID, msg(1))
	base := a.messages("alice", inbox.ID)[0].ModSeq
	const workers = 16
	var mu sync.Mutex
	var winners []string
	lost := 0
	var fns []func()
	for w := range workers {
		x := []*harness{a, b}[w%2]
		kw := fmt.Sprintf("k%d", w)
		fns = append(fns, func() {
			changed, modified, err := x.s.SetFlagsIf(x.ctx, "alice", inbox.ID, mailstore.ConditionalFlags{
				UIDs: []uint32{1}, Op: mailstore.FlagsReplace, Flags: []string{kw}, UnchangedSince: base})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("SetFlagsIf: %v", err)
			case len(changed) == 1 && len(modified) == 0:
				winners = append(winners, kw)
			case len(changed) == 0 && slices.Equal(modified, []uint32{1}):
				lost++
			default:
				t.Errorf("changed %+v modified %v", changed, modified)
			}
		})
	}
	together(t, fns...)
	if len(winners) != 1 || lost != workers-1 {
		t.Fatalf("winners %v, %d lost; want exactly one winner", winners, lost)
	}
	for _, x := range []*harness{a, b} {
		if m := x.messages("alice", inbox.ID)[0]; !slices.Equal(m.Flags, winners) || m.ModSeq <= base {
			t.Errorf("message = %+v, want the winner's flags %v at a MODSEQ above %d", m, winners, base)
		}
	}
}

// testHandlesClaimRecent: while one handle appends, claimers on both
// handles claim up to the UIDNEXT they read; the ranges they are given
// are disjoint and together cover every message exactly once.
func testHandlesClaimRecent(t *testing.T, h *harness) {
	a, b := h, h.other()
	a.account("alice")
	box := a.create("alice", "Box")
	const n = 24
	var mu sync.Mutex
	owner := map[uint32]int{}
	appended := make(chan struct{})
	claimer := func(x *harness, id int) func() {
		return func() {
			for {
				finished := false
				select {
				case <-appended:
					finished = true
				default:
				}
				st, err := x.s.Status(x.ctx, "alice", box.ID)
				if err != nil {
					t.Errorf("Status: %v", err)
					return
				}
				from, err := x.s.ClaimRecent(x.ctx, "alice", box.ID, st.UIDNext)
				if err != nil {
					t.Errorf("ClaimRecent(%d): %v", st.UIDNext, err)
					return
				}
				mu.Lock()
				for u := from; u < st.UIDNext; u++ {
					if other, dup := owner[u]; dup {
						t.Errorf("UID %d recent to claimers %d and %d", u, other, id)
					}
					owner[u] = id
				}
				mu.Unlock()
				if finished {
					return
				}
			}
		}
	}
	appender := func() {
		defer close(appended)
		for i := range n {
			if _, err := a.s.Append(a.ctx, "alice", box.ID, mailstore.NewMessage{Body: strings.NewReader(msg(i))}); err != nil {
				t.Errorf("Append: %v", err)
				return
			}
		}
	}
	together(t, appender, claimer(a, 1), claimer(a, 2), claimer(b, 3), claimer(b, 4))
	if len(owner) != n {
		t.Errorf("%d UIDs claimed, want %d: %v", len(owner), n, owner)
	}
	for u := uint32(1); u <= n; u++ {
		if _, ok := owner[u]; !ok {
			t.Errorf("UID %d recent to nobody", u)
		}
	}
	for _, x := range []*harness{a, b} {
		if st := x.status("alice", box.ID); st.Recent != 0 || st.Messages != n {
			t.Errorf("Status after all claims = %+v, want %d messages, none recent", st, n)
		}
	}
}

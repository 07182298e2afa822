package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// testHandlesCreateMailbox: the same name created from both handles at
// once makes one mailbox (one success, one ErrMailboxExists); siblings
// under a new parent created at once both succeed and share one parent;
// no two mailboxes get one UIDVALIDITY or MAILBOXID.
func testHandlesCreateMailbox(t *testing.T, h *harness) {
	a, b := h, h.other()
	a.account("alice")
	const rounds = 6
	for r := range rounds {
		name := fmt.Sprintf("P%d/C", r)
		var infos [2]mailstore.MailboxInfo
		var errs [2]error
		together(t,
			func() { infos[0], errs[0] = a.s.CreateMailbox(a.ctx, "alice", name, "") },
			func() { infos[1], errs[1] = b.s.CreateMailbox(b.ctx, "alice", name, "") },
		)
		won := 0
		if errs[0] != nil {
			won = 1
		}
		if errs[won] != nil || !errors.Is(errs[1-won], mailstore.ErrMailboxExists) {
			t.Errorf("CreateMailbox(%s) from both handles: %v and %v, want one success and one ErrMailboxExists", name, errs[0], errs[1])
			continue
		}
		for _, x := range []*harness{a, b} {
			if got := x.box("alice", name); got.ID != infos[won].ID {
				t.Errorf("%s = %+v, the winner made %+v", name, got, infos[won])
			}
		}
		sibling := fmt.Sprintf("Q%d/", r)
		together(t,
			func() { infos[0], errs[0] = a.s.CreateMailbox(a.ctx, "alice", sibling+"a", "") },
			func() { infos[1], errs[1] = b.s.CreateMailbox(b.ctx, "alice", sibling+"b", "") },
		)
		if errs[0] != nil || errs[1] != nil {
			t.Errorf("siblings under a new parent %s: %v, %v; want both created", sibling, errs[0], errs[1])
		}
	}
	for _, x := range []*harness{a, b} {
		boxes, err := x.s.Mailboxes(x.ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if want := len(mailstore.DefaultMailboxes) + 5*rounds; len(boxes) != want {
			t.Errorf("%d mailboxes, want %d", len(boxes), want)
		}
		names, validities, objectIDs := map[string]bool{}, map[uint32]bool{}, map[string]bool{}
		for _, mb := range boxes {
			if names[mb.Name] || validities[mb.UIDValidity] || objectIDs[mb.ObjectID] {
				t.Errorf("mailbox %+v repeats a name, UIDVALIDITY or MAILBOXID", mb)
			}
			names[mb.Name], validities[mb.UIDValidity], objectIDs[mb.ObjectID] = true, true, true
		}
	}
	a.wantCheck("concurrent creates")
}

// testConcurrentEnsureAccount: EnsureAccount from both handles at once
// makes the account once.
func testConcurrentEnsureAccount(t *testing.T, h *harness) {
	a, b := h, h.other()
	var fns []func()
	for i := range 10 {
		x := []*harness{a, b}[i%2]
		fns = append(fns, func() {
			if err := x.s.EnsureAccount(x.ctx, "alice"); err != nil {
				t.Errorf("concurrent EnsureAccount: %v", err)
			}
		})
	}
	together(t, fns...)
	for _, x := range []*harness{a, b} {
		if got := x.names("alice"); len(got) != len(mailstore.DefaultMailboxes) {
			t.Errorf("mailboxes after concurrent EnsureAccount: %v", got)
		}
	}
}

// testHandlesRenameMailbox: both handles rename one mailbox at once to
// different names; one wins and the other finds no mailbox. Two mailboxes
// renamed at once onto one name: one wins, the other gets ErrMailboxExists.
// The mailbox keeps its identity and messages under the winning name. Each
// race runs for several rounds, as one may miss the window.
func testHandlesRenameMailbox(t *testing.T, h *harness) {
	a, b := h, h.other()
	a.account("alice")
	// oneWins races two renames and returns which succeeded, or -1 after
	// reporting anything but one success and one loser's error.
	oneWins := func(what string, loser error, renames [2]func() error) int {
		t.Helper()
		var errs [2]error
		together(t, func() { errs[0] = renames[0]() }, func() { errs[1] = renames[1]() })
		for won := range 2 {
			if errs[won] == nil && errors.Is(errs[1-won], loser) {
				return won
			}
		}
		t.Errorf("%s: %v and %v, want one success and one %v", what, errs[0], errs[1], loser)
		return -1
	}
	const rounds = 6
	for r := range rounds {
		src := a.create("alice", fmt.Sprintf("Src%d", r))
		a.append("alice", src.ID, msg(r))
		names := [2]string{fmt.Sprintf("ToA%d", r), fmt.Sprintf("ToB%d", r)}
		won := oneWins("two renames of "+src.Name, mailstore.ErrNoMailbox, [2]func() error{
			func() error { return a.s.RenameMailbox(a.ctx, "alice", src.Name, names[0]) },
			func() error { return b.s.RenameMailbox(b.ctx, "alice", src.Name, names[1]) },
		})
		if won < 0 {
			continue
		}
		for _, x := range []*harness{a, b} {
			if got := x.box("alice", names[won]); got.ID != src.ID || got.UIDValidity != src.UIDValidity || len(x.messages("alice", got.ID)) != 1 {
				t.Errorf("%s = %+v, want %s's identity and message", names[won], got, src.Name)
			}
			for _, gone := range []string{src.Name, names[1-won]} {
				_, err := x.s.Mailbox(x.ctx, "alice", gone)
				wantErr(t, "Mailbox("+gone+")", err, mailstore.ErrNoMailbox)
			}
		}

		other := a.create("alice", fmt.Sprintf("Other%d", r))
		same := fmt.Sprintf("Same%d", r)
		won = oneWins("two renames onto "+same, mailstore.ErrMailboxExists, [2]func() error{
			func() error { return a.s.RenameMailbox(a.ctx, "alice", names[won], same) },
			func() error { return b.s.RenameMailbox(b.ctx, "alice", other.Name, same) },
		})
		if won >= 0 {
			if got, want := b.box("alice", same).ID, []int64{src.ID, other.ID}[won]; got != want {
				t.Errorf("%s is mailbox %d, want the winner's %d", same, got, want)
			}
		}
	}
	if want := len(mailstore.DefaultMailboxes) + 2*rounds; len(b.names("alice")) != want {
		t.Errorf("mailboxes %v, want %d", b.names("alice"), want)
	}
	a.wantCheck("concurrent renames")
}

// testHandlesURLAuthKey: the first URLAuthKey of a mailbox, asked on both
// handles at once, creates one key: URLs signed with either answer keep
// working.
func testHandlesURLAuthKey(t *testing.T, h *harness) {
	a, b := h, h.other()
	a.account("alice")
	for r := range 6 {
		box := a.create("alice", fmt.Sprintf("Box%d", r))
		var keys [4][]byte
		var fns []func()
		for i := range keys {
			x := []*harness{a, b}[i%2]
			fns = append(fns, func() {
				k, err := x.s.URLAuthKey(x.ctx, "alice", box.ID)
				if err != nil {
					t.Errorf("URLAuthKey: %v", err)
				}
				keys[i] = k
			})
		}
		together(t, fns...)
		final := a.urlAuthKey("alice", box.ID)
		for i, k := range keys {
			if len(k) < 16 || !bytes.Equal(k, final) {
				t.Errorf("round %d: concurrent first URLAuthKey %d = %x, the stored key is %x", r, i, k, final)
			}
		}
	}
}

package storetest

import (
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

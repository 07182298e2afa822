package storetest

import (
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// together runs each fn in its own goroutine, all released at once, and
// waits for them. The fns report with t.Errorf, never t.Fatal; a panic in
// one is reported as an error.
func together(t *testing.T, fns ...func()) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("panic: %v\n%s", r, debug.Stack())
				}
			}()
			<-start
			fn()
		}()
	}
	close(start)
	wg.Wait()
}

// wantCheck fails the test if Check through h reports any problem.
func (h *harness) wantCheck(after string) {
	h.t.Helper()
	problems, err := h.s.Check(h.ctx)
	if err != nil {
		h.t.Fatalf("after %s: Check: %v", after, err)
	}
	for _, p := range problems {
		h.t.Errorf("after %s: Check: %s", after, p)
	}
}

func (h *harness) changes(user string, mailboxID int64, since uint64) mailstore.Changes {
	h.t.Helper()
	ch, err := h.s.Changes(h.ctx, user, mailboxID, since)
	if err != nil {
		h.t.Fatalf("Changes(%d): %v", since, err)
	}
	return ch
}

func (h *harness) setFlags(user string, mailboxID int64, uids []uint32, op mailstore.FlagOp, flags ...string) []mailstore.Message {
	h.t.Helper()
	changed, err := h.s.SetFlags(h.ctx, user, mailboxID, uids, op, flags)
	if err != nil {
		h.t.Fatalf("SetFlags: %v", err)
	}
	return changed
}

// testHandlesSeeEachOther: what one handle commits, another handle on the
// same store reads at once, whatever it read before: no per-handle cache
// may hide another node's change.
func testHandlesSeeEachOther(t *testing.T, h *harness) {
	a, b := h, h.other()
	a.account("alice")
	a.account("bob")
	inbox := b.box("alice", mailstore.Inbox)
	if want := a.box("alice", mailstore.Inbox); inbox != want {
		t.Errorf("INBOX through the second handle = %+v, through the first %+v", inbox, want)
	}
	// Warm the second handle's reads before each change.
	before := b.status("alice", inbox.ID)
	b.messages("alice", inbox.ID)
	uid := a.append("alice", inbox.ID, msg(1), `\Seen`)
	msgs := b.messages("alice", inbox.ID)
	if len(msgs) != 1 || msgs[0].UID != uid || !slices.Equal(msgs[0].Flags, []string{`\Seen`}) || b.body(msgs[0].BlobID) != msg(1) {
		t.Fatalf("other handle's Append, read here: %+v", msgs)
	}
	st := b.status("alice", inbox.ID)
	if st.Messages != 1 || st.UIDNext != uid+1 || st.HighestModSeq <= before.HighestModSeq || st.Recent != 1 {
		t.Errorf("Status after the other handle's Append = %+v (before %+v)", st, before)
	}
	if ch := b.changes("alice", inbox.ID, before.HighestModSeq); len(ch.Updated) != 1 || ch.Updated[0].UID != uid {
		t.Errorf("Changes after the other handle's Append = %+v", ch)
	}

	// Flags changed here are seen there, with their MODSEQ.
	since := a.status("alice", inbox.ID).HighestModSeq
	changed := b.setFlags("alice", inbox.ID, []uint32{uid}, mailstore.FlagsAdd, `\Flagged`)
	if len(changed) != 1 {
		t.Fatalf("SetFlags changed %+v", changed)
	}
	ch := a.changes("alice", inbox.ID, since)
	if len(ch.Updated) != 1 || ch.Updated[0].ModSeq != changed[0].ModSeq ||
		!slices.Equal(ch.Updated[0].Flags, []string{`\Flagged`, `\Seen`}) || ch.HighestModSeq != changed[0].ModSeq {
		t.Errorf("Changes after the other handle's SetFlags = %+v, want %+v", ch, changed[0])
	}
	if from := b.claimRecent("alice", inbox.ID, uid+1); from != uid {
		t.Errorf("ClaimRecent = %d, want %d", from, uid)
	}
	if st := a.status("alice", inbox.ID); st.Recent != 0 {
		t.Errorf("Recent after the other handle claimed it = %d", st.Recent)
	}

	// A mailbox made there is used here by its ID, and renamed back there.
	work := b.create("alice", "Work")
	if got := a.box("alice", "Work"); got.ID != work.ID || got.UIDValidity != work.UIDValidity || got.ObjectID != work.ObjectID {
		t.Errorf("Work here = %+v, made there %+v", got, work)
	}
	if _, dst, err := a.s.Copy(a.ctx, "alice", inbox.ID, []uint32{uid}, work.ID); err != nil || len(dst) != 1 {
		t.Fatalf("Copy = %v, %v", dst, err)
	}
	if n := len(b.messages("alice", work.ID)); n != 1 {
		t.Errorf("Work has %d messages through the other handle, want 1", n)
	}
	if err := a.s.RenameMailbox(a.ctx, "alice", "Work", "Play"); err != nil {
		t.Fatal(err)
	}
	if got := b.box("alice", "Play"); got.ID != work.ID {
		t.Errorf("renamed mailbox there = %+v", got)
	}
	_, err := b.s.Mailbox(b.ctx, "alice", "Work")
	wantErr(t, "old name through the other handle", err, mailstore.ErrNoMailbox)

	// Expunge here, seen there as an expunge.
	since = b.status("alice", inbox.ID).HighestModSeq
	a.expungeAll("alice", inbox.ID)
	if ch := b.changes("alice", inbox.ID, since); !slices.Equal(ch.Expunged, []uint32{uid}) || len(ch.Updated) != 0 {
		t.Errorf("Changes after the other handle's Expunge = %+v", ch)
	}

	// Account-wide state: quota, ACL, subscriptions, URLAUTH keys.
	a.setQuota("alice", 1000, 10)
	if q := b.quota("alice"); q != (mailstore.Quota{StorageLimit: 1000, MessageLimit: 10, StorageUsed: int64(len(msg(1))), MessagesUsed: 1}) {
		t.Errorf("Quota through the other handle = %+v", q)
	}
	b.setACL("alice", "Play", "bob", "lr")
	wantStrings(t, "ACL set by the other handle", a.acl("alice", work.ID), "bob:lr")
	wantStrings(t, "SharedWith after the other handle's SetACL", a.shared("bob"), "alice:Play:lr")
	if err := a.s.SetSubscribed(a.ctx, "alice", "Play", true); err != nil {
		t.Fatal(err)
	}
	if !b.box("alice", "Play").Subscribed {
		t.Error("subscription made by the other handle not seen")
	}
	key := a.urlAuthKey("alice", work.ID)
	if got := b.urlAuthKey("alice", work.ID); string(got) != string(key) {
		t.Error("the two handles give different URLAUTH keys for one mailbox")
	}

	// Text search and the header cache: the index one handle builds
	// answers through the other, before and after it caught up.
	fts := a.append("alice", inbox.ID, ftsMessages[0])
	quick := ftsQuery{mailstore.TextBody, "quick brown", []uint32{fts}}
	b.wantAnswers("alice", inbox.ID, []ftsQuery{quick})
	a.drainIndex()
	b.drainIndex()
	b.wantAnswers("alice", inbox.ID, []ftsQuery{quick})
	hdrs, err := b.s.Headers(b.ctx, "alice", inbox.ID, []uint32{fts})
	if want := ftsMessages[0][:strings.Index(ftsMessages[0], "\r\n\r\n")+4]; err != nil || string(hdrs[fts]) != want {
		t.Errorf("Headers through the other handle after indexing = %q, %v; want %q", hdrs[fts], err, want)
	}

	if err := b.s.DeleteAccount(b.ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	_, err = a.s.Mailboxes(a.ctx, "alice")
	wantErr(t, "Mailboxes after the other handle deleted the account", err, mailstore.ErrNoAccount)
	a.wantCheck("two handles")
}

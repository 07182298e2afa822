package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

func testAppendStatus(t *testing.T, h *harness) {
	h.account("alice")
	inbox := h.box("alice", "INBOX")
	bodies := []string{msg(1), msg(22), msg(333)}
	h.append("alice", inbox.ID, bodies[0], `\Seen`)
	h.append("alice", inbox.ID, bodies[1], `\Deleted`, `\Seen`)
	h.append("alice", inbox.ID, bodies[2])
	st := h.status("alice", inbox.ID)
	var size int64
	for _, b := range bodies {
		size += int64(len(b))
	}
	if st.Messages != 3 || st.Unseen != 1 || st.Deleted != 1 || st.Size != size {
		t.Errorf("status = %+v, want 3 messages, 1 unseen, 1 deleted, size %d", st, size)
	}
	if st.UIDNext != 4 || st.Name != "INBOX" || st.ID != inbox.ID || st.UIDValidity != inbox.UIDValidity {
		t.Errorf("status info = %+v", st.MailboxInfo)
	}
	msgs := h.messages("alice", inbox.ID)
	for i, m := range msgs {
		if m.UID != uint32(i+1) || m.Size != int64(len(bodies[i])) || m.ModSeq == 0 || m.ModSeq > st.HighestModSeq {
			t.Errorf("message %d = %+v (HIGHESTMODSEQ %d)", i, m, st.HighestModSeq)
		}
		if h.body(m.BlobID) != bodies[i] {
			t.Errorf("message %d body differs", i)
		}
	}
	empty := h.status("alice", h.box("alice", "Trash").ID)
	if empty.Messages != 0 || empty.Unseen != 0 || empty.Size != 0 {
		t.Errorf("empty status = %+v", empty)
	}
}

func testUIDNext(t *testing.T, h *harness) {
	h.account("alice")
	inbox := h.box("alice", "INBOX")
	for i := 1; i <= 3; i++ {
		if uid := h.append("alice", inbox.ID, msg(i)); uid != uint32(i) {
			t.Errorf("append %d: UID %d", i, uid)
		}
	}
	if _, err := h.s.SetFlags(h.ctx, "alice", inbox.ID, []uint32{3}, mailstore.FlagsAdd, []string{`\Deleted`}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.Expunge(h.ctx, "alice", inbox.ID, nil); err != nil {
		t.Fatal(err)
	}
	if uid := h.append("alice", inbox.ID, msg(4)); uid != 4 {
		t.Errorf("append after expunge: UID %d, want 4 (UIDs are never reused)", uid)
	}
	if mb := h.box("alice", "INBOX"); mb.UIDNext != 5 || mb.UIDValidity != inbox.UIDValidity {
		t.Errorf("INBOX = %+v, want UIDNEXT 5 and unchanged UIDVALIDITY", mb)
	}
}

func testInternalDate(t *testing.T, h *harness) {
	h.account("alice")
	inbox := h.box("alice", "INBOX")
	when := time.Date(2020, 2, 29, 13, 14, 15, 0, time.FixedZone("x", 3600))
	if _, err := h.s.Append(h.ctx, "alice", inbox.ID, mailstore.NewMessage{Body: strings.NewReader(msg(1)), InternalDate: when}); err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Minute)
	h.append("alice", inbox.ID, msg(2))
	msgs := h.messages("alice", inbox.ID)
	if !msgs[0].InternalDate.Equal(when) {
		t.Errorf("internal date = %v, want %v", msgs[0].InternalDate, when)
	}
	if d := msgs[1].InternalDate; d.Before(before) || d.After(time.Now().Add(time.Minute)) {
		t.Errorf("zero internal date stored as %v, want now", d)
	}
}

func testAppendDeliveryID(t *testing.T, h *harness) {
	h.account("alice")
	inbox := h.box("alice", "INBOX")
	m := func() mailstore.NewMessage {
		return mailstore.NewMessage{Body: strings.NewReader(msg(1)), DeliveryID: "q1/alice"}
	}
	uid1, err := h.s.Append(h.ctx, "alice", inbox.ID, m())
	if err != nil {
		t.Fatal(err)
	}
	uid2, err := h.s.Append(h.ctx, "alice", inbox.ID, m())
	if err != nil {
		t.Fatal(err)
	}
	if uid1 != uid2 || h.status("alice", inbox.ID).Messages != 1 {
		t.Errorf("duplicate append: UIDs %d %d, %d messages", uid1, uid2, h.status("alice", inbox.ID).Messages)
	}
}

func testFlagsNormalized(t *testing.T, h *harness) {
	h.account("alice")
	inbox := h.box("alice", "INBOX")
	h.append("alice", inbox.ID, msg(1), `\seen`, `\FLAGGED`, `$Label1`, `$label1`, `\Recent`, `\Seen`, `Work`)
	got := h.messages("alice", inbox.ID)[0].Flags
	want := []string{`$Label1`, `Work`, `\Flagged`, `\Seen`}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("flags = %q, want %q", got, want)
	}
	if _, err := h.s.Append(h.ctx, "alice", inbox.ID, mailstore.NewMessage{
		Body: strings.NewReader(msg(2)), Flags: []string{"bad flag"}}); err == nil {
		t.Error("append with a non-atom keyword succeeded")
	}
}

func testSetFlags(t *testing.T, h *harness) {
	h.account("alice")
	inbox := h.box("alice", "INBOX")
	for i := 1; i <= 3; i++ {
		h.append("alice", inbox.ID, msg(i))
	}
	m0 := h.box("alice", "INBOX").HighestModSeq

	set := func(uids []uint32, op mailstore.FlagOp, flags ...string) []mailstore.Message {
		t.Helper()
		changed, err := h.s.SetFlags(h.ctx, "alice", inbox.ID, uids, op, flags)
		if err != nil {
			t.Fatalf("SetFlags: %v", err)
		}
		return changed
	}
	changed := set([]uint32{1, 2, 99}, mailstore.FlagsAdd, `\seen`, `Important`)
	m1 := h.box("alice", "INBOX").HighestModSeq
	// RFC 7162 asks for a larger MODSEQ per change, not for +1: an
	// engine may take them from a counter wider than the mailbox.
	if m1 <= m0 {
		t.Errorf("HIGHESTMODSEQ %d → %d, want it to grow", m0, m1)
	}
	if len(changed) != 2 || changed[0].UID != 1 || changed[1].UID != 2 {
		t.Fatalf("changed = %+v", changed)
	}
	for _, m := range changed {
		if m.ModSeq != m1 || !slices.Equal(m.Flags, []string{`Important`, `\Seen`}) {
			t.Errorf("changed message = %+v, want modseq %d", m, m1)
		}
	}

	// No change: nothing returned, no new MODSEQ.
	if changed := set([]uint32{1}, mailstore.FlagsAdd, `\Seen`); len(changed) != 0 {
		t.Errorf("no-op add changed %+v", changed)
	}
	if m := h.box("alice", "INBOX").HighestModSeq; m != m1 {
		t.Errorf("no-op SetFlags moved HIGHESTMODSEQ %d → %d", m1, m)
	}

	changed = set([]uint32{1}, mailstore.FlagsRemove, `important`)
	if len(changed) != 1 || !slices.Equal(changed[0].Flags, []string{`\Seen`}) {
		t.Errorf("remove (case-insensitive keyword) = %+v", changed)
	}
	changed = set([]uint32{2}, mailstore.FlagsReplace, `\Draft`)
	if len(changed) != 1 || !slices.Equal(changed[0].Flags, []string{`\Draft`}) {
		t.Errorf("replace = %+v", changed)
	}
	changed = set([]uint32{2}, mailstore.FlagsReplace)
	if len(changed) != 1 || len(changed[0].Flags) != 0 {
		t.Errorf("replace with none = %+v", changed)
	}
	msgs := h.messages("alice", inbox.ID)
	if !slices.Equal(msgs[0].Flags, []string{`\Seen`}) || len(msgs[1].Flags) != 0 || len(msgs[2].Flags) != 0 {
		t.Errorf("stored flags: %+v", msgs)
	}
	if st := h.status("alice", inbox.ID); st.Unseen != 2 {
		t.Errorf("unseen = %d, want 2", st.Unseen)
	}
	hm := h.box("alice", "INBOX").HighestModSeq
	for _, m := range msgs {
		if m.ModSeq > hm {
			t.Errorf("message MODSEQ %d > HIGHESTMODSEQ %d", m.ModSeq, hm)
		}
	}
}

func testChanges(t *testing.T, h *harness) {
	h.account("alice")
	inbox := h.box("alice", "INBOX")
	for i := 1; i <= 4; i++ {
		h.append("alice", inbox.ID, msg(i))
	}
	since := h.box("alice", "INBOX").HighestModSeq
	ch, err := h.s.Changes(h.ctx, "alice", inbox.ID, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Updated) != 0 || len(ch.Expunged) != 0 || ch.HighestModSeq != since || ch.UIDNext != 5 {
		t.Errorf("changes since now = %+v", ch)
	}
	if _, err := h.s.SetFlags(h.ctx, "alice", inbox.ID, []uint32{2, 3}, mailstore.FlagsAdd, []string{`\Deleted`}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.Expunge(h.ctx, "alice", inbox.ID, []uint32{3}); err != nil {
		t.Fatal(err)
	}
	h.append("alice", inbox.ID, msg(5))
	ch, err = h.s.Changes(h.ctx, "alice", inbox.ID, since)
	if err != nil {
		t.Fatal(err)
	}
	var updated []uint32
	for _, m := range ch.Updated {
		updated = append(updated, m.UID)
		if m.ModSeq <= since || m.ModSeq > ch.HighestModSeq {
			t.Errorf("updated UID %d MODSEQ %d outside (%d, %d]", m.UID, m.ModSeq, since, ch.HighestModSeq)
		}
	}
	if !slices.Equal(updated, []uint32{2, 5}) || !slices.Equal(ch.Expunged, []uint32{3}) {
		t.Errorf("changes: updated %v expunged %v, want [2 5] and [3]", updated, ch.Expunged)
	}
	// Three transactions: UID 2's flags, the expunge, UID 5's append.
	if len(ch.Updated) == 2 && (ch.Updated[0].ModSeq >= ch.Updated[1].ModSeq || ch.HighestModSeq != ch.Updated[1].ModSeq) {
		t.Errorf("changes: MODSEQs %d then %d, HIGHESTMODSEQ %d; want growing, the append's last",
			ch.Updated[0].ModSeq, ch.Updated[1].ModSeq, ch.HighestModSeq)
	}
	if ch.UIDNext != 6 {
		t.Errorf("changes UIDNEXT %d, want 6", ch.UIDNext)
	}
	all, err := h.s.Changes(h.ctx, "alice", inbox.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Updated) != 4 {
		t.Errorf("changes since 0: %d updated, want 4", len(all.Updated))
	}
}

func testCopy(t *testing.T, h *harness) {
	h.account("alice")
	inbox := h.box("alice", "INBOX")
	dst := h.create("alice", "Dst")
	when := time.Date(2021, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := 1; i <= 4; i++ {
		if _, err := h.s.Append(h.ctx, "alice", inbox.ID, mailstore.NewMessage{
			Body: strings.NewReader(msg(i)), Flags: []string{`\Flagged`, "K" + string(rune('0'+i))}, InternalDate: when}); err != nil {
			t.Fatal(err)
		}
	}
	h.append("alice", dst.ID, msg(100)) // dst UIDs continue after 1
	src, dstUIDs, err := h.s.Copy(h.ctx, "alice", inbox.ID, []uint32{4, 2, 99}, dst.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(src, []uint32{2, 4}) || !slices.Equal(dstUIDs, []uint32{2, 3}) {
		t.Errorf("COPYUID src %v dst %v, want [2 4] [2 3] (RFC 4315)", src, dstUIDs)
	}
	srcMsgs := h.messages("alice", inbox.ID)
	dstMsgs := h.messages("alice", dst.ID)
	if len(srcMsgs) != 4 || len(dstMsgs) != 3 {
		t.Fatalf("after copy: %d source, %d destination messages", len(srcMsgs), len(dstMsgs))
	}
	for i, d := range dstMsgs[1:] {
		s := srcMsgs[src[i]-1]
		if !slices.Equal(d.Flags, s.Flags) || !d.InternalDate.Equal(when) || d.Size != s.Size || h.body(d.BlobID) != h.body(s.BlobID) {
			t.Errorf("copy %+v of %+v", d, s)
		}
	}
	// Copy into the same mailbox.
	src, dstUIDs, err = h.s.Copy(h.ctx, "alice", inbox.ID, []uint32{1}, inbox.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(src, []uint32{1}) || !slices.Equal(dstUIDs, []uint32{5}) {
		t.Errorf("self copy: %v → %v", src, dstUIDs)
	}
	_, _, err = h.s.Copy(h.ctx, "alice", inbox.ID, []uint32{1}, 1<<40)
	wantErr(t, "copy to missing mailbox", err, mailstore.ErrNoMailbox)
}

func testMove(t *testing.T, h *harness) {
	h.account("alice")
	inbox := h.box("alice", "INBOX")
	dst := h.box("alice", "Archive")
	for i := 1; i <= 3; i++ {
		h.append("alice", inbox.ID, msg(i), `\Seen`)
	}
	before := h.messages("alice", inbox.ID)
	since := h.box("alice", "INBOX").HighestModSeq
	src, dstUIDs, err := h.s.Move(h.ctx, "alice", inbox.ID, []uint32{3, 1}, dst.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(src, []uint32{1, 3}) || !slices.Equal(dstUIDs, []uint32{1, 2}) {
		t.Errorf("move src %v dst %v, want [1 3] [1 2]", src, dstUIDs)
	}
	if got := h.uids("alice", inbox.ID); !slices.Equal(got, []uint32{2}) {
		t.Errorf("source UIDs after move = %v", got)
	}
	moved := h.messages("alice", dst.ID)
	if len(moved) != 2 || moved[0].BlobID != before[0].BlobID || moved[1].BlobID != before[2].BlobID ||
		!slices.Equal(moved[0].Flags, []string{`\Seen`}) {
		t.Errorf("moved = %+v", moved)
	}
	ch, err := h.s.Changes(h.ctx, "alice", inbox.ID, since)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ch.Expunged, []uint32{1, 3}) || ch.HighestModSeq <= since {
		t.Errorf("source changes = %+v, want expunged [1 3] at a new MODSEQ", ch)
	}
	if st := h.status("alice", dst.ID); st.Messages != 2 || st.UIDNext != 3 {
		t.Errorf("destination status = %+v", st)
	}
}

func testExpunge(t *testing.T, h *harness) {
	h.account("alice")
	inbox := h.box("alice", "INBOX")
	for i := 1; i <= 5; i++ {
		h.append("alice", inbox.ID, msg(i))
	}
	if _, err := h.s.SetFlags(h.ctx, "alice", inbox.ID, []uint32{1, 3, 5}, mailstore.FlagsAdd, []string{`\Deleted`}); err != nil {
		t.Fatal(err)
	}
	// UID EXPUNGE (RFC 4315 §2.1): only the given UIDs, and only \Deleted.
	got, err := h.s.Expunge(h.ctx, "alice", inbox.ID, []uint32{2, 3})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []uint32{3}) {
		t.Errorf("UID EXPUNGE 2,3 = %v, want [3]", got)
	}
	got, err = h.s.Expunge(h.ctx, "alice", inbox.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []uint32{1, 5}) {
		t.Errorf("EXPUNGE = %v, want [1 5]", got)
	}
	if left := h.uids("alice", inbox.ID); !slices.Equal(left, []uint32{2, 4}) {
		t.Errorf("left %v, want [2 4]", left)
	}
	hm := h.box("alice", "INBOX").HighestModSeq
	got, err = h.s.Expunge(h.ctx, "alice", inbox.ID, nil)
	if err != nil || len(got) != 0 {
		t.Errorf("empty expunge = %v, %v", got, err)
	}
	if h.box("alice", "INBOX").HighestModSeq != hm {
		t.Error("expunge of nothing moved HIGHESTMODSEQ")
	}
}

func testForeignMailbox(t *testing.T, h *harness) {
	h.account("alice")
	h.account("bob")
	bobInbox := h.box("bob", "INBOX")
	h.append("bob", bobInbox.ID, msg(1))
	aliceInbox := h.box("alice", "INBOX")
	_, err := h.s.Messages(h.ctx, "alice", bobInbox.ID)
	wantErr(t, "Messages", err, mailstore.ErrNoMailbox)
	_, err = h.s.Status(h.ctx, "alice", bobInbox.ID)
	wantErr(t, "Status", err, mailstore.ErrNoMailbox)
	_, err = h.s.Changes(h.ctx, "alice", bobInbox.ID, 0)
	wantErr(t, "Changes", err, mailstore.ErrNoMailbox)
	_, err = h.s.Append(h.ctx, "alice", bobInbox.ID, mailstore.NewMessage{Body: strings.NewReader(msg(2))})
	wantErr(t, "Append", err, mailstore.ErrNoMailbox)
	_, err = h.s.SetFlags(h.ctx, "alice", bobInbox.ID, []uint32{1}, mailstore.FlagsAdd, []string{`\Deleted`})
	wantErr(t, "SetFlags", err, mailstore.ErrNoMailbox)
	_, err = h.s.Expunge(h.ctx, "alice", bobInbox.ID, nil)
	wantErr(t, "Expunge", err, mailstore.ErrNoMailbox)
	_, _, err = h.s.Copy(h.ctx, "alice", bobInbox.ID, []uint32{1}, aliceInbox.ID)
	wantErr(t, "Copy", err, mailstore.ErrNoMailbox)
	_, _, err = h.s.Move(h.ctx, "alice", aliceInbox.ID, []uint32{1}, bobInbox.ID)
	wantErr(t, "Move", err, mailstore.ErrNoMailbox)
	if n := h.status("bob", bobInbox.ID).Messages; n != 1 {
		t.Errorf("bob's INBOX has %d messages, want 1", n)
	}
}

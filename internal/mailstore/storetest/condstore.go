package storetest

import (
	"slices"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// testSetFlagsIf checks the UNCHANGEDSINCE test of RFC 7162 §3.1.3:
// messages changed after the client's MODSEQ are reported, not changed.
func testSetFlagsIf(t *testing.T, h *harness) {
	h.account("alice")
	inbox := h.box("alice", "INBOX")
	for i := 1; i <= 3; i++ {
		h.append("alice", inbox.ID, msg(i))
	}
	base := h.box("alice", "INBOX").HighestModSeq
	// Another client flags UID 2 after our client read base.
	if _, err := h.s.SetFlags(h.ctx, "alice", inbox.ID, []uint32{2}, mailstore.FlagsAdd, []string{`\Flagged`}); err != nil {
		t.Fatal(err)
	}
	changed, modified, err := h.s.SetFlagsIf(h.ctx, "alice", inbox.ID, mailstore.ConditionalFlags{
		UIDs: []uint32{1, 2, 3, 99}, Op: mailstore.FlagsAdd, Flags: []string{`\Deleted`}, UnchangedSince: base})
	if err != nil {
		t.Fatalf("SetFlagsIf: %v", err)
	}
	var got []uint32
	for _, m := range changed {
		got = append(got, m.UID)
	}
	if !slices.Equal(got, []uint32{1, 3}) || !slices.Equal(modified, []uint32{2}) {
		t.Fatalf("changed %v modified %v, want [1 3] and [2]", got, modified)
	}
	msgs := h.messages("alice", inbox.ID)
	if !slices.Equal(msgs[1].Flags, []string{`\Flagged`}) {
		t.Errorf("UID 2 flags = %v, want only \\Flagged (it failed the test)", msgs[1].Flags)
	}
	if !slices.Equal(msgs[0].Flags, []string{`\Deleted`}) || msgs[0].ModSeq <= base {
		t.Errorf("UID 1 = %+v, want \\Deleted with a new MODSEQ", msgs[0])
	}

	// RFC 7162 §3.1.3: UNCHANGEDSINCE 0 fails for every message.
	changed, modified, err = h.s.SetFlagsIf(h.ctx, "alice", inbox.ID, mailstore.ConditionalFlags{
		UIDs: []uint32{1, 2}, Op: mailstore.FlagsReplace, UnchangedSince: 0})
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 0 || !slices.Equal(modified, []uint32{1, 2}) {
		t.Errorf("UNCHANGEDSINCE 0: changed %+v modified %v", changed, modified)
	}
}

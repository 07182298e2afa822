package imap

import (
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestClientCondstore drives CONDSTORE through go-imap v2's client, an
// implementation independent of ours (RFC 7162 §3.1).
func TestClientCondstore(t *testing.T) {
	env := startServer(t)
	for range 3 {
		env.appendMessage(t, "alice", "INBOX", testMsg) // MODSEQs 2-4
	}
	env.claimRecent(t, "alice", "INBOX")
	c := dialClient(t, env.addr, "alice", nil)
	if !c.Caps().Has(imap.CapCondStore) || !c.Caps().Has(imap.CapQResync) {
		t.Fatalf("CONDSTORE/QRESYNC not advertised: %v", c.Caps())
	}
	sel, err := c.Select("INBOX", &imap.SelectOptions{CondStore: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.HighestModSeq != 4 {
		t.Fatalf("HIGHESTMODSEQ = %d, want 4", sel.HighestModSeq)
	}
	base := sel.HighestModSeq

	// Another session flags message 2 after we read base.
	other := dialClient(t, env.addr, "alice", nil)
	if _, err := other.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := other.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
		Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err != nil {
		t.Fatal(err)
	}

	msgs, err := c.Store(imap.SeqSetNum(1, 2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}},
		&imap.StoreOptions{UnchangedSince: base}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var stored *imapclient.FetchMessageBuffer
	for _, m := range msgs {
		if m.SeqNum == 1 {
			stored = m
		}
	}
	if stored == nil || stored.ModSeq <= base || len(stored.Flags) != 1 || stored.Flags[0] != imap.FlagSeen {
		t.Fatalf("conditional STORE results = %+v", msgs)
	}

	changed, err := c.Fetch(imap.SeqSetNum(1, 2, 3), &imap.FetchOptions{Flags: true, ChangedSince: base}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 2 {
		t.Fatalf("CHANGEDSINCE %d returned %d messages, want 2", base, len(changed))
	}
	for _, m := range changed {
		if m.ModSeq <= base {
			t.Errorf("message %d MODSEQ %d not after %d", m.SeqNum, m.ModSeq, base)
		}
		// Message 2 failed UNCHANGEDSINCE: it keeps only the other session's flag.
		if m.SeqNum == 2 && (len(m.Flags) != 1 || m.Flags[0] != imap.FlagFlagged) {
			t.Errorf("message 2 flags = %v, want only \\Flagged", m.Flags)
		}
	}

	all, err := c.Fetch(imap.SeqSetNum(3), &imap.FetchOptions{ModSeq: true}).Collect()
	if err != nil || len(all) != 1 || all[0].ModSeq != 4 {
		t.Fatalf("FETCH MODSEQ = %+v, %v", all, err)
	}
	st, err := c.Status("INBOX", &imap.StatusOptions{HighestModSeq: true}).Wait()
	if err != nil || st.HighestModSeq != stored.ModSeq {
		t.Fatalf("STATUS HIGHESTMODSEQ = %+v, %v; want %d", st, err, stored.ModSeq)
	}
	found, err := c.Search(&imap.SearchCriteria{ModSeq: &imap.SearchCriteriaModSeq{ModSeq: base + 1}}, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if got := found.AllSeqNums(); len(got) != 2 || found.ModSeq != stored.ModSeq {
		t.Fatalf("SEARCH MODSEQ = %v (MODSEQ %d), want 2 messages and %d", got, found.ModSeq, stored.ModSeq)
	}
}

package imap

import (
	"slices"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestClientSortThread runs SORT and THREAD through go-imap's client.
func TestClientSortThread(t *testing.T) {
	env := startServer(t)
	for _, m := range sortMsgs {
		env.appendAt(t, m.internal, m.body)
	}
	for _, m := range threadMsgs {
		env.appendMessage(t, "alice", "INBOX", m)
	}
	c := dialClient(t, env.addr, "alice", nil)
	if caps := c.Caps(); !caps.Has("SORT") || !slices.Contains(caps.ThreadAlgorithms(), imap.ThreadReferences) {
		t.Fatalf("capabilities %v lack SORT or THREAD=REFERENCES", caps)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	nums, err := c.Sort(&imapclient.SortOptions{
		SearchCriteria: &imap.SearchCriteria{SeqNum: []imap.SeqSet{imap.SeqSetNum(2, 3, 4, 5)}},
		SortCriteria:   []imapclient.SortCriterion{{Key: imapclient.SortKeySubject}, {Key: imapclient.SortKeyDate, Reverse: true}},
	}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint32{3, 5, 2, 4}; !slices.Equal(nums, want) {
		t.Errorf("SORT = %v, want %v", nums, want)
	}
	// go-imap's thread parser expects a space between thread lists, which
	// RFC 5256 §4 does not put there; a single thread parses correctly.
	threads, err := c.UIDThread(&imapclient.ThreadOptions{
		Algorithm:      imap.ThreadReferences,
		SearchCriteria: &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "Dinner"}}},
	}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if len(threads) != 1 || !slices.Equal(threads[0].Chain, []uint32{12, 11}) {
		t.Errorf("THREAD = %+v, want one chain 12 11", threads)
	}
}

package imap

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// dialClient logs in with go-imap's client, an implementation independent of ours.
func dialClient(t *testing.T, addr, user string, h *imapclient.UnilateralDataHandler) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, &imapclient.Options{UnilateralDataHandler: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, user+"pw").Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

func appendViaClient(t *testing.T, c *imapclient.Client, mailbox, body string, flags ...imap.Flag) *imap.AppendData {
	t.Helper()
	cmd := c.Append(mailbox, int64(len(body)), &imap.AppendOptions{Flags: flags, Time: time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)})
	if _, err := cmd.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := cmd.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

const multipartMsg = "From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.org>\r\n" +
	"To: bob@example.org, Carol <carol@example.org>\r\n" +
	"Subject: Quarterly report\r\n" +
	"Date: Tue, 05 Mar 2024 10:00:00 +0100\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"XX\"\r\n" +
	"\r\n" +
	"--XX\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
	"Grüße, the numbers are in. Keyword: pineapple\r\n" +
	"--XX\r\nContent-Type: application/octet-stream; name=\"a.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
	"AAECAwQFBgcICQ==\r\n" +
	"--XX--\r\n"

func TestClientAppendFetchSearchStore(t *testing.T) {
	env := startServer(t)
	c := dialClient(t, env.addr, "alice", nil)
	if !c.Caps().Has(imap.CapUIDPlus) || !c.Caps().Has(imap.CapMove) || !c.Caps().Has(imap.CapIdle) {
		t.Fatalf("caps = %v", c.Caps())
	}
	a1 := appendViaClient(t, c, "INBOX", testMsg)
	a2 := appendViaClient(t, c, "INBOX", multipartMsg, imap.FlagFlagged)
	if a1.UID != 1 || a2.UID != 2 || a1.UIDValidity == 0 {
		t.Fatalf("APPENDUID = %+v %+v", a1, a2)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages != 2 || sel.UIDValidity != a1.UIDValidity || sel.UIDNext != 3 {
		t.Fatalf("select = %+v", sel)
	}

	// Body byte-identical, PEEK leaves \Seen alone.
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2), &imap.FetchOptions{
		UID: true, Flags: true, RFC822Size: true, InternalDate: true, Envelope: true,
		BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
		BodySection:   []*imap.FetchItemBodySection{section},
	}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 {
		t.Fatalf("fetched %d messages", len(msgs))
	}
	for i, want := range []string{testMsg, multipartMsg} {
		m := msgs[i]
		if got := m.FindBodySection(section); !bytes.Equal(got, []byte(want)) {
			t.Errorf("message %d body differs:\n%q\nwant\n%q", i+1, got, want)
		}
		if m.RFC822Size != int64(len(want)) || !m.InternalDate.Equal(time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)) {
			t.Errorf("message %d size %d date %v", i+1, m.RFC822Size, m.InternalDate)
		}
		if slices.Contains(m.Flags, imap.FlagSeen) {
			t.Errorf("message %d: PEEK set \\Seen", i+1)
		}
	}
	if env := msgs[1].Envelope; env == nil || env.Subject != "Quarterly report" || len(env.To) != 2 || env.From[0].Name != "Jürgen" {
		t.Errorf("envelope = %+v", msgs[1].Envelope)
	}
	if bs, ok := msgs[1].BodyStructure.(*imap.BodyStructureMultiPart); !ok || len(bs.Children) != 2 || bs.Subtype != "mixed" {
		t.Errorf("bodystructure = %#v", msgs[1].BodyStructure)
	}

	// BODY[1] without PEEK sets \Seen and reports FLAGS.
	part := &imap.FetchItemBodySection{Part: []int{1}}
	got, err := c.Fetch(imap.UIDSetNum(2), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{part}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !strings.Contains(string(got[0].FindBodySection(part)), "pineapple") || !slices.Contains(got[0].Flags, imap.FlagSeen) {
		t.Fatalf("BODY[1] fetch = %+v", got)
	}

	// SEARCH
	search := func(crit *imap.SearchCriteria) []uint32 {
		t.Helper()
		data, err := c.UIDSearch(crit, nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		var uids []uint32
		for _, u := range data.AllUIDs() {
			uids = append(uids, uint32(u))
		}
		return uids
	}
	checks := []struct {
		name string
		crit imap.SearchCriteria
		want []uint32
	}{
		{"all", imap.SearchCriteria{}, []uint32{1, 2}},
		{"seen", imap.SearchCriteria{Flag: []imap.Flag{imap.FlagSeen}}, []uint32{2}},
		{"unseen", imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, []uint32{1}},
		{"subject", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "quarterly"}}}, []uint32{2}},
		{"from utf8", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "From", Value: "jürgen"}}}, []uint32{2}},
		{"body", imap.SearchCriteria{Body: []string{"PINEAPPLE"}}, []uint32{2}},
		{"text", imap.SearchCriteria{Text: []string{"Hello there"}}, []uint32{1}},
		{"larger", imap.SearchCriteria{Larger: int64(len(testMsg))}, []uint32{2}},
		{"sentsince", imap.SearchCriteria{SentSince: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}, []uint32{2}},
		{"sentbefore", imap.SearchCriteria{SentBefore: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}, []uint32{1}},
		{"since internal", imap.SearchCriteria{Since: time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)}, []uint32{1, 2}},
		{"before internal", imap.SearchCriteria{Before: time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)}, nil},
		{"or/not", imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{{Flag: []imap.Flag{imap.FlagFlagged}}, {Larger: 1 << 20}}}, Not: []imap.SearchCriteria{{Body: []string{"nothing-like-this"}}}}, []uint32{2}},
		{"uid", imap.SearchCriteria{UID: []imap.UIDSet{imap.UIDSetNum(1)}}, []uint32{1}},
	}
	for _, tc := range checks {
		if got := search(&tc.crit); !slices.Equal(got, tc.want) {
			t.Errorf("search %s = %v, want %v", tc.name, got, tc.want)
		}
	}

	// STORE
	stored, err := c.Store(imap.UIDSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted, "$Todo"}}, nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || !slices.Contains(stored[0].Flags, imap.FlagDeleted) || !slices.Contains(stored[0].Flags, "$Todo") {
		t.Fatalf("store = %+v", stored)
	}

	// COPY with COPYUID, then MOVE, then EXPUNGE.
	cp, err := c.Copy(imap.SeqSetNum(1, 2), "Archive").Wait()
	if err != nil {
		t.Fatal(err)
	}
	if cp.SourceUIDs.String() != "1:2" || cp.DestUIDs.String() != "1:2" || cp.UIDValidity == 0 {
		t.Fatalf("copy = %+v", cp)
	}
	if _, err := c.Copy(imap.SeqSetNum(1), "Nope").Wait(); err == nil || !strings.Contains(err.Error(), "TRYCREATE") {
		t.Fatalf("copy to missing mailbox: %v", err)
	}
	mv, err := c.Move(imap.UIDSetNum(2), "Trash").Wait()
	if err != nil {
		t.Fatal(err)
	}
	if mv.SourceUIDs.String() != "2" || mv.DestUIDs.String() != "1" {
		t.Fatalf("move = %+v", mv)
	}
	if n := c.Mailbox().NumMessages; n != 1 {
		t.Fatalf("after move the client counts %d messages", n)
	}
	expunged, err := c.Expunge().Collect()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(expunged, []uint32{1}) {
		t.Fatalf("expunged = %v", expunged)
	}
	st, err := c.Status("Archive", &imap.StatusOptions{NumMessages: true, UIDNext: true, NumUnseen: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if *st.NumMessages != 2 || st.UIDNext != 3 || *st.NumUnseen != 1 {
		t.Fatalf("status = %+v", st)
	}
	if err := c.Logout().Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestClientIdle: a session in IDLE hears about another session's APPEND
// within a second.
func TestClientIdle(t *testing.T) {
	env := startServer(t)
	exists := make(chan uint32, 10)
	a := dialClient(t, env.addr, "alice", &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		},
	})
	if _, err := a.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := a.Idle()
	if err != nil {
		t.Fatal(err)
	}
	b := dialClient(t, env.addr, "alice", nil)
	appendViaClient(t, b, "INBOX", testMsg)
	select {
	case n := <-exists:
		if n != 1 {
			t.Fatalf("EXISTS %d", n)
		}
	case <-time.After(time.Second):
		t.Fatal("IDLE session not told about the new message within 1s")
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := a.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestClientTwoSessions: flag changes and expunges made by one session
// reach the other (at NOOP and in IDLE).
func TestClientTwoSessions(t *testing.T) {
	env := startServer(t)
	env.appendMessage(t, "alice", "INBOX", testMsg)
	env.appendMessage(t, "alice", "INBOX", testMsg)
	env.claimRecent(t, "alice", "INBOX")
	type flagUpdate struct {
		seq   uint32
		flags []imap.Flag
	}
	flagsCh := make(chan flagUpdate, 10)
	expungeCh := make(chan uint32, 10)
	a := dialClient(t, env.addr, "alice", &imapclient.UnilateralDataHandler{
		Expunge: func(seq uint32) { expungeCh <- seq },
		Fetch: func(msg *imapclient.FetchMessageData) {
			buf, err := msg.Collect()
			if err == nil {
				flagsCh <- flagUpdate{buf.SeqNum, buf.Flags}
			}
		},
	})
	b := dialClient(t, env.addr, "alice", nil)
	for _, c := range []*imapclient.Client{a, b} {
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	select {
	case u := <-flagsCh:
		if u.seq != 2 || !slices.Equal(u.flags, []imap.Flag{imap.FlagFlagged}) {
			t.Fatalf("flag update %+v", u)
		}
	case <-time.After(time.Second):
		t.Fatal("NOOP did not report the other session's flag change")
	}

	idle, err := a.Idle()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Expunge().Collect(); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(time.Second)
	gotExpunge := false
	for !gotExpunge {
		select {
		case seq := <-expungeCh:
			if seq != 1 {
				t.Fatalf("EXPUNGE %d", seq)
			}
			gotExpunge = true
		case <-flagsCh: // the \Deleted flag change may be reported first
		case <-deadline:
			t.Fatal("IDLE session not told about the expunge within 1s")
		}
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
	if n := a.Mailbox().NumMessages; n != 1 {
		t.Fatalf("session A counts %d messages", n)
	}
}

// TestClientLargeMessage: a 3 MiB message with 8-bit and binary-looking
// content survives APPEND (LITERAL+) and FETCH byte for byte.
func TestClientLargeMessage(t *testing.T) {
	env := startServer(t)
	c := dialClient(t, env.addr, "bob", nil)
	var sb strings.Builder
	sb.WriteString("From: bob@example.org\r\nSubject: big\r\n\r\n")
	for i := 0; sb.Len() < 3<<20; i++ {
		sb.WriteString("line ")
		sb.WriteString(strings.Repeat("äöü{}\"\\", i%50))
		sb.WriteString("\r\n")
	}
	body := sb.String()
	appendViaClient(t, c, "Archive", body)
	if _, err := c.Select("Archive", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.UIDSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || string(msgs[0].FindBodySection(section)) != body {
		t.Fatal("large message body differs")
	}
	partial := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 1 << 20, Size: 100}}
	msgs, err = c.Fetch(imap.UIDSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{partial}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(msgs[0].FindBodySection(partial)); got != body[1<<20:1<<20+100] {
		t.Fatalf("partial = %q", got)
	}
}

package storetest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

func testWatch(t *testing.T, h *harness) {
	h.account("alice")
	inbox := h.box("alice", "INBOX")
	ch, cancel := h.s.Watch("alice", inbox.ID)
	defer cancel()
	h.append("alice", inbox.ID, msg(1))
	waitSignal(t, ch, "Append")
	// The change is visible once the signal arrives (notify after commit).
	if n := len(h.messages("alice", inbox.ID)); n != 1 {
		t.Errorf("after signal: %d messages", n)
	}
	h.deliver(delivery("alice", "", msg(2), ""))
	waitSignal(t, ch, "Deliver")
	if _, err := h.s.SetFlags(h.ctx, "alice", inbox.ID, []uint32{1}, mailstore.FlagsAdd, []string{`\Deleted`}); err != nil {
		t.Fatal(err)
	}
	waitSignal(t, ch, "SetFlags")
	if _, err := h.s.Expunge(h.ctx, "alice", inbox.ID, nil); err != nil {
		t.Fatal(err)
	}
	waitSignal(t, ch, "Expunge")
	dst := h.create("alice", "Dst")
	dch, dcancel := h.s.Watch("alice", dst.ID)
	defer dcancel()
	if _, _, err := h.s.Move(h.ctx, "alice", inbox.ID, []uint32{2}, dst.ID); err != nil {
		t.Fatal(err)
	}
	waitSignal(t, ch, "Move (source)")
	waitSignal(t, dch, "Move (destination)")
	cancel()
	h.append("alice", inbox.ID, msg(3)) // must not block or panic after cancel
}

// testWatchAccount: an AnyMailbox watcher hears of message changes in any
// mailbox and of changes to the mailbox list itself (IMAP NOTIFY).
func testWatchAccount(t *testing.T, h *harness) {
	h.account("alice")
	h.account("bob")
	ch, cancel := h.s.Watch("alice", mailstore.AnyMailbox)
	defer cancel()
	h.append("alice", h.box("alice", "INBOX").ID, msg(1))
	waitSignal(t, ch, "Append")
	h.create("alice", "Lists")
	waitSignal(t, ch, "CreateMailbox")
	if err := h.s.SetSubscribed(h.ctx, "alice", "Lists", true); err != nil {
		t.Fatal(err)
	}
	waitSignal(t, ch, "SetSubscribed")
	if err := h.s.RenameMailbox(h.ctx, "alice", "Lists", "Old"); err != nil {
		t.Fatal(err)
	}
	waitSignal(t, ch, "RenameMailbox")
	if err := h.s.DeleteMailbox(h.ctx, "alice", "Old"); err != nil {
		t.Fatal(err)
	}
	waitSignal(t, ch, "DeleteMailbox")
	h.append("bob", h.box("bob", "INBOX").ID, msg(2))
	select {
	case <-ch:
		t.Error("alice's watcher signalled for bob's mailbox")
	case <-time.After(50 * time.Millisecond):
	}
}

func testConcurrentAppends(t *testing.T, h *harness) {
	h.account("alice")
	inbox := h.box("alice", "INBOX")
	const workers, each = 20, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	uids := make(chan uint32, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				uid, err := h.s.Append(h.ctx, "alice", inbox.ID, mailstore.NewMessage{
					Body: strings.NewReader(msg(w*each + i))})
				if err != nil {
					errs <- err
					return
				}
				uids <- uid
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(uids)
	for err := range errs {
		t.Errorf("concurrent append: %v", err)
	}
	var got []uint32
	for u := range uids {
		got = append(got, u)
	}
	slices.Sort(got)
	for i, u := range got {
		if u != uint32(i+1) {
			t.Fatalf("UIDs not unique and consecutive: %v", got)
		}
	}
	if st := h.status("alice", inbox.ID); st.Messages != workers*each || st.UIDNext != workers*each+1 {
		t.Errorf("status after concurrent appends = %+v", st)
	}
}

func testBodyRoundTrip(t *testing.T, h *harness) {
	h.account("alice")
	inbox := h.box("alice", "INBOX")
	var b bytes.Buffer
	b.WriteString("From: a@example.org\r\nSubject: =?utf-8?q?gr=C3=BC=C3=9Fe?=\r\n\r\n")
	r := rand.New(rand.NewPCG(1, 2))
	for b.Len() < 1<<20 {
		fmt.Fprintf(&b, "%x grüße\r\n", r.Uint64())
	}
	b.Write([]byte{0, 0xff, '\r', '\n'})
	body := b.String()
	uid := h.append("alice", inbox.ID, body)
	m := h.messages("alice", inbox.ID)[0]
	if m.UID != uid || m.Size != int64(len(body)) {
		t.Errorf("message = %+v, want size %d", m, len(body))
	}
	if got := h.body(m.BlobID); got != body {
		t.Errorf("body differs (len %d vs %d)", len(got), len(body))
	}
	empty := h.append("alice", inbox.ID, "")
	if got := h.messages("alice", inbox.ID)[1]; got.UID != empty || got.Size != 0 || h.body(got.BlobID) != "" {
		t.Errorf("empty message = %+v", got)
	}
}

func testCheckHealthy(t *testing.T, h *harness) {
	h.account("alice")
	h.account("bob")
	inbox := h.box("alice", "INBOX")
	for i := 1; i <= 5; i++ {
		h.append("alice", inbox.ID, msg(i), `\Seen`)
	}
	h.deliver(delivery("bob", "", msg(1), "q/bob"))
	if _, err := h.s.SetFlags(h.ctx, "alice", inbox.ID, []uint32{1, 2}, mailstore.FlagsAdd, []string{`\Deleted`}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.Expunge(h.ctx, "alice", inbox.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.s.Move(h.ctx, "alice", inbox.ID, []uint32{3}, h.box("alice", "Archive").ID); err != nil {
		t.Fatal(err)
	}
	if err := h.s.RenameMailbox(h.ctx, "alice", "INBOX", "Old"); err != nil {
		t.Fatal(err)
	}
	// The operations took effect (a store that does nothing has nothing
	// to check).
	if got := len(h.messages("alice", h.box("alice", "Old").ID)); got != 2 {
		t.Errorf("Old (the renamed INBOX) has %d messages, want 2", got)
	}
	if got := len(h.messages("alice", h.box("alice", "Archive").ID)); got != 1 {
		t.Errorf("Archive has %d messages, want 1", got)
	}
	h.wantCheck("a healthy store's operations")
}

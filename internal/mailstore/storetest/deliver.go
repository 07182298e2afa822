package storetest

import (
	"strings"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

func delivery(user, mailbox, body, id string) mailstore.Delivery {
	return mailstore.Delivery{User: user, Mailbox: mailbox,
		Message: mailstore.NewMessage{Body: strings.NewReader(body), DeliveryID: id}}
}

func (h *harness) deliver(ds ...mailstore.Delivery) []mailstore.DeliveryResult {
	h.t.Helper()
	res, err := h.s.Deliver(h.ctx, ds)
	if err != nil {
		h.t.Fatalf("Deliver: %v", err)
	}
	if len(res) != len(ds) {
		h.t.Fatalf("Deliver returned %d results for %d deliveries", len(res), len(ds))
	}
	return res
}

func testDeliverMultipleAccounts(t *testing.T, h *harness) {
	h.account("alice")
	h.account("bob")
	body := msg(1)
	res := h.deliver(
		delivery("alice", "", body, "q1/alice"),
		delivery("bob", "", body, "q1/bob"),
		delivery("alice", "", msg(2), "q2/alice"),
	)
	want := []struct {
		mailbox string
		uid     uint32
	}{{"INBOX", 1}, {"INBOX", 1}, {"INBOX", 2}}
	for i, r := range res {
		if r.Err != nil || r.Duplicate || r.Mailbox != want[i].mailbox || r.UID != want[i].uid {
			t.Errorf("result %d = %+v, want %+v", i, r, want[i])
		}
	}
	for _, u := range []string{"alice", "bob"} {
		msgs := h.messages(u, h.box(u, "INBOX").ID)
		if len(msgs) == 0 || h.body(msgs[0].BlobID) != body {
			t.Errorf("%s: messages %+v", u, msgs)
		}
	}
	// One transaction: one MODSEQ for alice's two messages.
	msgs := h.messages("alice", h.box("alice", "INBOX").ID)
	if len(msgs) != 2 || msgs[0].ModSeq != msgs[1].ModSeq {
		t.Errorf("alice's delivered messages: %+v", msgs)
	}
}

func testDeliverDedupe(t *testing.T, h *harness) {
	h.account("alice")
	first := h.deliver(delivery("alice", "", msg(1), "q1/alice"))[0]
	if first.Err != nil || first.Duplicate {
		t.Fatalf("first delivery = %+v", first)
	}
	again := h.deliver(delivery("alice", "", msg(1), "q1/alice"))[0]
	if again.Err != nil || !again.Duplicate || again.UID != first.UID || again.Mailbox != "INBOX" {
		t.Errorf("retried delivery = %+v, want duplicate of UID %d", again, first.UID)
	}
	// A duplicate inside one call.
	res := h.deliver(delivery("alice", "", msg(2), "q2/alice"), delivery("alice", "", msg(2), "q2/alice"))
	if res[0].Duplicate || !res[1].Duplicate || res[0].UID != res[1].UID {
		t.Errorf("in-batch duplicate: %+v", res)
	}
	if n := h.status("alice", h.box("alice", "INBOX").ID).Messages; n != 2 {
		t.Errorf("INBOX has %d messages, want 2", n)
	}
	// Messages without a delivery id are never duplicates.
	res = h.deliver(delivery("alice", "", msg(3), ""), delivery("alice", "", msg(3), ""))
	if res[0].Duplicate || res[1].Duplicate || res[0].UID == res[1].UID {
		t.Errorf("deliveries without id: %+v", res)
	}
}

func testDeliverFallback(t *testing.T, h *harness) {
	h.account("alice")
	res := h.deliver(
		delivery("alice", "Sent", msg(1), ""),
		delivery("alice", "No/Such", msg(2), ""),
		delivery("alice", "inbox", msg(3), ""),
		delivery("alice", "bad//name", msg(4), ""),
	)
	want := []string{"Sent", "INBOX", "INBOX", "INBOX"}
	for i, r := range res {
		if r.Err != nil || r.Mailbox != want[i] {
			t.Errorf("delivery %d = %+v, want mailbox %s", i, r, want[i])
		}
	}
	if n := h.status("alice", h.box("alice", "INBOX").ID).Messages; n != 3 {
		t.Errorf("INBOX has %d, want 3", n)
	}
}

func testDeliverUnknownAccount(t *testing.T, h *harness) {
	h.account("alice")
	res := h.deliver(delivery("ghost", "", msg(1), "q1/ghost"), delivery("alice", "", msg(1), "q1/alice"))
	wantErr(t, "delivery to unknown account", res[0].Err, mailstore.ErrNoAccount)
	if res[1].Err != nil || res[1].UID != 1 {
		t.Errorf("delivery to alice = %+v", res[1])
	}
	if _, err := h.s.Mailboxes(h.ctx, "ghost"); err == nil {
		t.Error("Deliver created an account")
	}
}

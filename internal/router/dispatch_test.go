package router

import (
	"context"
	"testing"

	"github.com/rookery-mail/rookery/internal/queue"
)

type recorder struct{ got []*queue.Message }

func (r *recorder) Deliver(_ context.Context, msgs []*queue.Message) []queue.Result {
	r.got = append(r.got, msgs...)
	var out []queue.Result
	for _, m := range msgs {
		for _, rc := range m.Recipients {
			out = append(out, queue.Result{MessageID: m.ID, Recipient: rc.Address, Status: queue.Delivered})
		}
	}
	return out
}

func TestDispatcherSplitsByTransport(t *testing.T) {
	local, remote := &recorder{}, &recorder{}
	d := &Dispatcher{Local: local, Remote: remote}
	msgs := []*queue.Message{
		{ID: "m1", Recipients: []queue.Recipient{{Address: "a@local.test"}, {Address: "x@far.test", Remote: true}}},
		{ID: "m2", Recipients: []queue.Recipient{{Address: "b@local.test"}}},
	}
	res := d.Deliver(context.Background(), msgs)
	if len(res) != 3 {
		t.Fatalf("%d results, want 3", len(res))
	}
	if len(local.got) != 2 || len(local.got[0].Recipients) != 1 || local.got[0].Recipients[0].Address != "a@local.test" {
		t.Fatalf("local got %+v", local.got)
	}
	if len(remote.got) != 1 || remote.got[0].ID != "m1" || remote.got[0].Recipients[0].Address != "x@far.test" {
		t.Fatalf("remote got %+v", remote.got)
	}
	if len(msgs[0].Recipients) != 2 {
		t.Fatal("the caller's message was modified")
	}
	d.Remote = nil
	for _, r := range d.Deliver(context.Background(), msgs[:1]) {
		if r.Recipient == "x@far.test" && r.Status != queue.Pending {
			t.Fatalf("without an outbound role remote mail must wait, got %+v", r)
		}
	}
}

package router

import (
	"context"

	"github.com/rookery-mail/rookery/internal/queue"
)

// Dispatcher is the queue's Deliverer: it hands local recipients to the
// mailstores and remote ones to the outbound role, each as one batch.
type Dispatcher struct {
	Local  queue.Deliverer
	Remote queue.Deliverer // nil when this node has no outbound role: remote mail waits
}

var _ queue.Deliverer = (*Dispatcher)(nil)

// Deliver splits every message's recipients by transport.
func (d *Dispatcher) Deliver(ctx context.Context, msgs []*queue.Message) []queue.Result {
	var local, remote []*queue.Message
	for _, m := range msgs {
		l, r := split(m)
		if l != nil {
			local = append(local, l)
		}
		if r != nil {
			remote = append(remote, r)
		}
	}
	var results []queue.Result
	if len(local) > 0 {
		results = append(results, d.Local.Deliver(ctx, local)...)
	}
	if len(remote) > 0 {
		if d.Remote == nil {
			for _, m := range remote {
				for _, rc := range m.Recipients {
					results = append(results, queue.Result{MessageID: m.ID, Recipient: rc.Address, Status: queue.Pending,
						Error: "4.4.0 no outbound role on this node"})
				}
			}
		} else {
			results = append(results, d.Remote.Deliver(ctx, remote)...)
		}
	}
	return results
}

// split returns shallow copies of m holding only its local and only its
// remote recipients (nil when there are none).
func split(m *queue.Message) (local, remote *queue.Message) {
	for _, rc := range m.Recipients {
		p := &local
		if rc.Remote {
			p = &remote
		}
		if *p == nil {
			c := *m
			c.Recipients = nil
			*p = &c
		}
		(*p).Recipients = append((*p).Recipients, rc)
	}
	return local, remote
}

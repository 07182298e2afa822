package router

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/queue"
)

// LocalDeliverer delivers queued messages to the mailstores of this node.
// It is the queue's Deliverer for local recipients.
type LocalDeliverer struct {
	Router *Router
	// ensured remembers accounts known to exist in their store, so the
	// store's EnsureAccount runs once per account and process.
	ensured sync.Map
}

var _ queue.Deliverer = (*LocalDeliverer)(nil)

type pending struct {
	msgID, rcpt string
}

// Deliver stores each recipient's copy, one store transaction per store for
// the whole batch. Each copy carries the delivery ID "queueID/recipient", so a
// batch retried after a crash is not stored twice.
func (d *LocalDeliverer) Deliver(ctx context.Context, msgs []*queue.Message) []queue.Result {
	var results []queue.Result
	byStore := map[mailstore.Store][]mailstore.Delivery{}
	refs := map[mailstore.Store][]pending{}
	for _, m := range msgs {
		for _, rc := range m.Recipients {
			acct, store, err := d.account(ctx, rc.Address)
			if err != nil {
				results = append(results, failure(m.ID, rc.Address, err))
				continue
			}
			byStore[store] = append(byStore[store], mailstore.Delivery{
				User: acct.Address,
				Message: mailstore.NewMessage{
					Body:         bytes.NewReader(withTraceHeaders(m, acct.Address)),
					InternalDate: m.Received,
					DeliveryID:   m.ID + "/" + acct.Address,
				},
			})
			refs[store] = append(refs[store], pending{m.ID, rc.Address})
		}
	}
	for store, ds := range byStore {
		res, err := store.Deliver(ctx, ds)
		for i, p := range refs[store] {
			switch {
			case err != nil:
				results = append(results, queue.Result{MessageID: p.msgID, Recipient: p.rcpt, Status: queue.Pending, Error: err.Error()})
			case res[i].Err != nil:
				if errors.Is(res[i].Err, mailstore.ErrNoAccount) {
					d.ensured.Delete(ds[i].User)
				}
				results = append(results, queue.Result{MessageID: p.msgID, Recipient: p.rcpt, Status: queue.Pending, Error: res[i].Err.Error()})
			default:
				results = append(results, queue.Result{MessageID: p.msgID, Recipient: p.rcpt, Status: queue.Delivered})
			}
		}
	}
	return results
}

// account finds the account and its store, creating the account's
// mailboxes on first delivery.
func (d *LocalDeliverer) account(ctx context.Context, address string) (directory.Account, mailstore.Store, error) {
	acct, err := d.Router.dir.Account(ctx, address)
	if err != nil {
		return acct, nil, err
	}
	store, err := d.Router.Store(acct)
	if err != nil {
		return acct, nil, err
	}
	if _, ok := d.ensured.Load(acct.Address); !ok {
		if err := store.EnsureAccount(ctx, acct.Address); err != nil {
			return acct, nil, fmt.Errorf("ensure account %s: %w", acct.Address, err)
		}
		d.ensured.Store(acct.Address, true)
	}
	return acct, store, nil
}

// failure classifies a lookup error: an account deleted since RCPT fails
// permanently; anything else (directory or store down) is retried.
func failure(msgID, rcpt string, err error) queue.Result {
	r := queue.Result{MessageID: msgID, Recipient: rcpt, Status: queue.Pending, Error: err.Error()}
	if errors.Is(err, directory.ErrNotFound) {
		r.Status = queue.Failed
		r.Error = "5.1.1 mailbox no longer exists: " + err.Error()
	}
	return r
}

// withTraceHeaders prefixes the final-delivery headers: Return-Path
// (RFC 5321 §4.4) and Delivered-To (loop detection, as Postfix).
func withTraceHeaders(m *queue.Message, rcpt string) []byte {
	var b bytes.Buffer
	b.Grow(len(m.Body) + 128)
	fmt.Fprintf(&b, "Return-Path: <%s>\r\nDelivered-To: %s\r\n", m.From, rcpt)
	b.Write(m.Body)
	return b.Bytes()
}

package router

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/queue"
)

// LocalDeliverer delivers queued messages to the mailstores of this node.
// It is the queue's Deliverer for local recipients.
type LocalDeliverer struct {
	Router *Router
	// Relay, when set, delivers to accounts whose store another node
	// serves (a cluster's queue runner). Without it such mail is retried:
	// an LMTP server's deliverer must not pass mail on.
	Relay *Relay
	// ensured remembers accounts known to exist in their store, so the
	// store's EnsureAccount runs once per account and process.
	ensured sync.Map
}

var _ queue.Deliverer = (*LocalDeliverer)(nil)

// pending is one queue recipient, which may expand to several accounts.
type pending struct {
	msgID, rcpt string
}

// Deliver stores each recipient's copy, one store transaction per store for
// the whole batch. Each copy carries the delivery ID "queueID/account", so a
// batch retried after a crash is not stored twice. A recipient that is not
// an account but an alias (a bounce to a sender who wrote from an alias)
// reaches the accounts the alias expands to.
func (d *LocalDeliverer) Deliver(ctx context.Context, msgs []*queue.Message) []queue.Result {
	outcome := map[pending]*queue.Result{}
	var order []pending
	record := func(p pending, r queue.Result) {
		cur, ok := outcome[p]
		if !ok {
			order = append(order, p)
			outcome[p] = &r
			return
		}
		// Pending (retry) outweighs Failed, which outweighs Delivered:
		// a retry re-stores nothing that already arrived (delivery IDs).
		if rank(r.Status) > rank(cur.Status) {
			*cur = r
		}
	}
	byStore := map[mailstore.Store][]mailstore.Delivery{}
	refs := map[mailstore.Store][]pending{}
	relayed := map[relayKey][]relayTarget{}
	var relayOrder []relayKey
	for _, m := range msgs {
		for _, rc := range m.Recipients {
			p := pending{m.ID, rc.Address}
			targets, err := d.targets(ctx, rc.Address)
			if err != nil {
				record(p, failure(m.ID, rc.Address, err))
				continue
			}
			for _, tg := range targets {
				if tg.store == nil {
					k := relayKey{m, tg.acct.Mailstore}
					if relayed[k] == nil {
						relayOrder = append(relayOrder, k)
					}
					relayed[k] = append(relayed[k], relayTarget{tg.acct.Address, p})
					continue
				}
				byStore[tg.store] = append(byStore[tg.store], mailstore.Delivery{
					User: tg.acct.Address,
					Message: mailstore.NewMessage{
						Body:         bytes.NewReader(withTraceHeaders(m, tg.acct.Address)),
						InternalDate: m.Received,
						DeliveryID:   m.ID + "/" + tg.acct.Address,
					},
				})
				refs[tg.store] = append(refs[tg.store], p)
			}
		}
	}
	for store, ds := range byStore {
		res, err := store.Deliver(ctx, ds)
		for i, p := range refs[store] {
			switch {
			case err != nil:
				record(p, retry(p.msgID, p.rcpt, err))
			case errors.Is(res[i].Err, mailstore.ErrOverQuota):
				// Permanent, as Dovecot's default quota_full_tempfail=no:
				// the sender gets a DSN now rather than after days of
				// retries. The text is what the sender sees: no usage figures.
				record(p, queue.Result{MessageID: p.msgID, Recipient: p.rcpt, Status: queue.Failed, Error: "552 5.2.2 Mailbox full"})
			case res[i].Err != nil:
				if errors.Is(res[i].Err, mailstore.ErrNoAccount) {
					d.ensured.Delete(ds[i].User)
				}
				record(p, retry(p.msgID, p.rcpt, res[i].Err))
			default:
				record(p, queue.Result{MessageID: p.msgID, Recipient: p.rcpt, Status: queue.Delivered})
			}
		}
	}
	for _, k := range relayOrder {
		d.relay(ctx, k, relayed[k], record)
	}
	results := make([]queue.Result, 0, len(order))
	for _, p := range order {
		results = append(results, *outcome[p])
	}
	return results
}

func rank(s queue.Status) int {
	switch s {
	case queue.Pending:
		return 2
	case queue.Failed:
		return 1
	}
	return 0
}

// target is one account to store a copy for, and its store; store is nil
// when another node serves it and the copy goes through Relay.
type target struct {
	acct  directory.Account
	store mailstore.Store
}

// relayKey groups relayed copies: one LMTP transaction per message and store.
type relayKey struct {
	msg   *queue.Message
	store string
}

// relayTarget is one account of a relayed copy and the queue recipient it
// counts for.
type relayTarget struct {
	acct string
	p    pending
}

// relay delivers one message's copies for one store through Relay and
// records each recipient's outcome.
func (d *LocalDeliverer) relay(ctx context.Context, k relayKey, tgs []relayTarget, record func(pending, queue.Result)) {
	accts := make([]string, len(tgs))
	for i, t := range tgs {
		accts[i] = t.acct
	}
	out := d.Relay.deliver(ctx, k.store, k.msg, accts)
	for _, t := range tgs {
		o := out[t.acct]
		switch {
		case o.err == nil:
			record(t.p, queue.Result{MessageID: t.p.msgID, Recipient: t.p.rcpt, Status: queue.Delivered})
		case o.permanent:
			record(t.p, queue.Result{MessageID: t.p.msgID, Recipient: t.p.rcpt, Status: queue.Failed, Error: o.err.Error()})
		default:
			res := retry(t.p.msgID, t.p.rcpt, o.err)
			res.NextAttempt = time.Now().Add(relayRetry) // whatever the serving node said
			record(t.p, res)
		}
	}
}

// targets resolves a local recipient: the account itself, or the accounts
// an alias expands to. The alias's forwards are not followed here: the
// queue holds such a recipient only for a DSN to a sender who wrote from an
// alias, and a DSN is not relayed on.
func (d *LocalDeliverer) targets(ctx context.Context, address string) ([]target, error) {
	acct, err := d.Router.dir.Account(ctx, address)
	accts := []directory.Account{acct}
	if errors.Is(err, directory.ErrNotFound) {
		var res directory.Resolution
		res, err = d.Router.dir.Resolve(ctx, address)
		accts = res.Accounts
		if err == nil && len(accts) == 0 {
			err = fmt.Errorf("%s only forwards to other systems: %w", address, directory.ErrNotFound)
		}
	}
	if err != nil {
		return nil, err
	}
	var out []target
	for _, a := range accts {
		store, err := d.ensure(ctx, a)
		if errors.Is(err, ErrNoStore) && d.Relay != nil {
			out = append(out, target{a, nil})
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, target{a, store})
	}
	return out, nil
}

// ensure finds the account's store, creating the account's mailboxes on
// first delivery.
func (d *LocalDeliverer) ensure(ctx context.Context, acct directory.Account) (mailstore.Store, error) {
	store, err := d.Router.Store(acct)
	if err != nil {
		return nil, err
	}
	if _, ok := d.ensured.Load(acct.Address); !ok {
		if err := store.EnsureAccount(ctx, acct.Address); err != nil {
			return nil, fmt.Errorf("ensure account %s: %w", acct.Address, err)
		}
		d.ensured.Store(acct.Address, true)
	}
	return store, nil
}

// failure classifies a lookup error: an account deleted since RCPT fails
// permanently; anything else (directory or store down) is retried.
func failure(msgID, rcpt string, err error) queue.Result {
	r := retry(msgID, rcpt, err)
	if errors.Is(err, directory.ErrNotFound) {
		r.Status = queue.Failed
		r.Error = "5.1.1 mailbox no longer exists: " + err.Error()
	}
	return r
}

// retry is a temporary failure. One for a full disk is marked so the
// queue retries it as soon as space returns rather than after its backoff;
// one for a store whose lease this node lost is retried soon.
func retry(msgID, rcpt string, err error) queue.Result {
	r := queue.Result{MessageID: msgID, Recipient: rcpt, Status: queue.Pending, Error: err.Error(),
		NoSpace: errors.Is(err, mailstore.ErrNoSpace)}
	if errors.Is(err, mailstore.ErrNotServed) {
		// The store is changing hands: the next holder serves it within
		// a lease TTL, and this node then relays to it.
		r.NextAttempt = time.Now().Add(relayRetry)
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

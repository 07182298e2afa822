package router

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rookery-mail/rookery/internal/queue"
)

// Relay delivers to the accounts of mailstores another node serves: over
// LMTP to the node holding the store's lease, with the queue id as ENVID.
// The serving node derives the same delivery ids from it as an in-process
// delivery would, so a retry after a lost reply, or after another node took
// over the queue claim or the store, stores nothing twice.
type Relay struct {
	// Locate returns the LMTP address (host:port) of the node serving
	// store; fresh skips cached answers.
	Locate   func(ctx context.Context, store string, fresh bool) (string, error)
	Hostname string // for LHLO
	// Dialer is used for the connection; its LocalAddr is the node's
	// advertised address, which back ends recognise as a cluster peer.
	Dialer  *net.Dialer
	Timeout time.Duration // whole transaction; default 2 minutes
}

// relayOutcome is one account's result: nil (stored), or an error whose
// permanence decides between bounce and retry.
type relayOutcome struct {
	err       error
	permanent bool
}

// relayRetry is when mail waiting for a store's serving node is tried
// again: a takeover completes within a lease TTL, so waiting the queue's
// usual backoff (minutes) would only delay mail.
const relayRetry = 10 * time.Second

// deliver sends m to the node serving store for accts (addresses). When
// the node cannot be reached, it asks afresh who serves the store and
// tries once more if that changed (a takeover the cached answer missed).
func (r *Relay) deliver(ctx context.Context, store string, m *queue.Message, accts []string) map[string]relayOutcome {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr, err := r.Locate(ctx, store, false)
	if err != nil {
		return allOutcomes(accts, relayOutcome{err: err})
	}
	out, err := r.deliverTo(ctx, addr, m, accts)
	if err == nil {
		return out
	}
	if again, lerr := r.Locate(ctx, store, true); lerr == nil && again != addr {
		if out, err = r.deliverTo(ctx, again, m, accts); err == nil {
			return out
		}
	}
	return allOutcomes(accts, relayOutcome{err: fmt.Errorf("store %s: %w", store, err)})
}

func allOutcomes(accts []string, o relayOutcome) map[string]relayOutcome {
	out := make(map[string]relayOutcome, len(accts))
	for _, a := range accts {
		out[a] = o
	}
	return out
}

// deliverTo is one LMTP transaction with addr. The error is for a node that
// could not be reached at all (worth asking again who serves the store);
// anything later is in the per-account outcomes.
func (r *Relay) deliverTo(ctx context.Context, addr string, m *queue.Message, accts []string) (map[string]relayOutcome, error) {
	out := make(map[string]relayOutcome, len(accts))
	all := func(err error) (map[string]relayOutcome, error) {
		return allOutcomes(accts, relayOutcome{err: err}), nil
	}
	d := r.Dialer
	if d == nil {
		d = &net.Dialer{}
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("lmtp to %s: %w", addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.Hello(r.Hostname); err != nil {
		return all(fmt.Errorf("lmtp to %s: %w", addr, err))
	}
	if err := c.Mail(m.From, &smtp.MailOptions{EnvelopeID: m.ID, UTF8: m.SMTPUTF8}); err != nil {
		return all(fmt.Errorf("lmtp to %s: MAIL: %w", addr, err))
	}
	var accepted []string
	for _, a := range accts {
		if err := c.Rcpt(a, nil); err != nil {
			out[a] = relayOutcome{err: reply("lmtp to "+addr+": RCPT", err), permanent: isPermanent(err)}
			continue
		}
		accepted = append(accepted, a)
	}
	if len(accepted) == 0 {
		return out, nil
	}
	w, err := c.Data()
	if err == nil {
		_, err = w.Write(m.Body) // the serving node adds the trace headers
	}
	var perRcpt smtp.LMTPDataError
	if err == nil {
		_, err = w.CloseWithLMTPResponse()
		if errors.As(err, &perRcpt) {
			err = nil
		}
	}
	for _, a := range accepted {
		switch {
		case err != nil:
			out[a] = relayOutcome{err: fmt.Errorf("lmtp to %s: DATA: %w", addr, err)}
		case perRcpt[a] != nil:
			out[a] = relayOutcome{err: reply("lmtp to "+addr, perRcpt[a]), permanent: isPermanent(perRcpt[a])}
		default:
			out[a] = relayOutcome{}
		}
	}
	c.Quit()
	return out, nil
}

// isPermanent reports a 5xx reply: the recipient's store refused for good
// (unknown, full). Everything else, including a node that no longer serves
// the store (451), is retried.
func isPermanent(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se) && se.Code >= 500
}

// reply formats an SMTP error as the queue records it ("552 5.2.2 text").
func reply(prefix string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return fmt.Errorf("%d %d.%d.%d %s", se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2], se.Message)
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

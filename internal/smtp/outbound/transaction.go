package outbound

import (
	"context"
	"slices"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/rookery-mail/rookery/internal/queue"
)

// send runs one mail transaction (RFC 5321 §3.3) for j over cn and returns
// per-recipient results, and whether cn must be discarded.
func (c *Client) send(ctx context.Context, cn *conn, domain string, j job) ([]queue.Result, bool) {
	start := time.Now()
	stop := context.AfterFunc(ctx, func() { cn.raw.Close() })
	defer stop()
	results, de := c.transact(cn, j)
	broken := (de != nil && de.broken) || ctx.Err() != nil
	c.logTx(j, domain, cn, summarize(results), time.Since(start))
	return results, broken
}

// transact sends MAIL, each RCPT and DATA. A 5xx to MAIL or DATA fails
// every recipient; a reply to RCPT concerns only that recipient.
func (c *Client) transact(cn *conn, j job) ([]queue.Result, *deliveryError) {
	fail := func(err error) ([]queue.Result, *deliveryError) {
		de := classify(cn.host, cn.ip, err)
		return jobResults(j, de), de
	}
	if cn.dirty {
		// RFC 5321 §4.1.1.5: RSET aborts a transaction left open. (go-smtp
		// follows it with EHLO; a completed transaction needs neither.)
		if err := cn.c.Reset(); err != nil {
			return fail(err)
		}
		cn.dirty = false
	}
	if j.msg.RequireTLS {
		if de := requireTLSErr(cn); de != nil {
			return fail(de)
		}
	}
	size := int64(len(j.msg.Body))
	// RFC 6531 §3.4: a message that needs SMTPUTF8 cannot go to a server
	// without it.
	if ok, _ := cn.c.Extension("SMTPUTF8"); j.msg.SMTPUTF8 && !ok {
		return fail(permErr(553, "5.6.7", "SMTPUTF8 is required, but was not offered by host %s[%s]", cn.host, cn.ip))
	}
	// RFC 1870 §6: do not send what the server announced it will refuse.
	if max, ok := cn.c.MaxMessageSize(); ok && max > 0 && size > int64(max) {
		return fail(permErr(552, "5.3.4", "message size %d exceeds size limit %d of host %s[%s]", size, max, cn.host, cn.ip))
	}
	// go-smtp adds BODY=8BITMIME whenever the server offers 8BITMIME (RFC
	// 6152), and SIZE (RFC 1870) when offered; REQUIRETLS was checked above.
	if err := cn.c.Mail(j.msg.From, &smtp.MailOptions{Size: size, UTF8: j.msg.SMTPUTF8, RequireTLS: j.msg.RequireTLS}); err != nil {
		return fail(err)
	}
	cn.dirty = true
	var results []queue.Result
	var accepted []string
	for i, r := range j.rcpts {
		if err := cn.c.Rcpt(r, nil); err != nil {
			de := classify(cn.host, cn.ip, err)
			if de.broken {
				// Replies already received stand; the rest are retried.
				rest := job{msg: j.msg, rcpts: append(slices.Clone(accepted), j.rcpts[i:]...)}
				return append(results, jobResults(rest, de)...), de
			}
			results = append(results, queue.Result{MessageID: j.msg.ID, Recipient: r, Status: de.status, Error: de.text})
			continue
		}
		accepted = append(accepted, r)
	}
	if len(accepted) == 0 {
		return results, nil
	}
	acc := job{msg: j.msg, rcpts: accepted}
	ended, err := c.data(cn, j.msg.Body)
	cn.dirty = !ended
	if err != nil {
		de := classify(cn.host, cn.ip, err)
		return append(results, jobResults(acc, de)...), de
	}
	for _, r := range accepted {
		results = append(results, queue.Result{MessageID: j.msg.ID, Recipient: r, Status: queue.Delivered})
	}
	return results, nil
}

// data sends the body; the library dot-stuffs it (RFC 5321 §4.5.2). ended
// reports whether the final reply was read, which closes the transaction
// (RFC 5321 §4.1.1.4) whatever its code.
func (c *Client) data(cn *conn, body []byte) (ended bool, err error) {
	w, err := cn.c.Data()
	if err != nil {
		return false, err
	}
	if _, err := w.Write(body); err != nil {
		w.Close()
		return false, err
	}
	err = w.Close()
	return err == nil || isSMTPReply(err), err
}

// summarize is the transaction outcome for the log: delivered, failed,
// pending, or mixed.
func summarize(rs []queue.Result) *deliveryError {
	var status queue.Status
	var text string
	for _, r := range rs {
		if status == "" {
			status = r.Status
		} else if status != r.Status {
			status = "mixed"
		}
		if text == "" {
			text = r.Error
		}
	}
	return &deliveryError{status: status, text: text}
}

// logTx writes the one line per transaction (or per undeliverable job).
func (c *Client) logTx(j job, domain string, cn *conn, de *deliveryError, d time.Duration) {
	args := []any{"queue_id", j.msg.ID, "domain", domain, "rcpts", len(j.rcpts), "result", string(de.status), "duration", d}
	if cn != nil {
		args = append(args, "host", cn.host, "ip", cn.ip, "tls", cn.tlsLabel())
	}
	if de.text != "" {
		args = append(args, "err", de.text)
	}
	c.log.Info("outbound transaction", args...)
}

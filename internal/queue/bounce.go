package queue

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// notify sends the DSNs of one runner pass: one bounce per message for all
// its recipients that failed in this pass, and one delay warning per
// message in its life. A DSN is enqueued before the results are completed,
// so a crash in between repeats a notice rather than losing it. When a
// bounce cannot be enqueued, its failed recipients go back to Pending to be
// retried (and bounced) later.
func (r *Runner) notify(ctx context.Context, msgs []*Message, results []Result, now time.Time) {
	byMsg := map[string][]int{}
	for i, res := range results {
		byMsg[res.MessageID] = append(byMsg[res.MessageID], i)
	}
	for _, m := range msgs {
		var failed, pending []int
		for _, i := range byMsg[m.ID] {
			switch results[i].Status {
			case Failed:
				failed = append(failed, i)
			case Pending:
				pending = append(pending, i)
			}
		}
		if len(failed) > 0 {
			if err := r.sendDSN(ctx, m, ActionFailed, results, failed, now); err != nil {
				r.log.Error("bounce not queued; will retry", "queue_id", m.ID, "err", err)
				for _, i := range failed {
					results[i].Status = Pending
					results[i].NextAttempt = now.Add(r.opts.Policy.Backoff(attempts(m, results[i].Recipient)))
				}
			}
		}
		p := r.opts.Policy
		if len(pending) > 0 && !m.Warned && p.DelayWarning > 0 && now.Sub(m.Received) >= p.DelayWarning {
			if err := r.sendDSN(ctx, m, ActionDelayed, results, pending, now); err != nil {
				r.log.Error("delay warning not queued", "queue_id", m.ID, "err", err)
				continue
			}
			if err := r.store.MarkWarned(ctx, m.ID); err != nil {
				r.log.Error("queue mark warned", "queue_id", m.ID, "err", err)
			}
		}
	}
}

// requireTLSCodes are the temporary codes outbound gives a REQUIRETLS
// message it could not send (outbound/requiretls.go).
var requireTLSCodes = map[string]bool{"4.7.10": true, "4.7.30": true}

// sendDSN composes and enqueues one DSN about results[idx] of m. A message
// from the null sender gets none (RFC 5321 §4.5.5; RFC 3464 §2): that is
// logged and counts as done.
func (r *Runner) sendDSN(ctx context.Context, m *Message, action Action, results []Result, idx []int, now time.Time) error {
	if m.From == "" {
		r.log.Info("no DSN for the null sender", "queue_id", m.ID, "action", action, "recipients", len(idx))
		return nil
	}
	d := &DSN{Hostname: r.opts.Hostname, Action: action, Original: m, Headers: HeaderSection(m.Body), Date: now,
		RetryUntil: m.Received.Add(r.opts.Policy.MaxAge)}
	def := "5.0.0"
	if action == ActionDelayed {
		def = "4.0.0"
	}
	for _, i := range idx {
		res := results[i]
		mta, reply := SplitRemote(res.Error)
		rc := DSNRecipient{Address: res.Recipient, Status: StatusCode(reply, def), Diagnostic: reply, RemoteMTA: mta, LastAttempt: res.Attempted}
		if last, ok := strings.CutPrefix(res.Error, expiredPrefix); ok {
			rc.Status = "4.4.7"
			rc.Diagnostic = strings.TrimPrefix(last, "; last error: ")
			if rc.Diagnostic == "" {
				rc.Diagnostic = expiredPrefix
			}
			// RFC 8689 §4.2.1: a REQUIRETLS message that no host could
			// take is returned with 5.7.10 (no usable TLS) or 5.7.30 (no
			// REQUIRETLS), which say why better than 4.4.7.
			_, reply := SplitRemote(rc.Diagnostic)
			if code := StatusCode(reply, "4.0.0"); requireTLSCodes[code] {
				rc.Status = "5" + code[1:]
			}
		}
		for _, orig := range m.Recipients {
			if orig.Address == res.Recipient {
				rc.Orig = orig.Orig
			}
		}
		d.Recipients = append(d.Recipients, rc)
	}
	body, err := d.Compose()
	if err != nil {
		return fmt.Errorf("compose DSN: %w", err)
	}
	remote := false
	if r.opts.IsLocal != nil {
		local, err := r.opts.IsLocal(ctx, m.From)
		if err != nil {
			return fmt.Errorf("route DSN to %s: %w", m.From, err)
		}
		remote = !local
	}
	// RFC 8689 §4.3: a DSN carries the original's header, so that of a
	// REQUIRETLS message is protected the same way.
	dsn := &Message{
		ID: NewID(now), From: "", Received: now, Size: int64(len(body)), Body: body, SMTPUTF8: m.SMTPUTF8,
		RequireTLS: m.RequireTLS,
		Recipients: []Recipient{{Address: m.From, Orig: m.From, Remote: remote}},
	}
	if err := r.store.Enqueue(ctx, dsn); err != nil {
		return fmt.Errorf("enqueue DSN: %w", err)
	}
	r.metrics.dsns.WithLabelValues(string(action)).Inc()
	r.log.Info("dsn queued", "queue_id", m.ID, "dsn_id", dsn.ID, "action", action, "to", m.From, "recipients", len(idx))
	r.Kick()
	return nil
}

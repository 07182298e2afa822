package queue

import "time"

// MessageColumns are the columns every SQL engine selects to read messages
// with their recipients (m: messages, r: recipients), in the order
// MessageRows.Scan expects; times are Unix nanoseconds, 0 for none.
const MessageColumns = `m.id, m.mail_from, m.received, m.size, m.smtputf8, m.require_tls, m.held, m.warned,
	r.address, r.orig, r.remote, r.status, r.attempts, r.next_attempt, r.last_error, r.last_attempt,
	r.claim_owner, r.claim_until`

// MessageRows groups rows of MessageColumns, ordered by message, into
// messages with their recipients.
type MessageRows struct {
	byID map[string]*Message
	out  []*Message
}

// Scan reads one row from row (a *sql.Rows or pgx.Rows).
func (mr *MessageRows) Scan(row interface{ Scan(dest ...any) error }) error {
	var (
		m                         Message
		rc                        Recipient
		received, na, la, claimed int64
	)
	if err := row.Scan(&m.ID, &m.From, &received, &m.Size, &m.SMTPUTF8, &m.RequireTLS, &m.Held, &m.Warned,
		&rc.Address, &rc.Orig, &rc.Remote, &rc.Status, &rc.Attempts, &na, &rc.LastError, &la,
		&rc.ClaimOwner, &claimed); err != nil {
		return err
	}
	rc.NextAttempt = time.Unix(0, na)
	if la != 0 {
		rc.LastAttempt = time.Unix(0, la)
	}
	if rc.ClaimOwner != "" {
		rc.ClaimUntil = time.Unix(0, claimed)
	}
	if mr.byID == nil {
		mr.byID = map[string]*Message{}
	}
	cur := mr.byID[m.ID]
	if cur == nil {
		m.Received = time.Unix(0, received)
		cur = &m
		mr.byID[m.ID] = cur
		mr.out = append(mr.out, cur)
	}
	cur.Recipients = append(cur.Recipients, rc)
	return nil
}

// Messages returns the messages read so far, in the order first seen.
func (mr *MessageRows) Messages() []*Message { return mr.out }

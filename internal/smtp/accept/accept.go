// Package accept is what every SMTP role that takes mail in shares: the
// envelope of one transaction, the mapping of router errors to replies, and
// the commit of a message to the durable queue, after which, and only
// after which, the client may be told 250.
package accept

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/queue"
	"github.com/rookery-mail/rookery/internal/router"
)

// MaxLineLength bounds command lines and message lines. RFC 5321
// §4.5.3.1.6 sets 1000 octets, but real mail carries longer lines (HTML,
// unwrapped base64), which Postfix accepts too; 64 KiB keeps memory bounded.
const MaxLineLength = 64 << 10

// Envelope is one transaction's MAIL FROM and accepted RCPTs.
type Envelope struct {
	From  string
	UTF8  bool
	Rcpts []queue.Recipient
	Origs []string // RCPT TO addresses as given, for logs and Received
	seen  map[string]bool
	Start time.Time

	// RequireTLS is MAIL FROM's REQUIRETLS (RFC 8689), queued with the
	// message for outbound to enforce.
	RequireTLS bool
}

// Begin starts a transaction (MAIL FROM).
func (e *Envelope) Begin(from string, utf8 bool) {
	*e = Envelope{From: from, UTF8: utf8, Start: time.Now()}
}

// Started reports whether MAIL FROM was given.
func (e *Envelope) Started() bool { return !e.Start.IsZero() }

// AddResolved adds what an address resolved to: its accounts, and its
// forwards as remote recipients the outbound role relays to, with the
// envelope sender unchanged (no SRS yet: receivers that check SPF see the
// original sender's domain sent from this host). An account or forward
// reached twice (directly and through an alias) gets one copy.
func (e *Envelope) AddResolved(orig string, res directory.Resolution) {
	for _, a := range res.Accounts {
		e.add(queue.Recipient{Address: a.Address, Orig: orig})
	}
	for _, f := range res.Forward {
		e.add(queue.Recipient{Address: f, Orig: orig, Remote: true})
	}
	e.Origs = append(e.Origs, orig)
}

// AddRemote adds a recipient outside this system's domains.
func (e *Envelope) AddRemote(addr string) {
	e.add(queue.Recipient{Address: addr, Orig: addr, Remote: true})
	e.Origs = append(e.Origs, addr)
}

func (e *Envelope) add(r queue.Recipient) {
	key := strings.ToLower(r.Address)
	if e.seen == nil {
		e.seen = map[string]bool{}
	}
	if !e.seen[key] {
		e.seen[key] = true
		e.Rcpts = append(e.Rcpts, r)
	}
}

// RcptError maps a router error to the RCPT reply: the one place where
// resolution errors become SMTP codes. A lookup failure is 451, never a 5xx.
func RcptError(err error) *smtp.SMTPError {
	switch {
	case errors.Is(err, router.ErrNotLocal):
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relay access denied"}
	case errors.Is(err, router.ErrUnknownUser), errors.Is(err, router.ErrInvalidAddress):
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	default:
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary lookup failure, try again later"}
	}
}

// Committer turns DATA into a queued message.
type Committer struct {
	Hostname  string
	Role      string // "mx", "submission": names the metrics and logs
	Queue     queue.Store
	OnEnqueue func() // wakes the queue runner
	messages  *prometheus.CounterVec
}

// NewCommitter registers the role's message counter with reg (may be nil).
func NewCommitter(hostname, role string, q queue.Store, onEnqueue func(), reg prometheus.Registerer) *Committer {
	c := &Committer{Hostname: hostname, Role: role, Queue: q, OnEnqueue: onEnqueue,
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rookery_smtp_messages_total",
			Help: "Messages by outcome (accepted, rejected, tempfail).", ConstLabels: prometheus.Labels{"role": role}}, []string{"result"})}
	if reg != nil {
		reg.MustRegister(c.messages)
	}
	return c
}

// Transform rewrites a message before it is queued (submission adds
// missing headers and a DKIM signature). It may return an SMTP error.
type Transform func(ctx context.Context, msg []byte) ([]byte, error)

// Commit reads the message from r in Canonical form, prepends the
// Received header, applies transform and commits the message to the queue.
// A nil error means the message is durable.
func (c *Committer) Commit(ctx context.Context, conn *smtp.Conn, env *Envelope, r io.Reader, transform Transform, log *slog.Logger) error {
	if len(env.Rcpts) == 0 {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "No valid recipients"}
	}
	raw, err := io.ReadAll(Canonical(r))
	if err != nil {
		c.messages.WithLabelValues("rejected").Inc()
		log.Info("message rejected", "from", env.From, "err", err)
		return err
	}
	if tooManyHops(raw) {
		c.messages.WithLabelValues("rejected").Inc()
		log.Warn("message rejected: mail loop", "from", env.From, "rcpts", strings.Join(env.Origs, ","))
		return errTooManyHops
	}
	if transform != nil {
		if raw, err = transform(ctx, raw); err != nil {
			c.messages.WithLabelValues("rejected").Inc()
			log.Info("message rejected", "from", env.From, "err", err)
			return err
		}
	}
	now := time.Now()
	id := queue.NewID(now)
	var buf bytes.Buffer
	buf.Grow(len(raw) + 256)
	c.writeReceived(&buf, conn, env, id, now)
	buf.Write(raw)
	msg := &queue.Message{ID: id, From: env.From, Recipients: env.Rcpts, Received: now, SMTPUTF8: env.UTF8, RequireTLS: env.RequireTLS, Body: buf.Bytes()}
	if err := c.Queue.Enqueue(ctx, msg); err != nil {
		c.messages.WithLabelValues("tempfail").Inc()
		log.Error("enqueue failed", "from", env.From, "err", err)
		if errors.Is(err, queue.ErrNoSpace) {
			// RFC 3463 X.3.1 mail system full; still 451, retried.
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "Insufficient system storage, try again later"}
		}
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Could not queue the message, try again later"}
	}
	c.messages.WithLabelValues("accepted").Inc()
	if c.OnEnqueue != nil {
		c.OnEnqueue()
	}
	log.Info("message accepted", "queue_id", id, "from", env.From, "rcpts", strings.Join(env.Origs, ","),
		"size", len(msg.Body), "duration", time.Since(env.Start).Round(time.Millisecond))
	return nil
}

// writeReceived writes the trace header. RFC 5321 §4.4, with the protocol
// names of RFC 3848 (ESMTPS, ESMTPSA, UTF8SMTPS...).
func (c *Committer) writeReceived(b *bytes.Buffer, conn *smtp.Conn, env *Envelope, id string, now time.Time) {
	host := "unknown"
	if tcp, ok := conn.Conn().RemoteAddr().(*net.TCPAddr); ok {
		host = tcp.IP.String()
	}
	proto := "ESMTP"
	if env.UTF8 {
		proto = "UTF8SMTP"
	}
	if _, ok := conn.TLSConnectionState(); ok {
		proto += "S"
	}
	if c.Role == "submission" {
		proto += "A"
	}
	forClause := ""
	if len(env.Origs) == 1 {
		forClause = "for <" + env.Origs[0] + ">"
	}
	fmt.Fprintf(b, "Received: from %s ([%s])\r\n\tby %s (Rookery) with %s id %s\r\n\t%s; %s\r\n",
		sanitizeHelo(conn.Hostname()), host, c.Hostname, proto, id, forClause, now.Format(time.RFC1123Z))
}

// sanitizeHelo keeps the HELO name from breaking the header.
func sanitizeHelo(h string) string {
	h = strings.Map(func(r rune) rune {
		if r <= ' ' || r == '(' || r == ')' || r > '~' {
			return -1
		}
		return r
	}, h)
	if h == "" {
		return "unknown"
	}
	return h
}

package mx

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

	"github.com/rookery-mail/rookery/internal/queue"
	"github.com/rookery-mail/rookery/internal/router"
)

// session is one SMTP connection's transaction state.
type session struct {
	s      *Server
	conn   *smtp.Conn
	log    *slog.Logger
	start  time.Time
	from   string
	utf8   bool
	rcpts  []queue.Recipient
	seen   map[string]bool // final addresses already in rcpts
	origs  []string
	reject int
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.metrics.sessions.Inc()
	return &session{
		s:    s,
		conn: c,
		log:  s.opts.Logger.With("role", "mx", "remote", c.Conn().RemoteAddr().String()),
	}, nil
}

func (se *session) Reset() {
	se.from, se.utf8, se.rcpts, se.seen, se.origs, se.reject = "", false, nil, nil, nil, 0
}

func (se *session) Logout() error {
	se.s.metrics.sessions.Dec()
	return nil
}

// Mail starts a transaction. RFC 5321 §4.1.1.2.
func (se *session) Mail(from string, opts *smtp.MailOptions) error {
	se.Reset()
	if from != "" && !validAddress(from) {
		return &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 1, 7}, Message: "Malformed sender address"}
	}
	se.start = time.Now()
	se.from = from
	se.utf8 = opts != nil && opts.UTF8
	return nil
}

// Rcpt validates a recipient now, so that nothing accepted bounces later.
func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if se.start.IsZero() {
		return &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "MAIL first"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), se.s.opts.LookupTimeout)
	defer cancel()
	accts, err := se.s.opts.Resolver.Resolve(ctx, to)
	if err != nil {
		se.reject++
		reply := rcptError(err)
		se.s.metrics.rejected.WithLabelValues(fmt.Sprint(reply.Code)).Inc()
		se.log.Info("rcpt rejected", "from", se.from, "rcpt", to, "code", reply.Code, "err", err)
		return reply
	}
	if se.seen == nil {
		se.seen = map[string]bool{}
	}
	for _, a := range accts {
		if !se.seen[a.Address] {
			se.seen[a.Address] = true
			se.rcpts = append(se.rcpts, queue.Recipient{Address: a.Address, Orig: to})
		}
	}
	se.origs = append(se.origs, to)
	return nil
}

// rcptError maps a resolve error to the reply: the one place where router
// errors become SMTP codes.
func rcptError(err error) *smtp.SMTPError {
	switch {
	case errors.Is(err, router.ErrNotLocal):
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relay access denied"}
	case errors.Is(err, router.ErrUnknownUser), errors.Is(err, router.ErrInvalidAddress):
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	default:
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary lookup failure, try again later"}
	}
}

// Data reads the message, adds the Received header and commits it to the
// queue; returning nil makes go-smtp answer 250.
func (se *session) Data(r io.Reader) error {
	if len(se.rcpts) == 0 {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "No valid recipients"}
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		se.s.metrics.messages.WithLabelValues("rejected").Inc()
		if errors.Is(err, smtp.ErrDataTooLarge) {
			se.log.Info("message rejected", "from", se.from, "reason", "too large")
		}
		return err
	}
	now := time.Now()
	id := queue.NewID(now)
	var buf bytes.Buffer
	buf.Grow(len(raw) + 256)
	se.writeReceived(&buf, id, now)
	buf.Write(NormalizeNewlines(raw))
	msg := &queue.Message{ID: id, From: se.from, Recipients: se.rcpts, Received: now, SMTPUTF8: se.utf8, Body: buf.Bytes()}
	if err := se.s.opts.Queue.Enqueue(context.Background(), msg); err != nil {
		se.s.metrics.messages.WithLabelValues("tempfail").Inc()
		se.log.Error("enqueue failed", "from", se.from, "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Could not queue the message, try again later"}
	}
	se.s.metrics.messages.WithLabelValues("accepted").Inc()
	if se.s.opts.OnEnqueue != nil {
		se.s.opts.OnEnqueue()
	}
	se.log.Info("message accepted", "queue_id", id, "from", se.from, "rcpts", strings.Join(se.origs, ","),
		"size", len(msg.Body), "duration", time.Since(se.start).Round(time.Millisecond))
	return nil
}

// writeReceived writes the trace header. RFC 5321 §4.4.
func (se *session) writeReceived(b *bytes.Buffer, id string, now time.Time) {
	host := "unknown"
	if tcp, ok := se.conn.Conn().RemoteAddr().(*net.TCPAddr); ok {
		host = tcp.IP.String()
	}
	proto := "ESMTP"
	if se.utf8 {
		proto = "UTF8SMTP"
	}
	if _, ok := se.conn.TLSConnectionState(); ok {
		proto += "S"
	}
	fmt.Fprintf(b, "Received: from %s ([%s])\r\n\tby %s (Rookery) with %s id %s\r\n\t%s; %s\r\n",
		sanitizeHelo(se.conn.Hostname()), host, se.s.opts.Hostname, proto, id, forClause(se.origs), now.Format(time.RFC1123Z))
}

func forClause(origs []string) string {
	if len(origs) == 1 {
		return "for <" + origs[0] + ">"
	}
	return ""
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

// validAddress is a syntax check of a reverse or forward path address.
func validAddress(a string) bool {
	at := strings.LastIndexByte(a, '@')
	return at > 0 && at < len(a)-1 && !strings.ContainsAny(a, " \t\r\n<>")
}

// NormalizeNewlines turns bare LF into CRLF. go-smtp ends DATA only at
// CRLF.CRLF, so a bare-LF dot line can never end the message early (no SMTP
// smuggling); normalizing keeps the stored message canonical for IMAP.
func NormalizeNewlines(b []byte) []byte {
	n := 0
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			n++
		}
	}
	if n == 0 {
		return b
	}
	out := make([]byte, 0, len(b)+n)
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

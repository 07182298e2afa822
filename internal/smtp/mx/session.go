package mx

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/emersion/go-smtp"

	"github.com/rookery-mail/rookery/internal/smtp/accept"
)

// session is one inbound SMTP connection's transaction state.
type session struct {
	s    *Server
	conn *smtp.Conn
	log  *slog.Logger
	env  accept.Envelope
	size int64 // MAIL FROM SIZE=, 0 when not declared
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.metrics.sessions.Inc()
	return &session{
		s:    s,
		conn: c,
		log:  s.opts.Logger.With("role", "mx", "remote", c.Conn().RemoteAddr().String()),
	}, nil
}

func (se *session) Reset() { se.env, se.size = accept.Envelope{}, 0 }

func (se *session) Logout() error {
	se.s.metrics.sessions.Dec()
	return nil
}

// Mail starts a transaction. RFC 5321 §4.1.1.2.
func (se *session) Mail(from string, opts *smtp.MailOptions) error {
	if err := accept.CheckMail(se.conn, from, opts, true); err != nil {
		se.log.Info("sender refused", "from", from, "err", err)
		return err
	}
	se.env.Begin(from, opts != nil && opts.UTF8)
	se.size = 0
	if opts != nil {
		se.size, se.env.RequireTLS = opts.Size, opts.RequireTLS
	}
	return nil
}

// Rcpt validates a recipient now, so that nothing accepted bounces later.
func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !se.env.Started() {
		return &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "MAIL first"}
	}
	if err := accept.CheckRcpt(to, se.env.UTF8); err != nil {
		se.log.Info("rcpt rejected", "from", se.env.From, "rcpt", to, "err", err)
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), se.s.opts.LookupTimeout)
	defer cancel()
	res, err := se.s.opts.Resolver.Resolve(ctx, to)
	if err != nil {
		reply := accept.RcptError(err)
		se.s.metrics.rejected.WithLabelValues(fmt.Sprint(reply.Code)).Inc()
		se.log.Info("rcpt rejected", "from", se.env.From, "rcpt", to, "code", reply.Code, "err", err)
		return reply
	}
	if err := se.checkRoom(ctx, to, res, se.size); err != nil {
		se.s.metrics.rejected.WithLabelValues(fmt.Sprint(err.Code)).Inc()
		se.log.Info("rcpt rejected: over quota", "from", se.env.From, "rcpt", to, "code", err.Code)
		return err
	}
	se.env.AddResolved(to, res)
	return nil
}

// Data commits the message to the queue; returning nil makes go-smtp
// answer 250.
func (se *session) Data(r io.Reader) error {
	return se.s.commit.Commit(context.Background(), se.conn, &se.env, r, nil, se.log)
}

package submission

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/router"
	"github.com/rookery-mail/rookery/internal/smtp/accept"
)

type session struct {
	s    *Server
	conn *smtp.Conn
	log  *slog.Logger
	acct *directory.Account // nil until AUTH succeeds
	env  accept.Envelope
}

var _ smtp.AuthSession = (*session)(nil)

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, conn: c, log: s.opts.Logger.With("role", "submission", "remote", c.Conn().RemoteAddr().String())}, nil
}

var (
	errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	errNotYours     = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Sender address not owned by the authenticated user"}
	errTempAuth     = &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Temporary authentication failure, try again later"}
)

func (se *session) Reset()        { se.env = accept.Envelope{} }
func (se *session) Logout() error { return nil }

// AuthMechanisms lists PLAIN and LOGIN; go-smtp offers them only where
// authentication is allowed (TLS, or AllowInsecureAuth).
func (se *session) AuthMechanisms() []string { return []string{sasl.Plain, sasl.Login} }

// Auth runs a SASL exchange; the credentials go through the shared,
// rate-limited login.
func (se *session) Auth(mech string) (sasl.Server, error) {
	check := func(identity, user, pass string) error {
		if identity != "" && identity != user {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authorization identity not allowed"}
		}
		acct, err := se.s.opts.Login(context.Background(), user, pass, se.conn.Conn().RemoteAddr())
		if errors.Is(err, directory.ErrAuthFailed) {
			se.log.Info("auth failed", "user", user)
			return smtp.ErrAuthFailed
		}
		if err != nil {
			se.log.Warn("auth error", "user", user, "err", err)
			return errTempAuth
		}
		se.acct = &acct
		se.log = se.log.With("user", acct.Address)
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(check), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// Mail checks that the authenticated user owns the sender address.
func (se *session) Mail(from string, opts *smtp.MailOptions) error {
	if se.acct == nil {
		return errAuthRequired
	}
	if err := accept.CheckMail(se.conn, from, opts, false); err != nil {
		return err
	}
	if err := se.owns(from); err != nil {
		return err
	}
	se.env.Begin(from, opts != nil && opts.UTF8)
	se.env.RequireTLS = opts != nil && opts.RequireTLS
	return nil
}

// owns accepts the user's own address and any local address (alias) that
// resolves to them.
func (se *session) owns(addr string) error {
	res, err := se.s.opts.Resolver.Resolve(context.Background(), addr)
	if err != nil && !errors.Is(err, router.ErrNotLocal) && !errors.Is(err, router.ErrUnknownUser) && !errors.Is(err, router.ErrInvalidAddress) {
		return accept.RcptError(err) // a lookup failure: 451
	}
	for _, a := range res.Accounts {
		if a.Address == se.acct.Address {
			return nil
		}
	}
	se.log.Info("sender refused", "from", addr)
	return errNotYours
}

// Rcpt accepts local recipients that exist and any remote one.
func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if se.acct == nil {
		return errAuthRequired
	}
	if !se.env.Started() {
		return &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "MAIL first"}
	}
	if err := accept.CheckRcpt(to, se.env.UTF8); err != nil {
		return err
	}
	res, err := se.s.opts.Resolver.Resolve(context.Background(), to)
	remote := errors.Is(err, router.ErrNotLocal)
	if err != nil && !remote {
		se.log.Info("rcpt rejected", "rcpt", to, "err", err)
		return accept.RcptError(err)
	}
	if remote {
		se.env.AddRemote(to)
	} else {
		se.env.AddResolved(to, res)
	}
	return nil
}

// Data completes the headers, signs and queues the message.
func (se *session) Data(r io.Reader) error {
	return se.s.commit.Commit(context.Background(), se.conn, &se.env, r, se.prepare, se.log)
}

// prepare adds missing Date and Message-ID (RFC 6409 §8), checks that the
// From header is the user's too, and DKIM-signs with the From domain.
func (se *session) prepare(ctx context.Context, msg []byte) ([]byte, error) {
	from, err := headerFrom(msg)
	if err != nil {
		return nil, &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message needs one valid From header"}
	}
	if err := se.owns(from); err != nil {
		return nil, err
	}
	msg = addMissingHeaders(msg, se.s.opts.Hostname)
	if se.s.opts.Signer == nil {
		return msg, nil
	}
	signed, err := se.s.opts.Signer.Sign(ctx, from[strings.LastIndexByte(from, '@')+1:], msg)
	if err != nil {
		se.log.Error("dkim sign", "err", err)
		return nil, &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Could not sign the message, try again later"}
	}
	return signed, nil
}

// Package lmtp is the mailstore role's LMTP server (RFC 2033): the hop by
// which front ends, queue runners of other nodes and foreign MTAs (Postfix's
// lmtp transport) deliver into this node's mailstores. Each recipient gets
// its own reply after its copy is durable.
package lmtp

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/queue"
	"github.com/rookery-mail/rookery/internal/smtp/accept"
)

// Resolver maps a recipient to local accounts and forwards (the router).
type Resolver interface {
	Resolve(ctx context.Context, address string) (directory.Resolution, error)
}

// Options configure the LMTP server.
type Options struct {
	Hostname       string
	Resolver       Resolver
	Deliverer      queue.Deliverer // local delivery, e.g. router.LocalDeliverer
	MaxMessageSize int64
	MaxRecipients  int
	Timeout        time.Duration
	Logger         *slog.Logger
	Registerer     prometheus.Registerer
	// IdempotencyPeers are the networks of Rookery nodes whose MAIL FROM
	// ENVID is the transaction's idempotency key (see idempotencyKey).
	// Empty: none, and the listener does not offer DSN parameters.
	IdempotencyPeers []netip.Prefix
}

// Server is the LMTP listener.
type Server struct {
	opts Options
	*accept.Listener
	delivered *prometheus.CounterVec
}

// New builds the server; Serve starts it.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{opts: opts, delivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rookery_lmtp_recipients_total",
		Help: "LMTP recipients by outcome (delivered, tempfail, failed)."}, []string{"result"})}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(s.delivered)
	}
	s.Listener = accept.NewListener(smtp.BackendFunc(s.newSession), accept.ListenerOptions{
		Hostname: opts.Hostname, LMTP: true,
		MaxMessageSize: opts.MaxMessageSize, MaxRecipients: opts.MaxRecipients,
		ReadTimeout: opts.Timeout, WriteTimeout: opts.Timeout, Logger: opts.Logger,
		DSN: len(opts.IdempotencyPeers) > 0,
	})
	return s
}

type session struct {
	s     *Server
	conn  *smtp.Conn
	log   *slog.Logger
	env   accept.Envelope
	key   string // idempotency key, "" for none
	rcpts []rcpt // in RCPT order: LMTP answers once per RCPT
}

// rcpt is one RCPT TO and the accounts it expanded to.
type rcpt struct {
	orig  string
	accts []string
}

var _ smtp.LMTPSession = (*session)(nil)

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, conn: c, log: s.opts.Logger.With("role", "lmtp", "remote", c.Conn().RemoteAddr().String())}, nil
}

func (se *session) Reset()        { se.env, se.key, se.rcpts = accept.Envelope{}, "", nil }
func (se *session) Logout() error { return nil }

func (se *session) Mail(from string, opts *smtp.MailOptions) error {
	if err := accept.CheckMail(se.conn, from, opts, true); err != nil {
		return err
	}
	key, err := se.s.idempotencyKey(se.conn, opts)
	if err != nil {
		return err
	}
	se.env.Begin(from, opts != nil && opts.UTF8)
	se.key, se.rcpts = key, nil
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := accept.CheckRcpt(to, se.env.UTF8); err != nil {
		return err
	}
	res, err := se.s.opts.Resolver.Resolve(context.Background(), to)
	if err != nil {
		se.log.Info("rcpt rejected", "rcpt", to, "err", err)
		return accept.RcptError(err)
	}
	if len(res.Forward) > 0 {
		// LMTP stores into mailboxes and has no queue to relay from;
		// storing only the local copies would drop the forwards silently.
		se.log.Info("rcpt rejected: alias forwards to other systems", "rcpt", to, "forward", res.Forward)
		return errForwardingAlias
	}
	r := rcpt{orig: to}
	for _, a := range res.Accounts {
		r.accts = append(r.accts, a.Address)
	}
	se.rcpts = append(se.rcpts, r)
	se.env.AddResolved(to, res)
	return nil
}

// errForwardingAlias refuses an alias with external targets: X.3.3, the
// system cannot do this; the client should hand the mail to SMTP (the MX).
var errForwardingAlias = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 3, 3},
	Message: "This address forwards to other systems; LMTP delivers to local mailboxes only, send it over SMTP"}

// Data is not used in LMTP mode; go-smtp calls LMTPData.
func (se *session) Data(r io.Reader) error {
	return se.LMTPData(r, nil)
}

// LMTPData stores the message for every recipient and reports each RCPT's
// outcome: 250 once durable, 4xx to retry, 5xx when the mailbox is gone or full.
func (se *session) LMTPData(r io.Reader, status smtp.StatusCollector) error {
	raw, err := io.ReadAll(accept.Canonical(r))
	if err != nil {
		se.log.Info("lmtp message rejected", "from", se.env.From, "err", err)
		return err
	}
	now := time.Now()
	id := queue.NewID(now)
	if se.key != "" {
		id = keyedID(se.key)
		if queue.ValidID(se.key) {
			// A cluster node's queue id: the same id gives the same
			// delivery ids as the in-process delivery another node
			// may have made before it lost the store.
			id = se.key
		}
	}
	msg := &queue.Message{ID: id, From: se.env.From, Recipients: se.env.Rcpts, Received: now,
		SMTPUTF8: se.env.UTF8, Body: raw}
	byAcct := map[string]queue.Result{}
	for _, res := range se.s.opts.Deliverer.Deliver(context.Background(), []*queue.Message{msg}) {
		byAcct[res.Recipient] = res
	}
	for _, rc := range se.rcpts {
		reply := se.outcome(rc, byAcct)
		if status != nil {
			status.SetStatus(rc.orig, reply)
		}
	}
	se.log.Info("lmtp delivery", "id", msg.ID, "envid", se.key, "from", se.env.From, "rcpts", len(se.rcpts), "size", len(msg.Body))
	return nil
}

// outcome combines the results of one RCPT's accounts: any temporary
// failure asks the client to retry the RCPT, as a partial delivery would
// otherwise be lost.
func (se *session) outcome(rc rcpt, byAcct map[string]queue.Result) error {
	var failed, full bool
	for _, a := range rc.accts {
		switch byAcct[a].Status {
		case queue.Delivered:
		case queue.Failed:
			failed = true
			full = full || queue.StatusCode(byAcct[a].Error, "5.1.1") == "5.2.2" // router: over quota
		default:
			se.s.delivered.WithLabelValues("tempfail").Inc()
			se.log.Warn("lmtp tempfail", "rcpt", rc.orig, "err", byAcct[a].Error)
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "Mailbox temporarily unavailable"}
		}
	}
	if failed {
		se.s.delivered.WithLabelValues("failed").Inc()
		if full {
			return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 2, 2}, Message: "Mailbox full"} // RFC 5321 §4.2.2
		}
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Mailbox unavailable"}
	}
	se.s.delivered.WithLabelValues("delivered").Inc()
	return nil
}

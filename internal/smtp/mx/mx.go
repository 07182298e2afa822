// Package mx is the inbound SMTP role: it accepts mail for local domains
// from anyone, validates every recipient at RCPT time through the router
// (never accept what would bounce later), and answers 250 to DATA only after
// the message is committed to the durable queue.
package mx

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/queue"
	"github.com/rookery-mail/rookery/internal/smtp/accept"
)

// Resolver maps a recipient address to the accounts that receive it. The
// router implements it; its errors are classified by the Options' callers.
type Resolver interface {
	Resolve(ctx context.Context, address string) ([]directory.Account, error)
}

// Options configure the MX role.
type Options struct {
	Hostname       string
	Resolver       Resolver
	Queue          queue.Store
	OnEnqueue      func() // called after each commit, to wake the runner
	TLSConfig      *tls.Config
	MaxMessageSize int64
	MaxRecipients  int
	ReadTimeout    time.Duration
	WriteTimeout   time.Duration
	// LookupTimeout bounds a recipient lookup; past it the client gets 451.
	LookupTimeout time.Duration
	Logger        *slog.Logger
	Registerer    prometheus.Registerer
}

// Server is the MX role.
type Server struct {
	opts    Options
	smtp    *smtp.Server
	commit  *accept.Committer
	metrics *metrics
}

// New builds the role; Serve starts it.
func New(opts Options) *Server {
	if opts.LookupTimeout == 0 {
		opts.LookupTimeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{opts: opts, metrics: newMetrics(opts.Registerer),
		commit: accept.NewCommitter(opts.Hostname, "mx", opts.Queue, opts.OnEnqueue, opts.Registerer)}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = opts.Hostname
	srv.TLSConfig = opts.TLSConfig
	srv.MaxMessageBytes = opts.MaxMessageSize
	srv.MaxRecipients = opts.MaxRecipients
	srv.MaxLineLength = accept.MaxLineLength
	srv.ReadTimeout = opts.ReadTimeout
	srv.WriteTimeout = opts.WriteTimeout
	srv.EnableSMTPUTF8 = true
	srv.EnableREQUIRETLS = true
	srv.EnableDSN = true
	srv.ErrorLog = slogAdapter{opts.Logger}
	s.smtp = srv
	return s
}

// Serve accepts connections on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	err := s.smtp.Serve(l)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting and waits for sessions to end or ctx to expire.
// A transaction in DATA finishes its commit first: the queue waits for it.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.smtp.Shutdown(ctx)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Printf(format string, v ...any) {
	a.l.Warn("smtp", "detail", sprintf(format, v...))
}
func (a slogAdapter) Println(v ...any) { a.l.Warn("smtp", "detail", sprint(v...)) }

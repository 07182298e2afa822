// Package mx is the inbound SMTP role: it accepts mail for local domains
// from anyone, validates every recipient at RCPT time through the router
// (never accept what would bounce later), and answers 250 to DATA only after
// the message is committed to the durable queue.
package mx

import (
	"context"
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/queue"
	"github.com/rookery-mail/rookery/internal/smtp/accept"
)

// Resolver maps a recipient address to the accounts that receive it and
// the external addresses it forwards to. The router implements it; its
// errors are classified by accept.RcptError.
type Resolver interface {
	Resolve(ctx context.Context, address string) (directory.Resolution, error)
}

// Options configure the MX role.
type Options struct {
	Hostname       string
	Resolver       Resolver
	Quota          Quota // nil: no quota check at RCPT
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
	opts Options
	*accept.Listener
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
	s.Listener = accept.NewListener(smtp.BackendFunc(s.newSession), accept.ListenerOptions{
		Hostname: opts.Hostname, TLSConfig: opts.TLSConfig,
		MaxMessageSize: opts.MaxMessageSize, MaxRecipients: opts.MaxRecipients,
		ReadTimeout: opts.ReadTimeout, WriteTimeout: opts.WriteTimeout, Logger: opts.Logger,
	})
	return s
}

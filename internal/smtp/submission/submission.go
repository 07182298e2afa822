// Package submission is the message submission role (RFC 6409): users
// authenticate, may only send as addresses they own, and their messages
// get the missing Date and Message-ID headers and a DKIM signature before
// they are committed to the queue for local or outbound delivery.
package submission

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/queue"
	"github.com/rookery-mail/rookery/internal/smtp/accept"
)

// Resolver maps an address to the local accounts it reaches; router.ErrNotLocal
// marks an address of another system.
type Resolver interface {
	Resolve(ctx context.Context, address string) (directory.Resolution, error)
}

// LoginFunc checks credentials (with rate limiting) and returns the account.
// directory.ErrAuthFailed means bad credentials; other errors are temporary.
type LoginFunc func(ctx context.Context, user, password string, remote net.Addr) (directory.Account, error)

// Signer DKIM-signs a message for a domain; a domain without keys returns
// the message unchanged.
type Signer interface {
	Sign(ctx context.Context, domain string, msg []byte) ([]byte, error)
}

// Options configure the submission role.
type Options struct {
	Hostname  string
	Login     LoginFunc
	Resolver  Resolver
	Signer    Signer // may be nil: no signing
	Queue     queue.Store
	OnEnqueue func()
	TLSConfig *tls.Config
	// AllowInsecureAuth offers AUTH without TLS (tests, or a TLS proxy in
	// front); by default AUTH is only offered after STARTTLS or on 465.
	AllowInsecureAuth bool
	MaxMessageSize    int64
	MaxRecipients     int
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	Logger            *slog.Logger
	Registerer        prometheus.Registerer
}

// Server is the submission role; one Server serves both 587 (STARTTLS) and
// 465 (implicit TLS) listeners.
type Server struct {
	opts Options
	*accept.Listener
	commit *accept.Committer
}

// New builds the role; Serve starts it.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{opts: opts, commit: accept.NewCommitter(opts.Hostname, "submission", opts.Queue, opts.OnEnqueue, opts.Registerer)}
	s.Listener = accept.NewListener(smtp.BackendFunc(s.newSession), accept.ListenerOptions{
		Hostname: opts.Hostname, TLSConfig: opts.TLSConfig, AllowInsecureAuth: opts.AllowInsecureAuth,
		MaxMessageSize: opts.MaxMessageSize, MaxRecipients: opts.MaxRecipients,
		ReadTimeout: opts.ReadTimeout, WriteTimeout: opts.WriteTimeout, Logger: opts.Logger,
	})
	return s
}

package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/dkim"
	"github.com/rookery-mail/rookery/internal/smtp/lmtp"
	"github.com/rookery-mail/rookery/internal/smtp/submission"

	"github.com/rookery-mail/rookery/internal/imap"
	"github.com/rookery-mail/rookery/internal/pop3"
	"github.com/rookery-mail/rookery/internal/smtp/mx"
)

func (s *Server) startMX() error {
	if !s.cfg.HasRole("mx") || s.cfg.Listen.MX == "" {
		return nil
	}
	l, err := s.listen("mx", s.cfg.Listen.MX, nil, s.smtpWrap)
	if err != nil {
		return err
	}
	srv := mx.New(mx.Options{
		Hostname:       s.cfg.Hostname,
		Resolver:       s.router,
		Quota:          s.router,
		Queue:          s.queue,
		OnEnqueue:      s.runner.Kick,
		TLSConfig:      s.tls,
		MaxMessageSize: s.cfg.SMTP.MaxMessageSize,
		MaxRecipients:  s.cfg.SMTP.MaxRecipients,
		ReadTimeout:    s.cfg.SMTP.ReadTimeout.Duration,
		WriteTimeout:   s.cfg.SMTP.WriteTimeout.Duration,
		Logger:         s.log,
		Registerer:     s.reg,
	})
	s.serve("mx", l, srv.Serve, srv.Shutdown)
	return nil
}

func (s *Server) startSubmission() error {
	if !s.cfg.HasRole("submission") || (s.cfg.Listen.Submission == "" && s.cfg.Listen.Submissions == "") {
		return nil
	}
	srv := submission.New(submission.Options{
		Hostname: s.cfg.Hostname,
		Login: func(ctx context.Context, user, pass string, remote net.Addr) (directory.Account, error) {
			// Submission needs no store: a submission-only node holds none.
			return s.authenticate(ctx, user, pass, remote)
		},
		Resolver:          s.router,
		Signer:            unsignedWithoutKeys{dkim.NewSigner(s.dir), s.log},
		Queue:             s.queue,
		OnEnqueue:         s.runner.Kick,
		TLSConfig:         s.tls,
		AllowInsecureAuth: s.cfg.Submission.AllowInsecureAuth,
		MaxMessageSize:    s.cfg.SMTP.MaxMessageSize,
		MaxRecipients:     s.cfg.SMTP.MaxRecipients,
		ReadTimeout:       s.cfg.SMTP.ReadTimeout.Duration,
		WriteTimeout:      s.cfg.SMTP.WriteTimeout.Duration,
		Logger:            s.log,
		Registerer:        s.reg,
	})
	return s.serveMulti("submission", srv.Serve, srv.Shutdown, s.smtpWrap, []listenSpec{
		{"submission", s.cfg.Listen.Submission, false},
		{"submissions", s.cfg.Listen.Submissions, true},
	})
}

func (s *Server) startLMTP() error {
	if !s.cfg.HasRole("mailstore") || s.cfg.Listen.LMTP == "" {
		return nil
	}
	l, err := s.listen("lmtp", s.cfg.Listen.LMTP, nil, s.smtpWrap)
	if err != nil {
		return err
	}
	srv := lmtp.New(lmtp.Options{
		Hostname:       s.cfg.Hostname,
		Resolver:       s.router,
		Deliverer:      s.local,
		MaxMessageSize: s.cfg.SMTP.MaxMessageSize,
		MaxRecipients:  s.cfg.SMTP.MaxRecipients,
		Timeout:        s.cfg.SMTP.ReadTimeout.Duration,
		Logger:         s.log,
		Registerer:     s.reg,

		IdempotencyPeers: s.cfg.LMTP.IdempotencyPeers,
	})
	s.serve("lmtp", l, srv.Serve, srv.Shutdown)
	return nil
}

// listenSpec is one listener of a role that serves several (plain and
// implicit TLS).
type listenSpec struct {
	key, addr string
	tls       bool
}

// serveMulti starts one server's Serve on each configured listener (each
// wrapped by wrap, if not nil) and registers its shutdown once.
func (s *Server) serveMulti(name string, serve func(net.Listener) error, shutdown func(context.Context) error, wrap wrapFunc, specs []listenSpec) error {
	registered := false
	for _, sp := range specs {
		if sp.addr == "" {
			continue
		}
		var tlsCfg *tls.Config
		if sp.tls {
			if s.tls == nil {
				return fmt.Errorf("listen.%s needs a certificate: set tls.cert and tls.key", sp.key)
			}
			tlsCfg = s.tls
		}
		l, err := s.listen(sp.key, sp.addr, tlsCfg, wrap)
		if err != nil {
			return err
		}
		if !registered {
			s.services = append(s.services, service{name, shutdown})
			registered = true
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := serve(l); err != nil {
				s.log.Error("listener stopped", "service", sp.key, "err", err)
			}
		}()
		s.log.Info("listening", "service", sp.key, "addr", l.Addr().String())
	}
	return nil
}

func (s *Server) startIMAP() error {
	if !s.cfg.HasRole("imap") {
		return nil
	}
	// Large APPEND literals are spooled next to the mail they become
	// (data_dir/tmp), not in RAM or a possibly small /tmp.
	spool := filepath.Join(s.cfg.DataDir, "tmp")
	if err := os.MkdirAll(spool, 0o700); err != nil {
		return fmt.Errorf("create spool dir: %w", err)
	}
	srv := imap.NewServer(imap.Options{
		Hostname:          s.cfg.Hostname,
		SpoolDir:          spool,
		Backend:           imapBackend{s},
		TLSConfig:         s.tls,
		AllowInsecureAuth: s.cfg.IMAP.AllowInsecureAuth,
		MaxLiteralSize:    s.cfg.IMAP.MaxLiteralSize,
		IdleTimeout:       s.cfg.IMAP.IdleTimeout.Duration,
		NoCompress:        !s.cfg.IMAP.Compress,
		MaxSessionsPerIP:  s.cfg.IMAP.MaxSessionsPerIP,
		MaxUserIPSessions: s.cfg.IMAP.MaxUserIPSessions,
		Logger:            s.log.With("role", "imap"),
		Registerer:        s.reg,
	})
	s.disconnectors = append(s.disconnectors, srv.Disconnect)
	return s.serveMulti("imap", srv.Serve, srv.Shutdown, nil, []listenSpec{
		{"imap", s.cfg.Listen.IMAP, false},
		{"imaps", s.cfg.Listen.IMAPS, true},
	})
}

func (s *Server) startPOP3() error {
	if !s.cfg.HasRole("pop3") {
		return nil
	}
	srv := pop3.NewServer(pop3.Options{
		Hostname:          s.cfg.Hostname,
		Backend:           pop3Backend{s},
		TLSConfig:         s.tls,
		AllowInsecureAuth: s.cfg.POP3.AllowInsecureAuth,
		Logger:            s.log.With("role", "pop3"),
		Registerer:        s.reg,
	})
	s.disconnectors = append(s.disconnectors, srv.Disconnect)
	return s.serveMulti("pop3", srv.Serve, srv.Shutdown, nil, []listenSpec{
		{"pop3", s.cfg.Listen.POP3, false},
		{"pop3s", s.cfg.Listen.POP3S, true},
	})
}

// unsignedWithoutKeys sends mail of a domain without DKIM keys unsigned
// (logged) instead of refusing it: keys are created by `rookery domain add`,
// but a domain added through the API or restored from elsewhere may lack them.
type unsignedWithoutKeys struct {
	signer *dkim.Signer
	log    *slog.Logger
}

func (u unsignedWithoutKeys) Sign(ctx context.Context, domain string, msg []byte) ([]byte, error) {
	out, err := u.signer.Sign(ctx, domain, msg)
	if errors.Is(err, dkim.ErrNoKeys) {
		u.log.Warn("sending unsigned: domain has no DKIM keys", "domain", domain)
		return msg, nil
	}
	return out, err
}

package server

import (
	"crypto/tls"
	"fmt"

	"github.com/rookery-mail/rookery/internal/imap"
	"github.com/rookery-mail/rookery/internal/smtp/mx"
)

func (s *Server) startMX() error {
	if !s.cfg.HasRole("mx") || s.cfg.Listen.MX == "" {
		return nil
	}
	l, err := s.listen("mx", s.cfg.Listen.MX, nil)
	if err != nil {
		return err
	}
	srv := mx.New(mx.Options{
		Hostname:       s.cfg.Hostname,
		Resolver:       s.router,
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

func (s *Server) startIMAP() error {
	if !s.cfg.HasRole("imap") {
		return nil
	}
	srv := imap.NewServer(imap.Options{
		Hostname:          s.cfg.Hostname,
		Backend:           imapBackend{s},
		TLSConfig:         s.tls,
		AllowInsecureAuth: s.cfg.IMAP.AllowInsecureAuth,
		MaxLiteralSize:    s.cfg.IMAP.MaxLiteralSize,
		IdleTimeout:       s.cfg.IMAP.IdleTimeout.Duration,
		Logger:            s.log.With("role", "imap"),
		Registerer:        s.reg,
	})
	started := false
	for _, ln := range []struct {
		key, addr string
		tls       *tls.Config
	}{{"imap", s.cfg.Listen.IMAP, nil}, {"imaps", s.cfg.Listen.IMAPS, s.tls}} {
		if ln.addr == "" {
			continue
		}
		if ln.key == "imaps" && s.tls == nil {
			return fmt.Errorf("listen.imaps needs a certificate: set tls.cert and tls.key")
		}
		l, err := s.listen(ln.key, ln.addr, ln.tls)
		if err != nil {
			return err
		}
		if !started {
			s.services = append(s.services, service{"imap", srv.Shutdown})
			started = true
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := srv.Serve(l); err != nil {
				s.log.Error("listener stopped", "service", ln.key, "err", err)
			}
		}()
		s.log.Info("listening", "service", ln.key, "addr", l.Addr().String())
	}
	return nil
}

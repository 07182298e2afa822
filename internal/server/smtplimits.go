package server

import (
	"net"

	"github.com/rookery-mail/rookery/internal/netserve"
	"github.com/rookery-mail/rookery/internal/smtp/accept"
)

// wrapFunc wraps a raw listener; TLS, for an implicit-TLS port, goes on
// top of what it returns.
type wrapFunc func(l net.Listener, implicitTLS bool) net.Listener

// smtpWrap puts an SMTP listener under the connection limits all SMTP
// listeners share ([smtp] max_connections_per_ip, max_connections,
// greeting_timeout), so that one address cannot take the descriptors
// IMAP, POP3 and HTTP need.
func (s *Server) smtpWrap(l net.Listener, implicitTLS bool) net.Listener {
	if s.smtpLimit == nil {
		total := s.cfg.SMTP.MaxConnections
		if total == 0 {
			total = netserve.DefaultMaxConnections()
		}
		lim := accept.NewLimits(netserve.NewLimiter(s.cfg.SMTP.MaxConnectionsPerIP, total, s.cfg.SMTP.PerIPExempt...),
			s.cfg.Hostname, s.cfg.SMTP.GreetingTimeout.Duration, s.reg)
		s.smtpLimit = lim.Listener
		s.log.Info("smtp connection limits", "per_ip", s.cfg.SMTP.MaxConnectionsPerIP, "per_ip_exempt", s.cfg.SMTP.PerIPExempt,
			"total", total, "greeting_timeout", s.cfg.SMTP.GreetingTimeout.Duration)
	}
	return s.smtpLimit(l, implicitTLS)
}

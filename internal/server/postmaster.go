package server

import "context"

// warnPostmaster says at start when mail to postmaster@ and abuse@ would
// be refused: RFC 5321 §4.5.1 requires postmaster, and DSNs and the DMARC
// record `rookery domain dns` prints send reports there.
func (s *Server) warnPostmaster(ctx context.Context) {
	if s.cfg.Postmaster == "" {
		s.log.Warn(`no postmaster configured: mail to postmaster@ and abuse@ of domains without such an account is refused; set postmaster = "admin@your.domain" in the config`)
		return
	}
	if _, err := s.router.Resolve(ctx, s.cfg.Postmaster); err != nil {
		s.log.Warn("the configured postmaster receives no mail", "postmaster", s.cfg.Postmaster, "err", err)
	}
}

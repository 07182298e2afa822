package server

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/rookery-mail/rookery/internal/datadir"
)

// AddrInUseError is returned by Start when a configured address is taken,
// most likely by another rookery; its text is the one line to show.
type AddrInUseError struct{ Addr string }

func (e *AddrInUseError) Error() string {
	return "address " + e.Addr + " already in use — is another rookery running?"
}

// ErrDataDirInUse is returned by Open when another process serves the data
// directory.
var ErrDataDirInUse = datadir.ErrInUse

// configuredListeners lists every listener the node's roles will open, by
// config key. Start binds them all before any role starts, so a taken port
// fails with nothing to undo; the roles' start functions then take their
// listener from here (listen) and fail loudly on one missing from this list.
func (s *Server) configuredListeners() []listenSpec {
	l := s.cfg.Listen
	var specs []listenSpec
	add := func(role string, sp ...listenSpec) {
		if !s.cfg.HasRole(role) {
			return
		}
		for _, p := range sp {
			if p.addr != "" {
				specs = append(specs, p)
			}
		}
	}
	add("mx", listenSpec{"mx", l.MX, false})
	add("submission", listenSpec{"submission", l.Submission, false}, listenSpec{"submissions", l.Submissions, true})
	add("mailstore", listenSpec{"lmtp", l.LMTP, false})
	add("imap", listenSpec{"imap", l.IMAP, false}, listenSpec{"imaps", l.IMAPS, true})
	add("pop3", listenSpec{"pop3", l.POP3, false}, listenSpec{"pop3s", l.POP3S, true})
	if l.HTTP != "" {
		specs = append(specs, listenSpec{"http", l.HTTP, false})
	}
	return specs
}

// bindAll opens every configured listener; on failure it closes those it
// opened. A taken address gives one sentence for the administrator.
func (s *Server) bindAll() error {
	s.bound = map[string]net.Listener{}
	for _, sp := range s.configuredListeners() {
		l, err := net.Listen("tcp", sp.addr)
		if err != nil {
			for _, b := range s.bound {
				b.Close()
			}
			s.bound = nil
			if errors.Is(err, syscall.EADDRINUSE) {
				return &AddrInUseError{Addr: sp.addr}
			}
			return fmt.Errorf("listen.%s %s: %w", sp.key, sp.addr, err)
		}
		s.bound[sp.key] = l
	}
	return nil
}

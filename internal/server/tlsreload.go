package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync/atomic"
)

// certificate is the node's TLS certificate. Handshakes read it through
// tls.Config.GetCertificate, so ReloadTLS can swap in a renewed one without
// restarting listeners or dropping sessions.
type certificate struct {
	certPath, keyPath string
	cur               atomic.Pointer[tls.Certificate]
}

// load reads the files; on error the certificate in use stays.
func (c *certificate) load() (*x509.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(c.certPath, c.keyPath)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	cert.Leaf = leaf
	c.cur.Store(&cert)
	return leaf, nil
}

func (c *certificate) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.cur.Load(), nil
}

// ReloadTLS reads the configured certificate and key again (after a
// renewal; `rookery serve` calls it on SIGHUP). New handshakes use them;
// if they do not load, the old ones stay in use and the error says why.
func (s *Server) ReloadTLS() error {
	if s.cert == nil {
		return errors.New("tls: no certificate configured (tls.cert)")
	}
	leaf, err := s.cert.load()
	if err != nil {
		return err
	}
	s.log.Info("tls certificate reloaded", "subject", leaf.Subject.String(), "not_after", leaf.NotAfter)
	return nil
}

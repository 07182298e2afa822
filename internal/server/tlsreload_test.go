package server

import (
	"crypto/tls"
	"math/big"
	"os"
	"testing"
)

// serial returns the serial number of the certificate addr presents.
func serial(t *testing.T, addr string) *big.Int {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber
}

// TestReloadTLS replaces the certificate files of a running node: after
// ReloadTLS new handshakes get the new certificate; files that do not load
// leave the current one in use.
func TestReloadTLS(t *testing.T) {
	e := startEnv(t, nil)
	certPath, keyPath := e.cfg.Path(e.cfg.TLS.Cert), e.cfg.Path(e.cfg.TLS.Key)
	old := serial(t, e.addr("imaps"))
	if err := WriteSelfSigned(certPath, keyPath, "localhost"); err != nil {
		t.Fatal(err)
	}
	if got := serial(t, e.addr("imaps")); got.Cmp(old) != 0 {
		t.Fatal("certificate changed before ReloadTLS")
	}
	if err := e.srv.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	renewed := serial(t, e.addr("submissions"))
	if renewed.Cmp(old) == 0 {
		t.Fatal("ReloadTLS: handshakes still get the old certificate")
	}
	if got := serial(t, e.addr("imaps")); got.Cmp(renewed) != 0 {
		t.Fatal("imaps and submissions present different certificates")
	}
	if err := os.WriteFile(keyPath, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.ReloadTLS(); err == nil {
		t.Fatal("ReloadTLS accepted a broken key")
	}
	if got := serial(t, e.addr("imaps")); got.Cmp(renewed) != 0 {
		t.Fatal("a failed reload changed the certificate in use")
	}
}

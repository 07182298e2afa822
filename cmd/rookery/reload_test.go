package main

import (
	"crypto/tls"
	"math/big"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rookery-mail/rookery/internal/server"
)

// startTLSSerial returns the serial of the certificate addr offers after
// STARTTLS.
func startTLSSerial(t *testing.T, addr string) *big.Int {
	t.Helper()
	c, err := smtp.DialStartTLS(addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Noop(); err != nil { // completes the handshake
		t.Fatal(err)
	}
	st, ok := c.TLSConnectionState()
	if !ok || len(st.PeerCertificates) == 0 {
		t.Fatal("no TLS after STARTTLS")
	}
	return st.PeerCertificates[0].SerialNumber
}

// TestSIGHUPReloadsCertificate renews the certificate files of a running
// `rookery serve` and sends SIGHUP: new STARTTLS handshakes must get the
// new certificate, without a restart.
func TestSIGHUPReloadsCertificate(t *testing.T) {
	n := newNode(t)
	p := n.serve()
	old := startTLSSerial(t, p.addr("mx"))
	if err := server.WriteSelfSigned(filepath.Join(n.dir, "cert.pem"), filepath.Join(n.dir, "key.pem"), "localhost"); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		p.mu.Lock()
		reloaded := strings.Contains(p.logs.String(), "tls certificate reloaded")
		p.mu.Unlock()
		if reloaded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no reload logged after SIGHUP")
		}
	}
	if got := startTLSSerial(t, p.addr("mx")); got.Cmp(old) == 0 {
		t.Fatal("after SIGHUP the old certificate is still served")
	}
	p.stop(t) // and SIGHUP did not end the process
}

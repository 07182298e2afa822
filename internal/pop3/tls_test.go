package pop3

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"
)

// testTLS returns a server config with a fresh self-signed certificate
// for "localhost" and a client config that trusts it.
func testTLS(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool, ServerName: "localhost"}
}

// remoteListener makes every connection look as if it came from 192.0.2.1,
// so the non-loopback plaintext policy can be tested on 127.0.0.1.
type remoteListener struct{ net.Listener }

func (l remoteListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return remoteConn{c}, nil
}

type remoteConn struct{ net.Conn }

func (remoteConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 4000} }

// TestPlaintextRefusedUntilSTLS: from a non-loopback address USER and SASL
// are hidden and refused with [AUTH] (Dovecot's disable_plaintext_auth);
// after STLS (RFC 2595 §4) they are offered and work.
func TestPlaintextRefusedUntilSTLS(t *testing.T) {
	srvTLS, cliTLS := testTLS(t)
	e := startServerOn(t, func(l net.Listener) net.Listener { return remoteListener{l} },
		func(o *Options) { o.TLSConfig = srvTLS })
	c := dialRaw(t, e.addr)
	c.cmd("CAPA", `\+OK .*`, "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "STLS", "IMPLEMENTATION Rookery", `\.`)
	c.cmd("USER alice", `-ERR \[AUTH\] Plaintext authentication disallowed on non-secure \(SSL/TLS\) connections\.`)
	c.cmd("PASS alicepw", `-ERR \[AUTH\] Plaintext .*`)
	c.cmd("AUTH PLAIN AGFsaWNlAGFsaWNlcHc=", `-ERR \[AUTH\] Plaintext .*`)
	c.cmd("STLS now", `-ERR STLS takes no arguments\.`)
	c.cmd("STLS", `\+OK Begin TLS negotiation now\.`)
	tc := tls.Client(c.c, cliTLS)
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.c, c.br = tc, bufio.NewReader(tc)
	c.cmd("CAPA", `\+OK .*`, "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "USER", "SASL PLAIN", "IMPLEMENTATION Rookery", `\.`)
	c.cmd("STLS", `-ERR TLS not available\.`)
	c.login("alice")
}

// TestSTLSRefusesPipelinedData: commands sent in clear after STLS must not
// run inside TLS (CVE-2011-0411); the server refuses and closes.
func TestSTLSRefusesPipelinedData(t *testing.T) {
	srvTLS, _ := testTLS(t)
	e := startServer(t, func(o *Options) { o.TLSConfig = srvTLS })
	c := dialRaw(t, e.addr)
	c.send("STLS\r\nUSER alice\r\n")
	c.expect(`-ERR Data after STLS\.`)
	c.expectClosed()
}

// TestImplicitTLS: a *tls.Conn from the listener is POP3S (RFC 8314):
// plaintext authentication is allowed and STLS is not offered.
func TestImplicitTLS(t *testing.T) {
	srvTLS, cliTLS := testTLS(t)
	e := startServerOn(t, func(l net.Listener) net.Listener { return tls.NewListener(remoteListener{l}, srvTLS) },
		func(o *Options) { o.TLSConfig = srvTLS })
	conn, err := tls.Dial("tcp", e.addr, cliTLS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &tconn{t: t, c: conn, br: bufio.NewReader(conn)}
	c.expect(`\+OK pop3\.test Rookery POP3 ready\.`)
	c.cmd("CAPA", `\+OK .*`, "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "USER", "SASL PLAIN", "IMPLEMENTATION Rookery", `\.`)
	c.login("bob")
	c.cmd("QUIT", `\+OK Logging out\.`)
}

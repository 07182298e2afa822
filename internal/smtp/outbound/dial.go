package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// conn is one SMTP session to a remote host, reusable for several
// transactions.
type conn struct {
	c        *smtp.Client
	raw      net.Conn
	host, ip string
	// tls is the TLS version in use ("TLSv1.3"), or "" for plaintext.
	tls string
	// verified reports whether the server certificate verified for host.
	verified bool
	// dirty is set after a transaction: the next one needs RSET first.
	dirty     bool
	idleSince time.Time
	closeOnce sync.Once
	onClose   func()
}

// errTLSHandshake marks a failed TLS handshake after STARTTLS: as Postfix
// does at security level "may", the host is retried in plaintext.
var errTLSHandshake = errors.New("TLS handshake failed")

// dial connects to ip, reads the greeting and says EHLO; if the server
// offers STARTTLS and useTLS is set, it upgrades (RFC 3207). The session is
// then handed to go-smtp's client, which says EHLO again (required after
// STARTTLS, RFC 3207 §4.2, and harmless otherwise, RFC 5321 §4.1.4).
//
// The first phase is done here rather than by go-smtp because its client
// can only STARTTLS from a fresh connection with the EHLO name "localhost".
func (c *Client) dial(ctx context.Context, host string, ip net.IP, useTLS bool) (*conn, error) {
	addr := net.JoinHostPort(ip.String(), strconv.Itoa(c.opts.Port))
	d := net.Dialer{Timeout: c.opts.DialTimeout}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	cn, err := c.handshake(ctx, raw, host, ip.String(), useTLS)
	if !stop() || err != nil {
		raw.Close()
		if err == nil {
			err = ctx.Err()
		}
		return nil, err
	}
	c.metrics.connsOpen.Inc()
	cn.onClose = c.metrics.connsOpen.Dec
	return cn, nil
}

func (c *Client) handshake(ctx context.Context, raw net.Conn, host, ip string, useTLS bool) (*conn, error) {
	raw.SetDeadline(time.Now().Add(c.opts.CommandTimeout))
	tp := textproto.NewConn(raw)
	// RFC 5321 §4.2: a 4xx/5xx greeting means no service here.
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, protoErr(err)
	}
	cn := &conn{raw: raw, host: host, ip: ip}
	var next net.Conn = raw
	ext, err := ehlo(tp, c.opts.Hostname)
	if err == nil && useTLS && ext["STARTTLS"] {
		if _, err := tp.Cmd("STARTTLS"); err != nil {
			return nil, err
		}
		if _, _, err := tp.ReadResponse(220); err == nil {
			tc, err := c.startTLS(ctx, raw, cn)
			if err != nil {
				return nil, err
			}
			next = tc
		} else if !isSMTPReply(err) {
			return nil, err
		}
		// A refused STARTTLS leaves the session as it was: go on in plaintext.
	} else if err != nil && !isSMTPReply(err) {
		return nil, err
	}
	raw.SetDeadline(time.Time{})
	// go-smtp reads a greeting first; replay one, as the real one is consumed.
	cn.c = smtp.NewClient(&greetedConn{Conn: next, greeting: strings.NewReader("220 " + host + "\r\n")})
	cn.c.CommandTimeout = c.opts.CommandTimeout
	if err := cn.c.Hello(c.opts.Hostname); err != nil {
		return nil, err
	}
	return cn, nil
}

// ehlo sends EHLO and returns the offered extension keywords.
func ehlo(tp *textproto.Conn, name string) (map[string]bool, error) {
	if _, err := tp.Cmd("EHLO %s", name); err != nil {
		return nil, err
	}
	_, msg, err := tp.ReadResponse(250)
	if err != nil {
		return nil, protoErr(err)
	}
	ext := map[string]bool{}
	lines := strings.Split(msg, "\n")
	for _, l := range lines[1:] {
		kw, _, _ := strings.Cut(l, " ")
		ext[strings.ToUpper(kw)] = true
	}
	return ext, nil
}

// startTLS runs the client handshake. Certificates are checked but not
// enforced (Postfix security level "may", RFC 7435 opportunistic security):
// an unverified channel still beats plaintext; cn.verified records which.
func (c *Client) startTLS(ctx context.Context, raw net.Conn, cn *conn) (*tls.Conn, error) {
	cfg := &tls.Config{}
	if c.opts.TLS != nil {
		cfg = c.opts.TLS.Clone()
	}
	roots := cfg.RootCAs
	cfg.ServerName = cn.host
	cfg.InsecureSkipVerify = true
	cfg.VerifyPeerCertificate, cfg.VerifyConnection = nil, nil
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("%w: %w", errTLSHandshake, err)
	}
	st := tc.ConnectionState()
	cn.tls = tls.VersionName(st.Version)
	cn.verified = verifyChain(st.PeerCertificates, roots, cn.host) == nil
	return tc, nil
}

func verifyChain(certs []*x509.Certificate, roots *x509.CertPool, host string) error {
	if len(certs) == 0 {
		return errors.New("no certificate")
	}
	inter := x509.NewCertPool()
	for _, ic := range certs[1:] {
		inter.AddCert(ic)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: host})
	return err
}

// protoErr turns a textproto reply error into the *smtp.SMTPError that
// go-smtp's client returns, so classify sees one type.
func protoErr(err error) error {
	var te *textproto.Error
	if !errors.As(err, &te) {
		return err
	}
	se := &smtp.SMTPError{Code: te.Code, Message: te.Msg}
	if first, rest, ok := strings.Cut(te.Msg, " "); ok {
		var e smtp.EnhancedCode
		if n, _ := fmt.Sscanf(first, "%d.%d.%d", &e[0], &e[1], &e[2]); n == 3 {
			se.EnhancedCode, se.Message = e, rest
		}
	}
	return se
}

func isSMTPReply(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se)
}

// greetedConn yields a replayed greeting before the connection's data.
type greetedConn struct {
	net.Conn
	greeting io.Reader
}

func (g *greetedConn) Read(p []byte) (int, error) {
	if n, _ := g.greeting.Read(p); n > 0 {
		return n, nil
	}
	return g.Conn.Read(p)
}

// close ends the session politely (QUIT) when it still works.
func (cn *conn) close(polite bool) {
	cn.closeOnce.Do(func() {
		if polite {
			cn.c.CommandTimeout = 5 * time.Second
			cn.c.Quit()
		}
		cn.raw.Close()
		if cn.onClose != nil {
			cn.onClose()
		}
	})
}

// tlsLabel is the tls field of log lines.
func (cn *conn) tlsLabel() string {
	if cn.tls == "" {
		return "no"
	}
	if !cn.verified {
		return "yes " + cn.tls + " unverified"
	}
	return "yes " + cn.tls
}

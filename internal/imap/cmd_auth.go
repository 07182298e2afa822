package imap

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/rookery-mail/rookery/internal/netserve"
)

// authFeature: STARTTLS, LOGIN, AUTHENTICATE PLAIN with SASL-IR (RFC 4959).
var authFeature = feature{
	caps: func(s *session) []string {
		if s.state != stateNotAuth {
			return nil
		}
		var caps []string
		if s.srv.opts.TLSConfig != nil && !s.isTLS {
			caps = append(caps, "STARTTLS")
		}
		if !s.plaintextAuthAllowed() {
			caps = append(caps, "LOGINDISABLED")
			if !s.fromClusterPeer() {
				return caps
			}
			// A front end's proxy login (proxy.go) needs no TLS.
		}
		return append(caps, "AUTH=PLAIN", "SASL-IR")
	},
	commands: map[string]commandSpec{
		"STARTTLS":     {states: stateNotAuth, handle: handleStartTLS},
		"LOGIN":        {states: stateNotAuth, handle: handleLogin},
		"AUTHENTICATE": {states: stateNotAuth, handle: handleAuthenticate, readsClient: true},
	},
}

// plaintextAuthAllowed: passwords only over TLS, from loopback, or when
// configured (as Dovecot's disable_plaintext_auth).
func (s *session) plaintextAuthAllowed() bool {
	if s.isTLS || s.srv.opts.AllowInsecureAuth {
		return true
	}
	if a, ok := s.c.RemoteAddr().(*net.TCPAddr); ok && a.IP.IsLoopback() {
		return true
	}
	return false
}

// RFC 3501 §6.2.1.
func handleStartTLS(s *session, c *command) error {
	if err := c.p.end(); err != nil {
		return err
	}
	if s.srv.opts.TLSConfig == nil || s.isTLS {
		return errBad("", "STARTTLS not available")
	}
	// Anything the client sent after STARTTLS was sent in clear text and
	// must not be executed inside TLS (CVE-2011-0411).
	if s.br.Buffered() > 0 {
		return errBad("CLIENTBUG", "Data after STARTTLS")
	}
	s.writef("%s OK Begin TLS negotiation now", c.tag)
	if err := s.flush(); err != nil {
		return err
	}
	tc := tls.Server(s.c, s.srv.opts.TLSConfig)
	tc.SetDeadline(time.Now().Add(30 * time.Second))
	if err := tc.HandshakeContext(s.ctx); err != nil {
		s.logout = true // the stream is unusable: no reply, just close
		s.log.Info("imap starttls failed", "err", err)
		return errNoReply
	}
	tc.SetDeadline(time.Time{})
	s.mu.Lock()
	s.c = tc
	s.bw = bufio.NewWriter(tc)
	s.mu.Unlock()
	s.br = bufio.NewReader(tc)
	s.isTLS = true
	return errNoReply
}

// errNoReply tells finish that the tagged reply was already sent or must
// not be sent.
var errNoReply = errors.New("no tagged reply")

// RFC 3501 §6.2.3.
func handleLogin(s *session, c *command) error {
	if err := c.p.sp(); err != nil {
		return err
	}
	user, err := c.p.astring()
	if err != nil {
		return err
	}
	if err := c.p.sp(); err != nil {
		return err
	}
	pass, err := c.p.astring()
	if err != nil {
		return err
	}
	if err := c.p.end(); err != nil {
		return err
	}
	if !s.plaintextAuthAllowed() {
		return errNo("PRIVACYREQUIRED", "Plaintext authentication is disallowed without TLS")
	}
	return s.login(c, user, pass)
}

// RFC 3501 §6.2.2, RFC 4959 (SASL-IR), RFC 4616 (PLAIN).
func handleAuthenticate(s *session, c *command) error {
	if err := c.p.sp(); err != nil {
		return err
	}
	mech, err := c.p.atom()
	if err != nil {
		return err
	}
	var ir string
	hasIR := false
	if c.p.consume(' ') {
		if ir, err = c.p.word(isAStringChar, "initial response"); err != nil {
			return err
		}
		hasIR = true
	}
	if err := c.p.end(); err != nil {
		return err
	}
	if !strings.EqualFold(mech, "PLAIN") {
		return errNo("CANNOT", "Unsupported authentication mechanism")
	}
	if !s.plaintextAuthAllowed() && !s.fromClusterPeer() {
		return errNo("PRIVACYREQUIRED", "Plaintext authentication is disallowed without TLS")
	}
	if !hasIR {
		if err := s.continuation(""); err != nil {
			return err
		}
		line, err := netserve.ReadLine(s.br, s.srv.opts.MaxLineLength)
		if err != nil {
			if errors.Is(err, netserve.ErrLineTooLong) {
				return errBad("", "Response too long")
			}
			return err
		}
		ir = string(line)
	}
	if ir == "*" {
		return errBad("", "Authentication canceled") // RFC 3501 §6.2.2
	}
	var resp []byte
	if ir != "=" { // "=" is an empty initial response (RFC 4959 §3)
		if resp, err = base64.StdEncoding.DecodeString(ir); err != nil {
			return errBad("", "Invalid base64")
		}
	}
	var authzid, user, pass string
	srv := sasl.NewPlainServer(func(identity, username, password string) error {
		authzid, user, pass = identity, username, password
		return nil
	})
	// An empty response ("=") leaves PLAIN unfinished: malformed, not a
	// login attempt with an empty user name.
	if _, done, err := srv.Next(resp); err != nil || !done {
		return errBad("", "Malformed PLAIN response")
	}
	if authzid != "" && authzid != user {
		if !s.fromClusterPeer() {
			return errNo("AUTHORIZATIONFAILED", "Authorization identity not permitted")
		}
		return s.proxyLogin(c, authzid, user, pass) // proxy.go
	}
	if !s.plaintextAuthAllowed() { // a cluster peer's own users need TLS as anyone's
		return errNo("PRIVACYREQUIRED", "Plaintext authentication is disallowed without TLS")
	}
	return s.login(c, user, pass)
}

// login authenticates with the backend.
func (s *session) login(c *command, username, password string) error {
	l, err := s.srv.opts.Backend.Login(s.ctx, username, password, s.c.RemoteAddr())
	return s.loggedIn(c, username, l, err)
}

// loggedIn ends a login: each failure is answered after a growing delay
// and the session ends after maxAuthFailures; a success counts against
// the user's sessions from this address, whether the mail is served here
// or by the upstream the session then splices to.
func (s *session) loggedIn(c *command, username string, l Login, err error) error {
	if errors.Is(err, ErrAuthFailed) {
		s.authFailures++
		s.log.Info("imap login failed", "username", username, "failures", s.authFailures)
		s.srv.authDelay(s.ctx, s.authFailures)
		return errNo("AUTHENTICATIONFAILED", "Authentication failed")
	}
	if err != nil {
		s.log.Warn("imap login backend error", "username", username, "err", err)
		return errNo("UNAVAILABLE", "Temporary authentication failure, try again later")
	}
	key, ok := s.srv.claimUserSession(s, l.User, remoteIP(s.c))
	if !ok {
		s.log.Info("imap login refused: too many sessions", "user", l.User)
		return errNo("LIMIT", "Too many sessions for this user from your address")
	}
	s.userKey, s.user = key, l.User
	caps := s.srv.registry.capabilities
	if l.Upstream != nil {
		upCaps, err := s.dialUpstream(l.Upstream) // proxy.go
		if err != nil {
			s.srv.releaseUserSession(s, key)
			s.userKey, s.user = "", ""
			return errNo("UNAVAILABLE", "Temporary authentication failure, try again later")
		}
		caps = func(*session) string { return upCaps }
	}
	s.store, s.state = l.Store, stateAuth
	c.ok("CAPABILITY "+caps(s), "Logged in")
	return nil
}

func remoteIP(c net.Conn) string {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	return c.RemoteAddr().String()
}

package pop3

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

// authCommands are the AUTHORIZATION state commands, plus CAPA and QUIT
// which are valid in both states.
var authCommands = map[string]commandSpec{
	"CAPA": {states: stateAuthorization | stateTransaction, handle: handleCapa},
	"USER": {states: stateAuthorization, handle: handleUser},
	"PASS": {states: stateAuthorization, handle: handlePass},
	"AUTH": {states: stateAuthorization, handle: handleAuth},
	"STLS": {states: stateAuthorization, handle: handleSTLS},
	"QUIT": {states: stateAuthorization | stateTransaction, handle: handleQuit},
}

// plaintextAuthAllowed: passwords only over TLS, from loopback, or when
// configured (Dovecot's disable_plaintext_auth, the same rule as IMAP).
func (s *session) plaintextAuthAllowed() bool {
	if s.isTLS || s.srv.opts.AllowInsecureAuth {
		return true
	}
	a, ok := s.conn().RemoteAddr().(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}

var errPlaintext = errReply("AUTH", "Plaintext authentication disallowed on non-secure (SSL/TLS) connections.")

// RFC 2449 §5. Capabilities that only make sense before login (USER,
// SASL, STLS) are listed only then; USER and SASL are hidden where
// plaintext authentication is refused, as Dovecot does.
func handleCapa(s *session, arg string) error {
	s.ok("Capability list follows")
	caps := []string{"TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE"}
	if s.state == stateAuthorization {
		if s.srv.opts.TLSConfig != nil && !s.isTLS {
			caps = append(caps, "STLS")
		}
		if s.plaintextAuthAllowed() {
			caps = append(caps, "USER", "SASL PLAIN")
		}
	}
	caps = append(caps, "IMPLEMENTATION Rookery")
	for _, c := range caps {
		s.writeLine("%s", c)
	}
	s.writeLine(".")
	return nil
}

// RFC 1939 §7 USER.
func handleUser(s *session, arg string) error {
	if !s.plaintextAuthAllowed() {
		return errPlaintext
	}
	if arg == "" {
		return errReply("", "No username given.")
	}
	s.userArg = arg
	s.ok("Send your password.")
	return nil
}

// RFC 1939 §7 PASS: the password is the rest of the line, spaces included.
func handlePass(s *session, arg string) error {
	if !s.plaintextAuthAllowed() {
		return errPlaintext
	}
	user := s.userArg
	s.userArg = "" // a failed PASS needs a new USER (RFC 1939 §7)
	if user == "" {
		return errReply("", "No username given.")
	}
	return s.login(user, arg)
}

// RFC 5034 AUTH with the PLAIN mechanism (RFC 4616), initial response or
// continuation. A bare "AUTH" lists the mechanisms, as Dovecot and many
// clients expect from the pre-RFC 5034 drafts.
func handleAuth(s *session, arg string) error {
	args := fields(arg)
	if len(args) == 0 {
		if !s.plaintextAuthAllowed() {
			return errPlaintext
		}
		s.ok("")
		s.writeLine("PLAIN")
		s.writeLine(".")
		return nil
	}
	if len(args) > 2 {
		return errReply("", "Invalid arguments.")
	}
	if !strings.EqualFold(args[0], "PLAIN") {
		return errReply("", "Unsupported authentication mechanism.")
	}
	if !s.plaintextAuthAllowed() && !s.fromClusterPeer() {
		return errPlaintext
	}
	var ir string
	if len(args) == 2 {
		ir = args[1]
	} else {
		s.writeLine("+ ")
		if err := s.bw.Flush(); err != nil {
			return err
		}
		line, err := netserve.ReadLine(s.br, maxSASLLine)
		if errors.Is(err, netserve.ErrLineTooLong) {
			return errReply("", "Response too long.")
		}
		if err != nil {
			return err
		}
		ir = string(line)
	}
	if ir == "*" {
		return errReply("", "Authentication aborted.") // RFC 5034 §4
	}
	var resp []byte
	if ir != "=" { // "=" is an empty initial response (RFC 5034 §4)
		var err error
		if resp, err = base64.StdEncoding.DecodeString(ir); err != nil {
			return errReply("", "Invalid base64 data.")
		}
	}
	var authzid, user, pass string
	srv := sasl.NewPlainServer(func(identity, username, password string) error {
		authzid, user, pass = identity, username, password
		return nil
	})
	// An empty response would make the mechanism ask for one again
	// (done=false); PLAIN has nothing more to ask, so that is malformed.
	if _, done, err := srv.Next(resp); err != nil || !done || len(resp) == 0 {
		return errReply("", "Malformed PLAIN response.")
	}
	if authzid != "" && authzid != user {
		if !s.fromClusterPeer() {
			return errReply("AUTH", "Authorization identity not permitted.")
		}
		return s.proxyLogin(authzid, user, pass) // proxy.go
	}
	if !s.plaintextAuthAllowed() { // a cluster peer's own users need TLS as anyone's
		return errPlaintext
	}
	return s.login(user, pass)
}

// RFC 2595 §4 STLS.
func handleSTLS(s *session, arg string) error {
	if arg != "" {
		return errReply("", "STLS takes no arguments.")
	}
	if s.srv.opts.TLSConfig == nil || s.isTLS {
		return errReply("", "TLS not available.")
	}
	// Anything the client sent after STLS was sent in clear text and must
	// not be executed inside TLS (CVE-2011-0411); the stream cannot be trusted.
	if s.br.Buffered() > 0 {
		s.quit = true
		return errReply("", "Data after STLS.")
	}
	s.ok("Begin TLS negotiation now.")
	if err := s.bw.Flush(); err != nil {
		return err
	}
	tc := tls.Server(s.conn(), s.srv.opts.TLSConfig)
	tc.SetDeadline(time.Now().Add(30 * time.Second))
	if err := tc.HandshakeContext(s.ctx); err != nil {
		s.log.Info("pop3 stls failed", "err", err)
		s.quit = true // the stream is unusable: no reply, just close
		return nil
	}
	tc.SetDeadline(time.Time{})
	s.mu.Lock()
	s.c = tc
	s.mu.Unlock()
	s.br = bufio.NewReader(tc)
	s.bw = bufio.NewWriterSize(tc, 32<<10)
	s.isTLS = true
	s.userArg = ""
	return nil
}

// login authenticates with the backend.
func (s *session) login(username, password string) error {
	l, err := s.srv.opts.Backend.Login(s.ctx, username, password, s.conn().RemoteAddr())
	return s.loggedIn(username, l, err)
}

// loggedIn ends a login: each failure is answered after a growing delay
// and the session ends after maxAuthFailures; a success takes the
// maildrop snapshot, or logs in to the node serving the user's mail and
// has the session splice to it.
func (s *session) loggedIn(username string, l Login, err error) error {
	if errors.Is(err, ErrAuthFailed) {
		s.authFailures++
		s.log.Info("pop3 login failed", "username", username, "failures", s.authFailures)
		s.srv.authDelay(s.ctx, s.authFailures)
		return errReply("AUTH", "Authentication failed.")
	}
	if err != nil {
		s.log.Warn("pop3 login backend error", "username", username, "err", err)
		return errReply("SYS/TEMP", "Temporary authentication failure, try again later.")
	}
	if l.Upstream != nil {
		// The back end locks the maildrop, if it is configured to.
		if err := s.dialUpstream(l); err != nil {
			return errReply("SYS/TEMP", "Temporary authentication failure, try again later.")
		}
		s.ok("Logged in.")
		return nil
	}
	if !s.srv.lock(l.User) {
		return errReply("IN-USE", "Mailbox is locked by another POP3 session.")
	}
	drop, err := loadMaildrop(s.ctx, l.Store, l.User)
	if err != nil {
		s.srv.unlock(l.User)
		s.log.Warn("pop3 load maildrop", "user", l.User, "err", err)
		return errReply("SYS/TEMP", "Mailbox not available, try again later.")
	}
	s.user, s.store, s.drop, s.locked, s.state = l.User, l.Store, drop, true, stateTransaction
	s.srv.track(s, s.user)
	s.ok("Logged in.")
	return nil
}

// RFC 1939 §6 QUIT: in TRANSACTION state it enters UPDATE and commits the
// deletions; in AUTHORIZATION state it just ends the session.
func handleQuit(s *session, arg string) error {
	s.quit = true
	if s.state != stateTransaction {
		s.ok("Logging out.")
		return nil
	}
	n, err := s.drop.commit(s.ctx, s.store, s.user)
	if err != nil {
		s.log.Warn("pop3 update failed", "user", s.user, "err", err)
		return errReply("SYS/TEMP", "Some deleted messages were not removed.")
	}
	s.deles = n
	if n > 0 {
		s.ok("Logging out, messages deleted.")
	} else {
		s.ok("Logging out.")
	}
	return nil
}

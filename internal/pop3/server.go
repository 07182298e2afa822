// Package pop3 is Rookery's POP3 server (RFC 1939) with CAPA and response
// codes (RFC 2449, RFC 3206), SASL PLAIN (RFC 5034) and STLS (RFC 2595),
// over a mailstore.Store. Dovecot is the reference for behaviour the RFCs
// leave open.
//
// Layout: server.go (lifecycle), session.go (one connection: read,
// dispatch, reply), parse.go (command syntax), maildrop.go (the INBOX
// snapshot a session works on), cmd_auth.go (AUTHORIZATION state),
// cmd_mail.go (TRANSACTION state), metrics.go.
package pop3

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"maps"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/netserve"
)

// Backend authenticates users and finds their mail (the shape of imap.Backend).
type Backend interface {
	// Login checks credentials and says where the user's mail is (Login).
	// It returns ErrAuthFailed for bad credentials; any other error is a temporary failure.
	Login(ctx context.Context, username, password string, remote net.Addr) (Login, error)
}

// Login is an authenticated user and where their mail is: in Store, served
// by this node (with the account present in it: mailstore.Store.EnsureAccount
// done), or on another node of a cluster, which Upstream logs in to (proxy.go).
type Login struct {
	User  string // canonical
	Store mailstore.Store
	// Upstream, set when Store is nil, connects to the node serving the
	// user's mail, passing on the client's address (client) and the one it
	// connected to (local), and logs in there as User.
	Upstream func(ctx context.Context, client, local net.Addr) (UpstreamConn, error)
}

// ErrAuthFailed is what Backend.Login returns for bad credentials.
var ErrAuthFailed = errors.New("pop3: authentication failed")

// Options configure a Server. Zero values get the documented defaults.
type Options struct {
	Hostname          string
	Backend           Backend
	TLSConfig         *tls.Config // enables STLS (and is what an implicit-TLS listener uses)
	AllowInsecureAuth bool        // plaintext USER/PASS/AUTH without TLS from non-loopback
	// IdleTimeout is the autologout timer; default 10 min, the minimum RFC 1939 §3 allows.
	IdleTimeout time.Duration
	// LockMaildrop refuses a second concurrent session of the same user on
	// this server with -ERR [IN-USE] (RFC 1939 §8, RFC 2449 §8.1.1). Off by
	// default, as Dovecot's pop3_lock_session: commits delete exact UIDs,
	// so concurrent sessions cannot corrupt each other.
	LockMaildrop bool
	Logger       *slog.Logger
	Registerer   prometheus.Registerer // may be nil
	// MaxSessionsPerIP bounds concurrent connections from one address
	// (default 100).
	MaxSessionsPerIP int
}

const (
	defaultIdle = 10 * time.Minute
	// maxLine bounds a command line. RFC 2449 §4 limits commands to 255
	// octets; we are lenient, as Dovecot is, but never buffer more.
	maxLine = 1024
	// maxSASLLine bounds a SASL response line (RFC 5034 §4 has no limit).
	maxSASLLine     = 8192
	maxAuthFailures = 3
	// maxBadCommands closes a session that keeps sending garbage (Dovecot: 20).
	maxBadCommands = 20
)

// Server serves POP3 sessions. Create it with NewServer.
type Server struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics

	// authDelay waits after a failed login; a test seam for time.
	authDelay func(ctx context.Context, failures int)

	conns    *netserve.Server
	mu       sync.Mutex          // guards locked and loggedIn
	locked   map[string]bool     // users with a session, when LockMaildrop
	loggedIn map[*session]string // session -> user, for Disconnect
	nextID   atomic.Uint64
}

// NewServer returns a server; it has no side effects besides registering
// metrics with opts.Registerer.
func NewServer(opts Options) *Server {
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = defaultIdle
	}
	if opts.Hostname == "" {
		opts.Hostname = "localhost"
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:    opts,
		log:     log, // the caller adds role=pop3
		metrics: newMetrics(opts.Registerer),
		locked:  make(map[string]bool),

		loggedIn: make(map[*session]string),
	}
	s.authDelay = netserve.AuthDelay
	perIP := opts.MaxSessionsPerIP
	if perIP == 0 {
		perIP = 100
	}
	s.conns = netserve.New(func(c net.Conn) netserve.Session { return netSession{newSession(s, c)} },
		netserve.Limits{PerIP: perIP, Refuse: func(c net.Conn) {
			c.Write([]byte("-ERR [SYS/TEMP] Too many connections from your address\r\n"))
		}})
	return s
}

// Serve accepts connections on l until Shutdown, then returns nil.
// Connections that are *tls.Conn start as TLS sessions (POP3S, RFC 8314).
// Serve may be called for several listeners.
func (s *Server) Serve(l net.Listener) error {
	if s.opts.Backend == nil {
		return errors.New("pop3: Options.Backend is required")
	}
	return s.conns.Serve(l)
}

// Shutdown stops accepting and ends every session at its next command
// without committing deletions (RFC 1939 §6: no UPDATE state without
// QUIT); when ctx ends first it closes the remaining connections.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.conns.Shutdown(ctx)
}

// Disconnect ends the sessions of the users match selects, without
// committing their deletions (as Shutdown): a local session is told
// "-ERR [SYS/TEMP]" and closed, a proxied one is closed (its back end is
// not ours to speak for). A cluster node calls it for the users of a
// store it no longer serves. It does not wait.
func (s *Server) Disconnect(match func(user string) bool) int {
	s.mu.Lock()
	sessions := maps.Clone(s.loggedIn)
	s.mu.Unlock()
	n := 0
	for sess, user := range sessions { // match may be slow (a directory lookup): no lock held
		if !match(user) {
			continue
		}
		n++
		sess.end("Mailbox not served here any more, reconnect.")
	}
	return n
}

// track records sess as logged in as user; "" forgets it.
func (s *Server) track(sess *session, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if user != "" {
		s.loggedIn[sess] = user
	} else {
		delete(s.loggedIn, sess)
	}
}

// lock claims user's maildrop when LockMaildrop is set.
func (s *Server) lock(user string) bool {
	if !s.opts.LockMaildrop {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locked[user] {
		return false
	}
	s.locked[user] = true
	return true
}

func (s *Server) unlock(user string) {
	if !s.opts.LockMaildrop {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.locked, user)
}

// netSession adapts a session to netserve's lifecycle.
type netSession struct{ *session }

func (n netSession) Serve()    { n.serve() }
func (n netSession) Shutdown() { n.shutdown() }
func (n netSession) Close()    { n.cancel(); n.conn().Close() }

// ReportForced logs the session a shutdown past its deadline closes.
func (n netSession) ReportForced() {
	n.log.Warn("pop3 session closed by forced shutdown", n.activity.LogAttrs()...)
}

var _ netserve.Reporter = netSession{}

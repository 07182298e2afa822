// Package imap is Rookery's IMAP4rev1 server (RFC 3501) over a mailstore.Store.
//
// Layout: server.go (lifecycle), session.go (one connection: read, dispatch,
// reply), reader.go and parser.go (wire syntax, literals, limits),
// selected.go (the selected mailbox and its sync with the store),
// registry.go (command table and CAPABILITY), and one cmd_*.go file per
// command or small group. An extension (CONDSTORE, QUOTA, ESEARCH, ...)
// is a new file declaring a feature — its capabilities and commands —
// plus one line in builtinFeatures.
package imap

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"maps"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/netserve"
)

// Backend authenticates users and finds their mail.
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
var ErrAuthFailed = errors.New("imap: authentication failed")

// Options configure a Server. Zero values get the documented defaults.
type Options struct {
	Hostname          string
	Backend           Backend
	TLSConfig         *tls.Config   // enables STARTTLS (and is what an implicit-TLS listener uses)
	AllowInsecureAuth bool          // plaintext LOGIN/AUTHENTICATE without TLS from non-loopback
	MaxLiteralSize    int64         // APPEND limit; default 50 MiB
	MaxLineLength     int           // default 64 KiB
	IdleTimeout       time.Duration // autologout, default 30 min
	// MaxSessionsPerIP bounds concurrent connections from one address
	// (default 100); MaxUserIPSessions bounds one user's sessions from one
	// address (default 10, Dovecot's mail_max_userip_connections).
	MaxSessionsPerIP, MaxUserIPSessions int
	// NoCompress stops offering COMPRESS=DEFLATE (RFC 4978).
	NoCompress bool
	// SpoolDir holds APPEND literals above 1 MiB while they are read, as
	// unlinked temporary files (default os.TempDir()); at most 16
	// maximal literals, and at least 1 GiB, are spooled at once.
	SpoolDir   string
	Logger     *slog.Logger
	Registerer prometheus.Registerer // may be nil
}

const (
	defaultMaxLiteral = 50 << 20
	defaultMaxLine    = 64 << 10
	defaultIdle       = 30 * time.Minute
	maxAuthFailures   = 3
)

// Server serves IMAP sessions. Create it with NewServer.
type Server struct {
	opts     Options
	log      *slog.Logger
	registry *registry
	metrics  *metrics
	// appendMem bounds the memory all sessions together hold for APPEND
	// literals up to spoolThreshold, which are buffered whole; spoolBudget
	// bounds the disk the larger, spooled ones take.
	appendMem, spoolBudget *byteBudget

	// authDelay waits after a failed login; a test seam for time.
	authDelay func(ctx context.Context, failures int)
	// watchPoll is how often a selected session re-checks the mailbox
	// even without a Watch signal (ARCHITECTURE §3: lost notifications
	// only delay).
	watchPoll time.Duration

	conns  *netserve.Server
	nextID atomic.Uint64

	userMu       sync.Mutex
	userSessions map[string]int      // "user|ip" -> logged-in sessions
	loggedIn     map[*session]string // session -> user, for Disconnect
}

// NewServer returns a server; it has no side effects besides registering
// metrics with opts.Registerer.
func NewServer(opts Options) *Server {
	if opts.MaxLiteralSize <= 0 {
		opts.MaxLiteralSize = defaultMaxLiteral
	}
	if opts.MaxLineLength <= 0 {
		opts.MaxLineLength = defaultMaxLine
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = defaultIdle
	}
	if opts.Hostname == "" {
		opts.Hostname = "localhost"
	}
	if opts.SpoolDir == "" {
		opts.SpoolDir = os.TempDir()
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:        opts,
		log:         log, // the caller adds role=imap
		registry:    newRegistry(features(opts)),
		metrics:     newMetrics(opts.Registerer),
		appendMem:   &byteBudget{limit: max(4*opts.MaxLiteralSize, 256<<20)},
		spoolBudget: &byteBudget{limit: max(16*opts.MaxLiteralSize, minSpoolBudget)},
		watchPoll:   30 * time.Second,
	}
	s.authDelay = netserve.AuthDelay
	if opts.MaxSessionsPerIP == 0 {
		opts.MaxSessionsPerIP = 100
	}
	if opts.MaxUserIPSessions == 0 {
		opts.MaxUserIPSessions = 10
	}
	s.opts = opts
	s.userSessions = map[string]int{}
	s.loggedIn = map[*session]string{}
	s.conns = netserve.New(func(c net.Conn) netserve.Session { return netSession{newSession(s, c)} },
		netserve.Limits{PerIP: opts.MaxSessionsPerIP, Refuse: func(c net.Conn) {
			c.Write([]byte("* BYE [UNAVAILABLE] Too many connections from your address\r\n"))
		}})
	return s
}

// Serve accepts connections on l until Shutdown, then returns nil (as
// mx.Server does). Connections that are *tls.Conn start as TLS sessions
// (IMAPS, RFC 8314). Serve may be called for several listeners.
func (s *Server) Serve(l net.Listener) error {
	if s.opts.Backend == nil {
		return errors.New("imap: Options.Backend is required")
	}
	return s.conns.Serve(l)
}

// Shutdown stops accepting, sends "* BYE" to every session and waits for
// them to end; when ctx ends first it closes the remaining connections.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.conns.Shutdown(ctx)
}

// features are the builtin ones plus those the options turn on.
func features(opts Options) []*feature {
	fs := builtinFeatures
	if !opts.NoCompress {
		fs = append(slices.Clip(fs), &compressFeature)
	}
	return fs
}

// netSession adapts a session to netserve's lifecycle.
type netSession struct{ *session }

func (n netSession) Serve()    { n.serve() }
func (n netSession) Shutdown() { n.shutdown() }
func (n netSession) Close()    { n.cancel(); n.conn().Close() }

// ReportForced logs the session a shutdown past its deadline closes.
func (n netSession) ReportForced() {
	n.log.Warn("imap session closed by forced shutdown", n.activity.LogAttrs()...)
}

// claimUserSession counts sess's login of user from ip (key "user|ip");
// false when the user already has MaxUserIPSessions sessions from there.
func (s *Server) claimUserSession(sess *session, user, ip string) (key string, ok bool) {
	key = user + "|" + ip
	s.userMu.Lock()
	defer s.userMu.Unlock()
	if s.userSessions[key] >= s.opts.MaxUserIPSessions {
		return "", false
	}
	s.userSessions[key]++
	s.loggedIn[sess] = user
	return key, true
}

func (s *Server) releaseUserSession(sess *session, key string) {
	s.userMu.Lock()
	defer s.userMu.Unlock()
	if s.userSessions[key]--; s.userSessions[key] <= 0 {
		delete(s.userSessions, key)
	}
	delete(s.loggedIn, sess)
}

// Disconnect ends the sessions of the users match selects: a local session
// gets "* BYE [UNAVAILABLE]" between responses and ends, a proxied one is
// closed (its back end is not ours to speak for). A cluster node calls it
// for the users of a store it no longer serves, so that their clients
// reconnect and are routed to the new serving node. It does not wait.
func (s *Server) Disconnect(match func(user string) bool) int {
	s.userMu.Lock()
	sessions := maps.Clone(s.loggedIn)
	s.userMu.Unlock()
	n := 0
	for sess, user := range sessions { // match may be slow (a directory lookup): no lock held
		if !match(user) {
			continue
		}
		n++
		sess.end("* BYE [UNAVAILABLE] Mailbox not served here any more, reconnect\r\n")
	}
	return n
}

var _ netserve.Reporter = netSession{}

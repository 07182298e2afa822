package imap

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/netserve"
)

// session is one client connection. Only its own goroutine reads and
// executes commands; Shutdown may write "* BYE" concurrently, which is why
// writes go through mu and each response is written whole.
type session struct {
	srv   *Server
	id    uint64
	log   *slog.Logger
	start time.Time
	// ctx ends with the session: at its end, at a forced shutdown, or
	// when the client hangs up during a command (cancel).
	ctx    context.Context
	cancel context.CancelFunc
	// activity is what a forced shutdown logs (netserve.Reporter).
	activity netserve.Activity

	mu      sync.Mutex // guards c, bw and closing
	c       net.Conn
	bw      *bufio.Writer
	closing bool

	br *bufio.Reader // used by the session goroutine only

	isTLS        bool
	state        connState
	user         string
	userKey      string // "user|ip" counted against MaxUserIPSessions
	store        mailstore.Store
	sel          *selected
	authFailures int
	utf8         bool // UTF8=ACCEPT enabled: mailbox names are UTF-8 (RFC 6855)
	rev2         bool // IMAP4rev2 enabled (RFC 9051 §6.3.1)
	// condstore: a CONDSTORE-enabling command was seen (RFC 7162 §3.1);
	// qresync: ENABLE QRESYNC (RFC 7162 §3.2.3), which implies condstore.
	condstore bool
	qresync   bool
	// searchRes is the saved SEARCH result, ascending UIDs (RFC 5182).
	searchRes []uint32
	commands  int
	logout    bool
	// held is what the command being read or run holds of the server's
	// APPEND memory budget; spool holds its large literals (spool.go).
	held  int64
	spool *spooler
	// deflate: COMPRESS=DEFLATE is active on br and bw (RFC 4978, compress.go).
	deflate bool
	// updates are the live SEARCH RETURN (UPDATE) searches (searchupdate.go).
	updates []*searchUpdate
	// notify is the active NOTIFY SET (notify.go), or nil.
	notify *notifyState
	// up is the back end a proxied session splices to (proxy.go), set
	// under mu; upNode names it in logs.
	up     net.Conn
	upNode string
}

func newSession(srv *Server, c net.Conn) *session {
	s := &session{
		srv:   srv,
		id:    srv.nextID.Add(1),
		start: time.Now(),
		c:     c,
		bw:    bufio.NewWriter(c),
		br:    bufio.NewReader(c),
		state: stateNotAuth,
		spool: &spooler{dir: srv.opts.SpoolDir, budget: srv.spoolBudget},
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	_, s.isTLS = c.(*tls.Conn)
	s.log = srv.log.With("conn", s.id, "remote", c.RemoteAddr().String())
	return s
}

func (s *session) conn() net.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c
}

// shutdown is called by Server.Shutdown from another goroutine.
func (s *session) shutdown() { s.end("* BYE [UNAVAILABLE] Server shutting down\r\n") }

// end makes the session end at its next opportunity, after bye (a whole
// response) when it serves the mail itself; a proxied session's back end
// is closed instead, which ends the splice. Called from other goroutines.
func (s *session) end(bye string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	s.closing = true
	if s.up != nil {
		s.up.Close()
		return
	}
	s.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(s.bw, bye)
	s.bw.Flush()
	s.c.SetReadDeadline(time.Now()) // wakes the reader
}

func (s *session) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// armDeadline arms the autologout timer, and bounds how long a client
// that stops reading can hold the session, unless the session is closing.
func (s *session) armDeadline(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closing {
		s.c.SetDeadline(time.Now().Add(d))
	}
}

// write sends one complete response (CRLF included).
func (s *session) write(b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv.log.Enabled(s.ctx, slog.LevelDebug) {
		s.log.Debug("imap S", "line", traceOut(b))
	}
	_, err := s.bw.Write(b)
	return err
}

func (s *session) writef(format string, args ...any) error {
	return s.write(fmt.Appendf(nil, format+"\r\n", args...))
}

func (s *session) flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bw.Flush()
}

func (s *session) limits() commandLimits {
	return commandLimits{
		maxLine:    s.srv.opts.MaxLineLength,
		maxLiteral: s.srv.opts.MaxLiteralSize,
		reserve: func(n int64) bool {
			if !s.srv.appendMem.reserve(n) {
				return false
			}
			s.held += n
			return true
		},
		spool: s.spool,
	}
}

// releaseHeld returns the command's APPEND memory and spool files to the
// server budgets.
func (s *session) releaseHeld() {
	s.srv.appendMem.release(s.held)
	s.held = 0
	s.spool.release()
}

func (s *session) continuation(text string) error {
	if err := s.writef("+ %s", text); err != nil {
		return err
	}
	return s.flush()
}

// serve runs the session until logout, error or shutdown, then logs one line.
func (s *session) serve() {
	defer s.cancel()
	m := s.srv.metrics
	m.sessionsOpen.Inc()
	defer m.sessionsOpen.Dec()

	outcome := "logout"
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("imap session panic", "panic", v, "stack", string(debug.Stack()))
			outcome = "panic"
			s.writef("* BYE [SERVERBUG] Internal error")
			s.flush()
		}
		s.releaseHeld() // after a panic in a command
		s.closeSelected()
		s.stopNotify()
		s.conn().Close()
		if s.userKey != "" {
			s.srv.releaseUserSession(s, s.userKey)
		}
		attrs := []any{"user", s.user, "duration", time.Since(s.start).Round(time.Millisecond),
			"commands", s.commands, "outcome", outcome}
		if s.upNode != "" {
			attrs = append(attrs, "backend", s.upNode)
		}
		s.log.Info("imap session end", attrs...)
	}()
	outcome = s.run()
}

func (s *session) run() (outcome string) {
	if tc, ok := s.c.(*tls.Conn); ok {
		s.c.SetDeadline(time.Now().Add(30 * time.Second))
		if err := tc.HandshakeContext(s.ctx); err != nil {
			return "tls handshake failed"
		}
		s.c.SetDeadline(time.Time{})
	}
	s.writef("* OK [CAPABILITY %s] %s Rookery IMAP ready", s.srv.registry.capabilities(s), s.srv.opts.Hostname)
	if err := s.flush(); err != nil {
		return "write error"
	}
	for {
		if s.isClosing() {
			return "shutdown"
		}
		s.armDeadline(s.srv.opts.IdleTimeout)
		if s.notify != nil {
			s.waitNotify() // RFC 5465: events arrive between commands
		}
		raw, err := readCommand(s.br, s.limits(), func() error { return s.continuation("Ready for literal data") })
		if err != nil {
			s.releaseHeld()
		}
		var ce *commandError
		switch {
		case errors.As(err, &ce):
			s.srv.metrics.commands.WithLabelValues("invalid", strings.ToLower(ce.kind)).Inc()
			if ce.cause != nil {
				s.log.Warn("imap command refused", "user", s.user, "code", ce.code, "err", ce.cause)
			}
			code := ""
			if ce.code != "" {
				code = "[" + ce.code + "] "
			}
			s.writef("%s %s %s%s", ce.tag, ce.kind, code, ce.text)
			if ce.fatal {
				s.writef("* BYE Protocol error")
				s.flush()
				return "protocol error"
			}
			if err := s.flush(); err != nil {
				return "write error"
			}
			continue
		case err != nil:
			if s.isClosing() {
				return "shutdown"
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				s.conn().SetWriteDeadline(time.Now().Add(5 * time.Second))
				s.writef("* BYE Autologout; idle for too long")
				s.flush()
				return "autologout"
			}
			if errors.Is(err, io.EOF) {
				return "client closed"
			}
			return "read error"
		}
		s.commands++
		s.handle(raw)
		raw = nil
		s.releaseHeld()
		if err := s.flush(); err != nil {
			return "write error"
		}
		if s.logout {
			return "logout"
		}
		if s.up != nil {
			return s.splice()
		}
		if s.authFailures >= maxAuthFailures {
			s.writef("* BYE Too many authentication failures")
			s.flush()
			return "auth failures"
		}
	}
}

// command is one command being executed.
type command struct {
	tag  string
	name string
	uid  bool // UID FETCH etc.: numbers are UIDs
	p    *parser

	// okCode and okText override the tagged OK ("OK [code] text").
	okCode string
	okText string
}

func (c *command) ok(code, text string) { c.okCode, c.okText = code, text }

func (s *session) handle(raw []byte) {
	p := &parser{b: raw, spooled: s.spool.lits}
	tag, name, err := parseCommandHead(p)
	if s.srv.log.Enabled(s.ctx, slog.LevelDebug) {
		s.log.Debug("imap C", "line", traceIn(raw, name))
	}
	if err != nil {
		if tag == "" {
			tag = "*"
		}
		s.writef("%s BAD %s", tag, err)
		s.srv.metrics.commands.WithLabelValues("invalid", "bad").Inc()
		return
	}
	spec, ok := s.srv.registry.lookup(name)
	if !ok {
		s.writef("%s BAD Unknown command", tag)
		s.srv.metrics.commands.WithLabelValues("unknown", "bad").Inc()
		return
	}
	s.activity.Set(s.user, name)
	defer func() { s.activity.Set(s.user, "") }() // s.user as the command leaves it
	c := &command{tag: tag, name: name, uid: strings.HasPrefix(name, "UID "), p: p}
	if s.state&spec.states == 0 {
		s.finish(c, errBad("", "Command not allowed in this state"))
		return
	}
	if !spec.readsClient {
		// A client that hangs up mid-command gets its work cancelled,
		// not run to the end (issue #8: a LIST spun on after the client left).
		stop := netserve.WatchHangup(s.conn(), s.cancel)
		defer stop()
	}
	err = spec.handle(s, c)
	if err == nil && s.sel != nil && !s.logout {
		// RFC 3501 §7.4.1 / §5.2: report mailbox changes before the tagged OK.
		err = s.syncAll(!spec.noExpunge || c.uid) // searchupdate.go
	}
	s.finish(c, err)
}

// finish writes the tagged response for c.
func (s *session) finish(c *command, err error) {
	result := "ok"
	if errors.Is(err, errNoReply) {
		s.srv.metrics.commands.WithLabelValues(c.name, result).Inc()
		return
	}
	if err != nil {
		ie := s.respError(err)
		result = strings.ToLower(ie.kind)
		code := ""
		if ie.code != "" {
			code = "[" + ie.code + "] "
		}
		s.writef("%s %s %s%s", c.tag, ie.kind, code, ie.text)
	} else {
		text := c.okText
		if text == "" {
			text = c.name + " completed"
		}
		code := ""
		if c.okCode != "" {
			code = "[" + c.okCode + "] "
		}
		s.writef("%s OK %s%s", c.tag, code, text)
	}
	s.srv.metrics.commands.WithLabelValues(c.name, result).Inc()
}

// traceIn is a command line for the debug trace: credentials redacted,
// long literals elided.
func traceIn(raw []byte, name string) string {
	switch name {
	case "LOGIN", "AUTHENTICATE":
		f := strings.SplitN(string(raw), " ", 3)
		return strings.Join(f[:min(2, len(f))], " ") + " <redacted>"
	}
	if len(raw) > 200 {
		return fmt.Sprintf("%s... (%d bytes)", raw[:200], len(raw))
	}
	return string(raw)
}

func traceOut(b []byte) string {
	if len(b) > 200 {
		return fmt.Sprintf("%s... (%d bytes)", b[:200], len(b))
	}
	return strings.TrimRight(string(b), "\r\n")
}

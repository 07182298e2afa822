package pop3

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
	"sync"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/netserve"
)

// state is the RFC 1939 §3 session state; UPDATE is the tail of QUIT.
type state int

const (
	stateAuthorization state = 1 << iota
	stateTransaction
)

// session is one client connection. Only its own goroutine reads, runs
// commands and writes; Shutdown only flags it and wakes the reader, so
// no lock is held while a large message is sent.
type session struct {
	srv   *Server
	id    uint64
	log   *slog.Logger
	start time.Time
	// ctx ends with the session or when a forced shutdown closes it.
	ctx    context.Context
	cancel context.CancelFunc
	// activity is what a forced shutdown logs (netserve.Reporter).
	activity netserve.Activity

	mu      sync.Mutex // guards c (swapped by STLS), closing, bye and up
	c       net.Conn
	closing bool
	bye     string // the -ERR text that ends a closing session
	// up is the back end a proxied session splices to (proxy.go); upNode
	// names it in logs.
	up     net.Conn
	upNode string

	br *bufio.Reader
	bw *bufio.Writer

	isTLS        bool
	state        state
	userArg      string // from USER, waiting for PASS
	user         string
	store        mailstore.Store
	drop         *maildrop
	locked       bool
	authFailures int
	bad          int
	quit         bool

	// Counters for the session-end log line.
	commands, retrs, deles int
	bytes                  int64
}

// popError is a -ERR reply: an RFC 2449 §8 / RFC 3206 response code
// (without brackets, may be empty) and a text safe to show the client.
type popError struct {
	code, text string
}

func (e *popError) Error() string { return e.text }

func errReply(code, text string) error { return &popError{code, text} }

func newSession(srv *Server, c net.Conn) *session {
	s := &session{
		srv:   srv,
		id:    srv.nextID.Add(1),
		start: time.Now(),
		c:     c,
		br:    bufio.NewReader(c),
		bw:    bufio.NewWriterSize(c, 32<<10),
		state: stateAuthorization,
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

// shutdown is called by Server.Shutdown from another goroutine: the
// session notices at its next read and ends without committing.
func (s *session) shutdown() { s.end("Server shutting down.") }

// end makes the session end at its next read with "-ERR [SYS/TEMP] bye",
// without committing; a proxied session's back end is closed instead,
// which ends the splice. Called from other goroutines.
func (s *session) end(bye string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	s.closing, s.bye = true, bye
	if s.up != nil {
		s.up.Close()
		return
	}
	s.c.SetReadDeadline(time.Now())
}

func (s *session) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// armDeadline arms the autologout timer, which also bounds how long a
// client that stops reading can hold the session, unless it is closing.
func (s *session) armDeadline(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closing {
		s.c.SetDeadline(time.Now().Add(d))
	}
}

// writeLine buffers one reply line; CRLF is added.
func (s *session) writeLine(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if s.srv.log.Enabled(s.ctx, slog.LevelDebug) {
		s.log.Debug("pop3 S", "line", line)
	}
	s.bw.WriteString(line)
	s.bw.WriteString("\r\n")
}

func (s *session) ok(format string, args ...any) {
	if format == "" {
		s.writeLine("+OK")
		return
	}
	s.writeLine("+OK "+format, args...)
}

func (s *session) writeErr(e *popError) {
	if e.code != "" {
		s.writeLine("-ERR [%s] %s", e.code, e.text)
		return
	}
	s.writeLine("-ERR %s", e.text)
}

// serve runs the session until QUIT, error or shutdown, then logs one line.
func (s *session) serve() {
	defer s.cancel()
	m := s.srv.metrics
	m.sessionsOpen.Inc()
	defer m.sessionsOpen.Dec()

	outcome := "quit"
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("pop3 session panic", "panic", v, "stack", string(debug.Stack()))
			outcome = "panic"
			s.writeLine("-ERR [SYS/TEMP] Internal error")
			s.bw.Flush()
		}
		if s.locked {
			s.srv.unlock(s.user)
		}
		if s.user != "" {
			s.srv.track(s, "")
		}
		s.conn().Close()
		attrs := []any{"user", s.user, "duration", time.Since(s.start).Round(time.Millisecond),
			"commands", s.commands, "retr", s.retrs, "dele", s.deles, "bytes", s.bytes, "outcome", outcome}
		if s.upNode != "" {
			attrs = append(attrs, "backend", s.upNode)
		}
		s.log.Info("pop3 session end", attrs...)
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
	s.ok("%s Rookery POP3 ready.", s.srv.opts.Hostname)
	if err := s.bw.Flush(); err != nil {
		return "write error"
	}
	for {
		if s.isClosing() {
			s.conn().SetWriteDeadline(time.Now().Add(5 * time.Second))
			s.mu.Lock()
			bye := s.bye
			s.mu.Unlock()
			s.writeErr(&popError{"SYS/TEMP", bye})
			s.bw.Flush()
			return "shutdown"
		}
		s.armDeadline(s.srv.opts.IdleTimeout)
		line, err := netserve.ReadLine(s.br, maxLine)
		switch {
		case errors.Is(err, netserve.ErrLineTooLong):
			s.bad++
			s.srv.metrics.commands.WithLabelValues("invalid", "err").Inc()
			s.writeErr(&popError{"", "Line too long."})
		case err != nil:
			if s.isClosing() {
				continue // answered at the top of the loop
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				s.conn().SetWriteDeadline(time.Now().Add(5 * time.Second))
				s.writeErr(&popError{"", "Disconnected for inactivity."})
				s.bw.Flush()
				return "autologout"
			}
			if errors.Is(err, io.EOF) {
				return "client closed"
			}
			return "read error"
		default:
			s.commands++
			s.handle(line)
		}
		// RFC 2449 §6.6 PIPELINING: answer a batch of commands in one write.
		if s.br.Buffered() == 0 || s.quit {
			if err := s.bw.Flush(); err != nil {
				return "write error"
			}
		}
		switch {
		case s.up != nil:
			return s.splice()
		case s.quit:
			return "quit"
		case s.authFailures >= maxAuthFailures:
			s.bw.Flush()
			return "auth failures"
		case s.bad >= maxBadCommands:
			s.writeErr(&popError{"", "Too many bad commands."})
			s.bw.Flush()
			return "bad commands"
		}
	}
}

// handle parses and runs one command and writes its reply; it maps
// errors to replies in this one place.
func (s *session) handle(line []byte) {
	cmd, err := parseCommand(line)
	if err != nil {
		s.bad++
		s.srv.metrics.commands.WithLabelValues("invalid", "err").Inc()
		s.writeErr(&popError{"", "Unknown command."})
		return
	}
	if s.srv.log.Enabled(s.ctx, slog.LevelDebug) {
		arg := cmd.arg
		if cmd.name == "PASS" || cmd.name == "AUTH" && len(fields(arg)) > 1 {
			arg = "<redacted>"
		}
		s.log.Debug("pop3 C", "command", cmd.name, "arg", arg)
	}
	s.activity.Set(s.user, cmd.name)
	defer func() { s.activity.Set(s.user, "") }() // s.user as the command leaves it
	spec, known := commands[cmd.name]
	label := cmd.name
	switch {
	case !known:
		label, err = "unknown", &popError{"", "Unknown command."}
		s.bad++
	case spec.states&s.state == 0:
		err = &popError{"", "Command not allowed in this state."}
		s.bad++
	default:
		err = spec.handle(s, cmd.arg)
	}
	result := "ok"
	if err != nil {
		result = "err"
		var pe *popError
		if !errors.As(err, &pe) {
			s.log.Warn("pop3 command failed", "command", cmd.name, "user", s.user, "err", err)
			pe = &popError{"SYS/TEMP", "Temporary failure, try again later."}
		}
		s.writeErr(pe)
	}
	s.srv.metrics.commands.WithLabelValues(label, result).Inc()
}

// commandSpec says in which states a command is valid and what runs it.
// A handler writes its +OK reply itself and returns nil, or returns an
// error that handle turns into the -ERR reply.
type commandSpec struct {
	states state
	handle func(s *session, arg string) error
}

// commands is the command table, merged from the cmd_*.go files' tables.
var commands = mergeCommands(authCommands, mailCommands)

func mergeCommands(tables ...map[string]commandSpec) map[string]commandSpec {
	out := map[string]commandSpec{}
	for _, t := range tables {
		for k, v := range t {
			out[k] = v
		}
	}
	return out
}

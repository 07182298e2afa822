// Package netserve is the connection lifecycle the line protocols (IMAP,
// POP3) share: accept on several listeners, one goroutine per session,
// and a graceful shutdown that asks each session to finish (BYE) before it
// forces connections closed. Its Limiter, which bounds connections per
// address and in total, also guards the SMTP listeners.
package netserve

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// Session is one accepted connection. Creating one must not do I/O: an
// over-limit connection's session is dropped unstarted.
type Session interface {
	// Serve runs the session until the connection ends.
	Serve()
	// Shutdown asks the session to end at its next opportunity.
	Shutdown()
	// Close ends the connection now.
	Close()
}

// Limits bound what one client address can take.
type Limits struct {
	// PerIP is the most concurrent connections from one IP address; 0
	// means no limit. Past it, Refuse gets the connection (to say why in
	// the protocol's words) and it is closed.
	PerIP  int
	Refuse func(net.Conn)
}

// Server tracks listeners and sessions.
type Server struct {
	newSession func(net.Conn) Session
	limits     Limits
	limiter    *Limiter

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[Session]struct{}
	closing   bool
	wg        sync.WaitGroup
}

// New returns a server that runs newSession for each connection.
func New(newSession func(net.Conn) Session, limits Limits) *Server {
	return &Server{newSession: newSession, limits: limits, limiter: NewLimiter(limits.PerIP, 0),
		listeners: map[net.Listener]struct{}{}, sessions: map[Session]struct{}{}}
}

// Serve accepts connections on l until Shutdown, then returns nil. It may
// be called for several listeners; temporary accept errors back off.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		l.Close()
		return nil
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if s.isClosing() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		ip := IPOf(c)
		if !s.limiter.Acquire(ip) {
			refuse(c, s.limits.Refuse)
			continue
		}
		sess := s.newSession(c) // construction only: no I/O
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			s.limiter.Release(ip)
			c.Close()
			return nil
		}
		s.sessions[sess] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			sess.Serve()
			s.mu.Lock()
			delete(s.sessions, sess)
			s.mu.Unlock()
			s.limiter.Release(ip)
		}()
	}
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// Shutdown stops accepting, asks every session to end and waits for them;
// when ctx ends first it closes the remaining connections, logs what they
// were doing (Reporter) and returns within forceGrace even if a session
// does not (force.go).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for l := range s.listeners {
		l.Close()
	}
	sessions := make([]Session, 0, len(s.sessions))
	for sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	s.mu.Unlock()
	for _, sess := range sessions {
		sess.Shutdown()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return s.force(done, ctx.Err())
	}
}

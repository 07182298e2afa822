// Package netserve is the connection lifecycle the line protocols (IMAP,
// POP3) share: accept on several listeners, one goroutine per session,
// and a graceful shutdown that asks each session to finish (BYE) before it
// forces connections closed.
package netserve

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// Session is one accepted connection.
type Session interface {
	// Serve runs the session until the connection ends.
	Serve()
	// Shutdown asks the session to end at its next opportunity.
	Shutdown()
	// Close ends the connection now.
	Close()
}

// Server tracks listeners and sessions.
type Server struct {
	newSession func(net.Conn) Session

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[Session]struct{}
	closing   bool
	wg        sync.WaitGroup
}

// New returns a server that runs newSession for each connection.
func New(newSession func(net.Conn) Session) *Server {
	return &Server{newSession: newSession, listeners: map[net.Listener]struct{}{}, sessions: map[Session]struct{}{}}
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
		sess := s.newSession(c)
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
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
		}()
	}
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// Shutdown stops accepting, asks every session to end and waits for them;
// when ctx ends first it closes the remaining connections.
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
		for _, sess := range sessions {
			sess.Close()
		}
		<-done
		return ctx.Err()
	}
}

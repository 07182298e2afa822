package netserve

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// idle is a session that waits until asked to stop, like an IMAP session
// in IDLE; stubborn ignores the request, like a client that never reads.
type idle struct {
	c        net.Conn
	stop     chan struct{}
	stubborn bool
	ended    *atomic.Int32
}

func (s *idle) Serve() {
	buf := make([]byte, 1)
	go func() { <-s.stop; s.c.Close() }()
	s.c.Read(buf) // returns when the connection closes
	s.ended.Add(1)
}
func (s *idle) Shutdown() {
	if !s.stubborn {
		close(s.stop)
	}
}
func (s *idle) Close() { s.c.Close() }

func start(t *testing.T, stubborn bool) (*Server, string, *atomic.Int32) {
	ended := &atomic.Int32{}
	srv := New(func(c net.Conn) Session {
		return &idle{c: c, stop: make(chan struct{}), stubborn: stubborn, ended: ended}
	}, Limits{PerIP: 3, Refuse: func(c net.Conn) { c.Write([]byte("too many\n")) }})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		if err := <-served; err != nil {
			t.Errorf("Serve after Shutdown: %v", err)
		}
	})
	return srv, l.Addr().String(), ended
}

func dialN(t *testing.T, addr string, n int) {
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
}

func TestShutdownAsksSessionsToEnd(t *testing.T) {
	srv, addr, ended := start(t, false)
	dialN(t, addr, 3)
	deadline := time.Now().Add(5 * time.Second)
	for {
		srv.mu.Lock()
		n := len(srv.sessions)
		srv.mu.Unlock()
		if n == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ended.Load() != 3 {
		t.Fatalf("%d sessions ended, want 3", ended.Load())
	}
}

func TestShutdownForcesStubbornSessions(t *testing.T) {
	srv, addr, ended := start(t, true)
	dialN(t, addr, 2)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		srv.mu.Lock()
		n := len(srv.sessions)
		srv.mu.Unlock()
		if n == 2 || time.Now().After(deadline) {
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Shutdown = %v, want DeadlineExceeded", err)
	}
	if ended.Load() != 2 {
		t.Fatalf("%d sessions ended, want 2 (forced)", ended.Load())
	}
}

func TestPerIPLimitRefusesAndRecovers(t *testing.T) {
	srv, addr, _ := start(t, false)
	var conns []net.Conn
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		srv.mu.Lock()
		n := len(srv.sessions)
		srv.mu.Unlock()
		if n == 3 || time.Now().After(deadline) {
			break
		}
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, _ := c.Read(buf)
	if string(buf[:n]) != "too many\n" {
		t.Fatalf("fourth connection got %q, want the refusal", buf[:n])
	}
	c.Close()
	// A session that ends frees its slot.
	conns[0].Close()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if n := srv.limiter.count("127.0.0.1"); n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("perIP count %d after a close, want 2", srv.limiter.count("127.0.0.1"))
		}
	}
	for _, c := range conns[1:] {
		c.Close()
	}
	srv.Shutdown(context.Background())
}

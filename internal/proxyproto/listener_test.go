package proxyproto

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer collects log output written from handshake goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fixture struct {
	ln       net.Listener
	logs     *syncBuffer
	accepted chan net.Conn
}

// listen wraps a real TCP listener on 127.0.0.1 that trusts the given prefix.
func listen(t *testing.T, trusted string, timeout time.Duration) *fixture {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ln := NewListener(inner, Options{
		Trusted:       []netip.Prefix{netip.MustParsePrefix(trusted)},
		HeaderTimeout: timeout,
		Logger:        slog.New(slog.NewTextHandler(io.MultiWriter(logs, t.Output()), nil)),
	})
	f := &fixture{ln: ln, logs: logs, accepted: make(chan net.Conn, 16)}
	// Accept in a loop, as a server does, so the listener handles
	// connections while the test is busy with a client.
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.accepted <- c
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return f
}

func (f *fixture) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", f.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// accept returns the next accepted connection, failing after within.
func (f *fixture) accept(t *testing.T, within time.Duration) net.Conn {
	t.Helper()
	select {
	case c := <-f.accepted:
		t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(within):
		t.Fatalf("Accept did not return within %v", within)
		return nil
	}
}

func write(t *testing.T, c net.Conn, b []byte) {
	t.Helper()
	if _, err := c.Write(b); err != nil {
		t.Fatalf("client write: %v", err)
	}
}

// readN reads exactly n bytes from c or fails.
func readN(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	return b
}

// expectClosed checks that the server closed c without sending anything.
func expectClosed(t *testing.T, c net.Conn, within time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(within))
	n, err := c.Read(make([]byte, 1))
	var ne net.Error
	if n != 0 || err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("client read = %d, %v; want the server to close", n, err)
	}
}

func TestListenerTrustedHeaders(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hdr   []byte
		local bool // the conn keeps its real addresses
	}{
		{"v1 tcp4", v1Header(h4), false},
		{"v1 tcp6", v1Header(h6), false},
		{"v1 unknown", v1Header(header{Local: true}), true},
		{"v2 tcp4", v2Header(h4, nil), false},
		{"v2 tcp6 with tlv", v2Header(h6, []byte{0x04, 0x00, 0x02, 'h', 'i'}), false},
		{"v2 local", v2Header(header{Local: true}, nil), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := listen(t, "127.0.0.0/8", 5*time.Second)
			c := f.dial(t)
			// Header and a command in one write: the command must survive.
			write(t, c, append(append([]byte(nil), tc.hdr...), "EHLO client.example\r\n"...))
			s := f.accept(t, 5*time.Second)

			wantRemote, wantLocal := c.LocalAddr().String(), c.RemoteAddr().String()
			if !tc.local {
				h, _, _ := parseHeader(tc.hdr)
				wantRemote, wantLocal = h.Src.String(), h.Dst.String()
			}
			if got := s.RemoteAddr().String(); got != wantRemote {
				t.Errorf("RemoteAddr = %s, want %s", got, wantRemote)
			}
			if got := s.LocalAddr().String(); got != wantLocal {
				t.Errorf("LocalAddr = %s, want %s", got, wantLocal)
			}
			if got := string(readN(t, s, len("EHLO client.example\r\n"))); got != "EHLO client.example\r\n" {
				t.Errorf("data after header = %q", got)
			}
			// The conn still works both ways after the buffered bytes are drained.
			write(t, s, []byte("250 ok\r\n"))
			if got := string(readN(t, c, 8)); got != "250 ok\r\n" {
				t.Errorf("client got %q", got)
			}
			write(t, c, []byte("QUIT\r\n"))
			if got := string(readN(t, s, 6)); got != "QUIT\r\n" {
				t.Errorf("server got %q", got)
			}
		})
	}
}

func TestListenerLargeDataAfterHeader(t *testing.T) {
	f := listen(t, "127.0.0.0/8", 5*time.Second)
	c := f.dial(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16)
	go c.Write(append(v2Header(h4, nil), data...))
	s := f.accept(t, 5*time.Second)
	if got := readN(t, s, len(data)); !bytes.Equal(got, data) {
		t.Fatal("64 KiB after the header arrived altered")
	}
}

func TestListenerHeaderSplitAcrossWrites(t *testing.T) {
	for name, hdr := range map[string][]byte{"v1": v1Header(h6), "v2": v2Header(h6, nil)} {
		t.Run(name, func(t *testing.T) {
			f := listen(t, "127.0.0.0/8", 5*time.Second)
			c := f.dial(t)
			go func() {
				for i := range hdr {
					c.Write(hdr[i : i+1])
					time.Sleep(2 * time.Millisecond)
				}
				c.Write([]byte("a1 NOOP\r\n"))
			}()
			s := f.accept(t, 5*time.Second)
			if got := s.RemoteAddr().String(); got != h6.Src.String() {
				t.Errorf("RemoteAddr = %s, want %s", got, h6.Src)
			}
			if got := string(readN(t, s, 9)); got != "a1 NOOP\r\n" {
				t.Errorf("data after header = %q", got)
			}
		})
	}
}

func TestListenerRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		send []byte
	}{
		{"garbage", []byte("EHLO spoofer.example\r\n")},
		{"v1 without CRLF too long", bytes.Repeat([]byte("PROXY TCP4 "), 20)},
		{"v2 too long", append(append([]byte(nil), v2Signature...), 0x21, 0x11, 0xff, 0xff)},
		{"v1 malformed", []byte("PROXY TCP4 1.2.3.4 nope 1 2\r\nEHLO x\r\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := listen(t, "127.0.0.0/8", 5*time.Second)
			bad := f.dial(t)
			write(t, bad, tc.send)
			expectClosed(t, bad, 3*time.Second)

			// The bad conn never reaches Accept; the next good one does.
			good := f.dial(t)
			write(t, good, v1Header(h4))
			if got := f.accept(t, 3*time.Second).RemoteAddr().String(); got != h4.Src.String() {
				t.Fatalf("accepted %s, want the good client %s", got, h4.Src)
			}
			if !strings.Contains(f.logs.String(), "proxy protocol header rejected") {
				t.Errorf("rejection not logged: %q", f.logs.String())
			}
		})
	}
}

func TestListenerTruncatedHeaderTimesOut(t *testing.T) {
	f := listen(t, "127.0.0.0/8", 300*time.Millisecond)
	for name, hdr := range map[string][]byte{"v1": v1Header(h4), "v2": v2Header(h4, nil)} {
		t.Run(name, func(t *testing.T) {
			c := f.dial(t)
			write(t, c, hdr[:len(hdr)-3])
			start := time.Now()
			expectClosed(t, c, 3*time.Second)
			if d := time.Since(start); d < 200*time.Millisecond {
				t.Errorf("closed after %v, before the header timeout", d)
			}
		})
	}
	t.Run("closed by client", func(t *testing.T) {
		c := f.dial(t)
		write(t, c, v2Header(h4, nil)[:20])
		c.(*net.TCPConn).CloseWrite()
		expectClosed(t, c, 3*time.Second)
	})
	if !strings.Contains(f.logs.String(), "after 20 bytes: EOF") {
		t.Errorf("EOF rejection not logged: %q", f.logs.String())
	}
}

func TestListenerSlowClientDoesNotBlockAccept(t *testing.T) {
	f := listen(t, "127.0.0.0/8", 10*time.Second)
	slow := f.dial(t)
	write(t, slow, []byte("PROX")) // and then nothing, for up to 10s
	time.Sleep(50 * time.Millisecond)

	fast := f.dial(t)
	write(t, fast, v2Header(h4, nil))
	if got := f.accept(t, 2*time.Second).RemoteAddr().String(); got != h4.Src.String() {
		t.Fatalf("accepted %s, want the fast client %s", got, h4.Src)
	}
}

func TestListenerUntrustedPassesThrough(t *testing.T) {
	f := listen(t, "10.0.0.0/8", 5*time.Second)
	c := f.dial(t)
	spoof := append(v1Header(h4), "EHLO x\r\n"...)
	write(t, c, spoof)
	s := f.accept(t, 5*time.Second)
	if got, want := s.RemoteAddr().String(), c.LocalAddr().String(); got != want {
		t.Errorf("RemoteAddr = %s, want the real %s", got, want)
	}
	if got := readN(t, s, len(spoof)); !bytes.Equal(got, spoof) {
		t.Errorf("untrusted data = %q, want the PROXY line as data", got)
	}
	// A silent untrusted client is accepted at once: no header wait.
	f.dial(t)
	f.accept(t, time.Second)
}

func TestListenerClose(t *testing.T) {
	f := listen(t, "127.0.0.0/8", 5*time.Second)
	done := make(chan error, 1)
	go func() {
		_, err := f.ln.Accept() // competes with the fixture's loop; both must end
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	f.ln.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Accept still blocked after Close")
	}
	if _, err := f.ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second Accept: %v", err)
	}
}

// A server may close the inner listener rather than the wrapper: Accept must
// end and a header still being read must not leave its conn open forever.
func TestListenerInnerClosed(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := NewListener(inner, Options{
		Trusted:       []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		HeaderTimeout: 300 * time.Millisecond,
		Logger:        slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	done := make(chan error, 1)
	go func() {
		_, err := ln.Accept()
		done <- err
	}()
	c, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	write(t, c, []byte("PROXY TCP4")) // handshake pending
	time.Sleep(50 * time.Millisecond)
	inner.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after inner Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Accept still blocked after the inner listener closed")
	}
	// The pending conn completes its header, but with nobody to deliver to
	// it is closed.
	write(t, c, []byte(" 1.2.3.4 5.6.7.8 1 2\r\n"))
	expectClosed(t, c, 2*time.Second)
}

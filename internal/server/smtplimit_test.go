package server

import (
	"bufio"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/config"
)

// greeting dials addr from local (nil: any) and returns the first line the
// server says, with the connection.
func greeting(t *testing.T, addr string, local net.Addr) (string, net.Conn) {
	t.Helper()
	d := net.Dialer{LocalAddr: local, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("greeting from %s: %v", addr, err)
	}
	return strings.TrimRight(line, "\r\n"), c
}

// closedWithin reports whether the server closes c within d.
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	return err == nil // EOF: io.Copy returns nil
}

// TestSMTPPerIPLimit: one address may hold max_connections_per_ip (20 by
// default) SMTP connections over all SMTP listeners; the next one gets 421
// and is closed, while other addresses are served and a closed
// connection frees its slot. Loopback is exempt by default, so the test
// takes the exemption away.
func TestSMTPPerIPLimit(t *testing.T) {
	e := startEnv(t, func(c *config.Config) {
		if c.SMTP.MaxConnectionsPerIP != 20 || len(c.SMTP.PerIPExempt) != 2 {
			t.Fatalf("defaults: max_connections_per_ip = %d, exempt %v; want 20 and loopback", c.SMTP.MaxConnectionsPerIP, c.SMTP.PerIPExempt)
		}
		c.SMTP.PerIPExempt = []netip.Prefix{}
	})
	var held []net.Conn
	for i := 0; i < 20; i++ {
		line, c := greeting(t, e.addr("mx"), nil)
		if !strings.HasPrefix(line, "220 ") {
			t.Fatalf("connection %d: %q", i+1, line)
		}
		held = append(held, c)
	}
	for _, key := range []string{"mx", "submission", "lmtp"} {
		line, c := greeting(t, e.addr(key), nil)
		if !strings.HasPrefix(line, "421 4.7.0 ") {
			t.Fatalf("%s, connection 21: %q, want 421 4.7.0", key, line)
		}
		if !closedWithin(c, 5*time.Second) {
			t.Fatalf("%s: the refused connection was left open", key)
		}
	}
	if line, _ := greeting(t, e.addr("mx"), &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}); !strings.HasPrefix(line, "220 ") {
		t.Fatalf("from 127.0.0.2: %q, want 220", line)
	}
	held[0].Close()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		line, c := greeting(t, e.addr("mx"), nil)
		c.Close()
		if strings.HasPrefix(line, "220 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a close: %q, want a free slot", line)
		}
	}
}

// TestSMTPGreetingTimeout: a client that connects and never says EHLO is
// dropped after greeting_timeout, not after the much longer read_timeout;
// one that greeted keeps the read timeout.
func TestSMTPGreetingTimeout(t *testing.T) {
	e := startEnv(t, func(c *config.Config) { c.SMTP.GreetingTimeout.Duration = 300 * time.Millisecond })
	for _, key := range []string{"mx", "submission"} {
		line, silent := greeting(t, e.addr(key), nil)
		if !strings.HasPrefix(line, "220 ") {
			t.Fatalf("%s greeting %q", key, line)
		}
		if !closedWithin(silent, 5*time.Second) {
			t.Fatalf("%s: a silent client is still connected after 5s", key)
		}
	}
	// Implicit TLS: a client that never starts the handshake is dropped too.
	c, err := net.Dial("tcp", e.addr("submissions"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !closedWithin(c, 5*time.Second) {
		t.Fatal("submissions: a client that never starts TLS is still connected after 5s")
	}
	s := dialSMTP(t, e.addr("mx"))
	s.send("EHLO client.test", `^250 `)
	time.Sleep(time.Second) // longer than greeting_timeout: the greeted session must live on
	s.send("NOOP", `^250 `)
}

// TestSMTPGlobalCap: max_connections bounds all SMTP listeners together,
// exempt addresses included, and every refusal is counted.
func TestSMTPGlobalCap(t *testing.T) {
	e := startEnv(t, func(c *config.Config) { c.SMTP.MaxConnections = 3 })
	for _, key := range []string{"mx", "submission", "lmtp"} {
		if line, _ := greeting(t, e.addr(key), nil); !strings.HasPrefix(line, "220 ") {
			t.Fatalf("%s: %q, want 220", key, line)
		}
	}
	line, c := greeting(t, e.addr("mx"), nil)
	if !strings.HasPrefix(line, "421 4.7.0 ") || !closedWithin(c, 5*time.Second) {
		t.Fatalf("fourth SMTP connection: %q, want 421 and a close", line)
	}
	if c, err := net.Dial("tcp", e.addr("submissions")); err != nil || !closedWithin(c, 5*time.Second) {
		t.Fatalf("implicit TLS over the cap: %v, want a close", err)
	}
	mfs, err := e.srv.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "rookery_smtp_connections_refused_total" {
			if n := mf.GetMetric()[0].GetCounter().GetValue(); n != 2 {
				t.Fatalf("refused counter %v, want 2", n)
			}
			return
		}
	}
	t.Fatal("no rookery_smtp_connections_refused_total metric")
}

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(fds)
}

// TestSMTPFloodHoldsNoDescriptors: 200 connections from one address that
// never read or write cost the server 20 descriptors (the per-IP cap), not
// 200, and IMAP keeps answering. Client and server share this process, so
// the client's own 200 descriptors are part of the count.
func TestSMTPFloodHoldsNoDescriptors(t *testing.T) {
	e := startEnv(t, func(c *config.Config) { c.SMTP.PerIPExempt = []netip.Prefix{} })
	before := openFDs(t)
	const flood = 200
	for i := 0; i < flood; i++ {
		c, err := net.Dial("tcp", e.addr("mx"))
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
	}
	bound := before + flood + 20 + 10 // clients, the held server side, slack for the runtime
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		n := openFDs(t)
		if n <= bound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d descriptors open, want at most %d (server side of the refused connections not closed)", n, bound)
		}
	}
	if line, _ := greeting(t, e.addr("imap"), nil); !strings.HasPrefix(line, "* OK") {
		t.Fatalf("IMAP greeting during the flood: %q", line)
	}
}

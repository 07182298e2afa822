package frontend

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/proxyproto"
)

// fakeBackend accepts one connection behind a PROXY listener and runs
// script on it: the client's address as the header gave it, a reader and
// the connection. It returns the listener's address.
func fakeBackend(t *testing.T, script func(remote net.Addr, br *bufio.Reader, c net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pl := proxyproto.NewListener(l, proxyproto.Options{
		Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { pl.Close() })
	go func() {
		c, err := pl.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		script(c.RemoteAddr(), bufio.NewReader(c), c)
	}()
	return l.Addr().String()
}

var client = Client{
	Remote: &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 40000},
	Local:  &net.TCPAddr{IP: net.ParseIP("198.51.100.1"), Port: 143},
}

func to(addr string) Resolve {
	return func(context.Context, bool) (Target, error) { return Target{Node: "b", Addr: addr}, nil }
}

func plain(user string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + "\x00" + config.ProxyIdentity + "\x00secret"))
}

// TestIMAPWithoutSASLIRAndCapabilityCodes: a back end that offers neither
// SASL-IR nor capability codes gets the PLAIN response after "+" and a
// CAPABILITY command; the PROXY header carries the client's address.
func TestIMAPWithoutSASLIRAndCapabilityCodes(t *testing.T) {
	seen := make(chan string, 1)
	addr := fakeBackend(t, func(remote net.Addr, br *bufio.Reader, c net.Conn) {
		seen <- remote.String()
		fmt.Fprintf(c, "* OK ready\r\n")
		for _, step := range []struct{ want, reply string }{
			{"P0 CAPABILITY", "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nP0 OK done\r\n"},
			{"P1 AUTHENTICATE PLAIN", "+ \r\n"},
			{plain("alice@example.test"), "* OK [ALERT] hi\r\nP1 OK Logged in\r\n"},
			{"P0 CAPABILITY", "* CAPABILITY IMAP4rev1 IDLE\r\nP0 OK done\r\n"},
		} {
			line, _ := br.ReadString('\n')
			if strings.TrimRight(line, "\r\n") != step.want {
				fmt.Fprintf(c, "* BAD want %q got %q\r\n", step.want, line)
				return
			}
			fmt.Fprint(c, step.reply)
		}
		br.ReadString('\n') // until the client goes
	})
	d := Dialer{Secret: "secret"}
	s, err := d.IMAP(t.Context(), to(addr), "alice@example.test", client)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Capability != "IMAP4rev1 IDLE" || s.Node != "b" {
		t.Fatalf("session %+v", s)
	}
	if got := <-seen; got != "192.0.2.7:40000" {
		t.Fatalf("back end saw %s", got)
	}
}

// TestRetryOnce: "not here" and an unreachable node each get one fresh
// route; a second "not here" is the caller's.
func TestRetryOnce(t *testing.T) {
	notHere := func() string {
		return fakeBackend(t, func(_ net.Addr, br *bufio.Reader, c net.Conn) {
			fmt.Fprintf(c, "+OK ready\r\n")
			br.ReadString('\n')
			fmt.Fprintf(c, "-ERR [SYS/TEMP] not here\r\n")
		})
	}
	ok := fakeBackend(t, func(_ net.Addr, br *bufio.Reader, c net.Conn) {
		fmt.Fprintf(c, "+OK ready\r\n")
		if line, _ := br.ReadString('\n'); line == "AUTH PLAIN "+plain("bob@example.test")+"\r\n" {
			fmt.Fprintf(c, "+OK Logged in.\r\n")
		}
		br.ReadString('\n')
	})
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := dead.Addr().String()
	dead.Close()
	d := Dialer{Secret: "secret"}
	for _, first := range []string{notHere(), deadAddr} {
		var calls []bool
		resolve := func(_ context.Context, fresh bool) (Target, error) {
			calls = append(calls, fresh)
			if fresh {
				return Target{Node: "new", Addr: ok}, nil
			}
			return Target{Node: "old", Addr: first}, nil
		}
		s, err := d.POP3(t.Context(), resolve, "bob@example.test", client)
		if err != nil {
			t.Fatalf("first %s: %v", first, err)
		}
		s.Close()
		if fmt.Sprint(calls) != "[false true]" || s.Node != "new" {
			t.Fatalf("resolve calls %v, node %s", calls, s.Node)
		}
		ok = fakeBackend(t, func(_ net.Addr, br *bufio.Reader, c net.Conn) {
			fmt.Fprintf(c, "+OK ready\r\n")
			br.ReadString('\n')
			fmt.Fprintf(c, "+OK Logged in.\r\n")
			br.ReadString('\n')
		})
	}
	var calls int
	a, b := notHere(), notHere()
	_, err := d.POP3(t.Context(), func(_ context.Context, fresh bool) (Target, error) {
		calls++
		if fresh {
			return Target{Addr: b}, nil
		}
		return Target{Addr: a}, nil
	}, "bob@example.test", client)
	if !errors.Is(err, ErrNotHere) || calls != 2 {
		t.Fatalf("twice not here: %v after %d resolves", err, calls)
	}
	// Unreachable and no other route: the connect error, no second try.
	calls = 0
	_, err = d.POP3(t.Context(), func(context.Context, bool) (Target, error) { calls++; return Target{Addr: deadAddr}, nil }, "bob@example.test", client)
	if !errors.Is(err, errConnect) || calls != 2 {
		t.Fatalf("dead node: %v after %d resolves", err, calls)
	}
}

// TestLoginTimeout: a back end that never answers is given up after Timeout.
func TestLoginTimeout(t *testing.T) {
	addr := fakeBackend(t, func(_ net.Addr, br *bufio.Reader, c net.Conn) { br.ReadString('\n') })
	d := Dialer{Secret: "secret", Timeout: 200 * time.Millisecond}
	start := time.Now()
	if _, err := d.IMAP(context.Background(), to(addr), "alice@example.test", client); err == nil {
		t.Fatal("login to a silent back end succeeded")
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("gave up after %v", time.Since(start))
	}
}

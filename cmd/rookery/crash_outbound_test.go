package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/rookery-mail/rookery/internal/dnstest"
)

// sink is a remote MTA that stalls the first transaction's DATA until told
// to go on, so the sender can be killed in the middle of it.
type sink struct {
	mu       sync.Mutex
	attempts int
	stored   []string
	started  chan struct{}
	release  chan struct{}
}

func (s *sink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }

type sinkSession struct{ s *sink }

func (*sinkSession) Reset()                               {}
func (*sinkSession) Logout() error                        { return nil }
func (*sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (*sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (ss *sinkSession) Data(r io.Reader) error {
	ss.s.mu.Lock()
	ss.s.attempts++
	first := ss.s.attempts == 1
	ss.s.mu.Unlock()
	if first {
		close(ss.s.started)
		<-ss.s.release // the sender is killed meanwhile
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err // the message never arrived whole: nothing stored
	}
	ss.s.mu.Lock()
	ss.s.stored = append(ss.s.stored, string(b))
	ss.s.mu.Unlock()
	return nil
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.stored)
}

// TestCrashDuringOutboundDelivery kills the sending server while the
// remote MTA is receiving DATA; after a restart the message is delivered
// exactly once.
func TestCrashDuringOutboundDelivery(t *testing.T) {
	sk := &sink{started: make(chan struct{}), release: make(chan struct{})}
	srv := smtp.NewServer(sk)
	srv.Domain = "mx.far.test"
	srv.MaxMessageBytes = 64 << 20
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	dns := dnstest.Start(t, dnstest.Records{
		MX: map[string][]dnstest.MX{"far.test": {{Pref: 10, Host: "mx.far.test"}}},
		A:  map[string][]string{"mx.far.test": {"127.0.0.1"}},
	})
	n := newNodeWith(t, fmt.Sprintf("[outbound]\nresolver = %q\nport = %d\n[queue]\nretry = [\"300ms\"]\n",
		dns.Addr, l.Addr().(*net.TCPAddr).Port))
	n.cli("", "domain", "add", "example.test")
	n.cli("pw-alice-123\n", "user", "add", "alice@example.test", "--password-stdin")
	p := n.serve()

	// 8 MB: more than the socket buffers, so the sender is still writing
	// when it dies and the sink sees a truncated message.
	body := strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n", 8<<20/66)
	c, err := smtp.DialStartTLS(p.addr("submission"), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(sasl.NewPlainClient("", "alice@example.test", "pw-alice-123")); err != nil {
		t.Fatal(err)
	}
	msg := "From: alice@example.test\r\nTo: friend@far.test\r\nSubject: big\r\n\r\n" + body
	if err := c.SendMail("alice@example.test", []string{"friend@far.test"}, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	select {
	case <-sk.started:
	case <-time.After(30 * time.Second):
		t.Fatal("the remote never saw a delivery attempt")
	}
	p.kill(t)
	close(sk.release)

	n.serve()
	deadline := time.Now().Add(60 * time.Second)
	for sk.count() == 0 || strings.TrimSpace(n.cli("", "queue", "list")) != "" {
		if time.Now().After(deadline) {
			t.Fatalf("after restart: %d copies at the remote, queue:\n%s", sk.count(), n.cli("", "queue", "list"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	sk.mu.Lock()
	attempts := sk.attempts
	sk.mu.Unlock()
	if attempts < 2 {
		t.Fatalf("%d delivery attempts: the kill did not interrupt one", attempts)
	}
	if got := sk.count(); got != 1 {
		t.Fatalf("the remote stored %d copies, want exactly 1", got)
	}
	if !strings.HasSuffix(sk.stored[0], body) {
		t.Fatal("the delivered body differs from the submitted one")
	}
}

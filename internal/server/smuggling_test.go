package server

import (
	"bufio"
	"bytes"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/dnstest"
)

// wireMTA is a receiving MTA that records the raw bytes of each DATA
// section as they crossed the wire, dot-stuffing included: what a remote
// system that reads lines differently from Rookery would see.
type wireMTA struct {
	addr string
	data chan []byte
}

func startWireMTA(t *testing.T) *wireMTA {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	m := &wireMTA{addr: l.Addr().String(), data: make(chan []byte, 4)}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go m.serve(c)
		}
	}()
	return m
}

func (m *wireMTA) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	c.Write([]byte("220 far.test ESMTP\r\n"))
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		switch verb := strings.ToUpper(strings.Fields(line + " x")[0]); verb {
		case "DATA":
			c.Write([]byte("354 go ahead\r\n"))
			var raw []byte
			for !bytes.HasSuffix(raw, []byte("\r\n.\r\n")) {
				b, err := br.ReadByte()
				if err != nil {
					return
				}
				raw = append(raw, b)
			}
			m.data <- raw
			c.Write([]byte("250 ok\r\n"))
		case "QUIT":
			c.Write([]byte("221 bye\r\n"))
			return
		default:
			c.Write([]byte("250 ok\r\n"))
		}
	}
}

// TestSubmissionBareCRCannotSmuggle: a submitted body holding the gadget
// "<CRLF><CR>.<CRLF>" followed by SMTP commands is queued with the bare CR
// turned into CRLF, so the dot line is dot-stuffed on the way out and the
// would-be commands stay body text for every receiver.
func TestSubmissionBareCRCannotSmuggle(t *testing.T) {
	far := startWireMTA(t)
	host, portText, _ := net.SplitHostPort(far.addr)
	port, _ := strconv.Atoi(portText)
	dns := dnstest.Start(t, dnstest.Records{
		MX: map[string][]dnstest.MX{"far.test": {{Pref: 10, Host: "mx.far.test"}}},
		A:  map[string][]string{"mx.far.test": {host}},
	})
	e := startEnv(t, func(c *config.Config) {
		c.Outbound.Resolver = dns.Addr
		c.Outbound.Port = port
	})
	c, err := submitClient(t, e, "alice@example.test", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	gadget := "From: alice@example.test\r\nTo: friend@far.test\r\nSubject: hi\r\n\r\nfirst\r\n\r.\r\n" +
		"MAIL FROM:<ceo@far.test>\r\nRCPT TO:<victim@far.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n"
	if err := c.Mail("alice@example.test", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("friend@far.test", nil); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(gadget)) // go-smtp's writer passes the bare CR through
	if err := w.Close(); err != nil {
		t.Fatalf("end of DATA: %v", err)
	}
	var raw []byte
	select {
	case raw = <-far.data:
	case <-time.After(20 * time.Second):
		t.Fatal("the message did not reach the remote MTA")
	}
	if n := bytes.Count(raw, []byte("\r")); n != bytes.Count(raw, []byte("\r\n")) {
		t.Errorf("relayed bytes hold a bare CR:\n%q", raw)
	}
	if n := bytes.Count(raw, []byte("\n")); n != bytes.Count(raw, []byte("\r\n")) {
		t.Errorf("relayed bytes hold a bare LF:\n%q", raw)
	}
	if !bytes.Contains(raw, []byte("first\r\n\r\n..\r\nMAIL FROM:<ceo@far.test>\r\n")) {
		t.Errorf("the dot line is not stuffed body text:\n%q", raw)
	}
	if !bytes.HasSuffix(raw, []byte("\r\nevil\r\n.\r\n")) || bytes.Count(raw, []byte("\r\n.\r\n")) != 1 {
		t.Errorf("the message does not end once, after the smuggled text:\n%q", raw)
	}
}

// TestNULRefused: NUL is not text (RFC 5322 §2.1, RFC 5321 §4.1.4 forbids
// it outside BINARYMIME), so a message holding one is refused with 554
// 5.6.0 by every role that takes mail in, and nothing is stored.
func TestNULRefused(t *testing.T) {
	e := startEnv(t, nil)
	for _, role := range []string{"mx", "lmtp"} {
		s := dialSMTP(t, e.addr(role))
		hello := "EHLO client.test"
		if role == "lmtp" {
			hello = "LHLO client.test"
		}
		s.send(hello, `^250 `)
		s.send("MAIL FROM:<x@remote.test>", `^250 `)
		s.send("RCPT TO:<alice@example.test>", `^250 `)
		s.send("DATA", `^354 `)
		s.write("Subject: nul\r\n\r\nbefore\x00after\r\n.\r\n")
		s.expect(`^554 5\.6\.0 `)
		s.send("NOOP", `^250 `) // the session goes on
	}
	c, err := submitClient(t, e, "alice@example.test", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	err = c.SendMail("alice@example.test", []string{"bob@example.test"},
		strings.NewReader("From: alice@example.test\r\nSubject: nul\r\n\r\n\x00\r\n"))
	if smtpCode(err) != 554 {
		t.Fatalf("submission of a NUL: %v, want 554", err)
	}
	all, err := e.srv.queue.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 0 {
		t.Fatalf("%d messages queued, want none", len(all))
	}
	for _, u := range []string{"alice@example.test", "bob@example.test"} {
		if mb, err := e.store().Mailbox(t.Context(), u, "INBOX"); err == nil {
			if msgs, _ := e.store().Messages(t.Context(), u, mb.ID); len(msgs) != 0 {
				t.Fatalf("%s got %d messages", u, len(msgs))
			}
		}
	}
}

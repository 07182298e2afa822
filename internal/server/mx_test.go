package server

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

func readAll(r io.Reader) ([]byte, error) { return io.ReadAll(r) }

// sendMail sends one message in cleartext (the test certificate is
// self-signed), as an MTA without STARTTLS would.
func sendMail(t *testing.T, addr, from string, to []string, msg string) {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendMail(from, to, strings.NewReader(msg)); err != nil {
		t.Fatalf("send to %v: %v", to, err)
	}
	c.Quit()
}

// smtpConv drives a raw SMTP conversation: send a line, expect a reply
// matching a pattern. It reads like the transcript it checks.
type smtpConv struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialSMTP(t *testing.T, addr string) *smtpConv {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s := &smtpConv{t: t, c: c, br: bufio.NewReader(c)}
	s.expect(`^220 `)
	return s
}

// reply reads one (possibly multi-line) reply and returns its last line.
func (s *smtpConv) reply() string {
	s.t.Helper()
	s.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		line, err := s.br.ReadString('\n')
		if err != nil {
			s.t.Fatalf("read reply: %v (got %q)", err, line)
		}
		if len(line) < 4 || line[3] != '-' {
			return strings.TrimRight(line, "\r\n")
		}
	}
}

func (s *smtpConv) expect(pattern string) string {
	s.t.Helper()
	got := s.reply()
	if !regexp.MustCompile(pattern).MatchString(got) {
		s.t.Fatalf("reply %q does not match %q", got, pattern)
	}
	return got
}

func (s *smtpConv) send(line, pattern string) string {
	s.t.Helper()
	s.write(line + "\r\n")
	return s.expect(pattern)
}

func (s *smtpConv) write(raw string) {
	s.t.Helper()
	if _, err := io.WriteString(s.c, raw); err != nil {
		s.t.Fatal(err)
	}
}

func TestMXDeliversToInboxWithTraceHeaders(t *testing.T) {
	e := startEnv(t, nil)
	body := "From: sender@remote.test\r\nTo: alice@example.test\r\nSubject: hello\r\n\r\nHello Alice.\r\n"
	sendMail(t, e.addr("mx"), "sender@remote.test", []string{"alice@example.test"}, body)
	msgs := e.waitMessages("alice@example.test", "INBOX", 1)
	got := string(e.body(msgs[0]))
	for _, want := range []string{"Return-Path: <sender@remote.test>\r\n", "Delivered-To: alice@example.test\r\n", "Received: from "} {
		if !strings.Contains(got, want) {
			t.Errorf("stored message lacks %q:\n%s", want, got)
		}
	}
	if !strings.HasSuffix(got, body) {
		t.Errorf("stored message does not end with the sent bytes:\n%q", got)
	}
}

func TestMXRecipientValidation(t *testing.T) {
	e := startEnv(t, nil)
	s := dialSMTP(t, e.addr("mx"))
	s.send("EHLO client.test", `^250 `)
	s.send("MAIL FROM:<x@remote.test>", `^250 `)
	s.send("RCPT TO:<nobody@example.test>", `^550 5\.1\.1 `)
	s.send("RCPT TO:<someone@elsewhere.test>", `^554 5\.7\.1 `)
	// Open-relay tricks: none of these may be accepted.
	for _, trick := range []string{
		"<someone%elsewhere.test@example.test>",
		`<"someone@elsewhere.test"@example.test>`,
		"<@example.test:someone@elsewhere.test>",
		"<someone@elsewhere.test@example.test>",
	} {
		s.send("RCPT TO:"+trick, `^5\d\d `)
	}
	s.send("RCPT TO:<ALICE@Example.Test>", `^250 `)
	s.send("DATA", `^354 `)
	s.write("Subject: x\r\n\r\nbody\r\n.\r\n")
	s.expect(`^250 `)
	s.send("QUIT", `^221 `)
	e.waitMessages("alice@example.test", "INBOX", 1)
}

func TestMXAliasesAndCatchAll(t *testing.T) {
	e := startEnv(t, nil)
	ctx := t.Context()
	d := e.srv.Directory()
	if err := d.AddAlias(ctx, "team@example.test", []string{"alice@example.test", "bob@example.test"}); err != nil {
		t.Fatal(err)
	}
	if err := d.AddAlias(ctx, "@example.test", []string{"carol@example.test"}); err != nil {
		t.Fatal(err)
	}
	// alice is reached directly and through the alias: one copy only.
	sendMail(t, e.addr("mx"), "x@remote.test",
		[]string{"team@example.test", "alice@example.test", "whoever@example.test"},
		"Subject: team\r\n\r\nhi team\r\n")
	for _, u := range []string{"alice", "bob", "carol"} {
		msgs := e.waitMessages(u+"@example.test", "INBOX", 1)
		if b := e.body(msgs[0]); !bytes.Contains(b, []byte("Delivered-To: "+u+"@example.test\r\n")) {
			t.Errorf("%s: missing own Delivered-To:\n%s", u, b)
		}
	}
}

func TestMXRejectsOversizedMessage(t *testing.T) {
	e := startEnv(t, nil)
	s := dialSMTP(t, e.addr("mx"))
	s.send("EHLO client.test", `^250 `)
	s.send("MAIL FROM:<x@remote.test> SIZE=5000000", `^552 `)
	s.send("MAIL FROM:<x@remote.test>", `^250 `)
	s.send("RCPT TO:<alice@example.test>", `^250 `)
	s.send("DATA", `^354 `)
	line := strings.Repeat("x", 998) + "\r\n"
	for i := 0; i < 1200; i++ { // ~1.2 MB against a 1 MiB limit
		s.write(line)
	}
	s.write(".\r\n")
	s.expect(`^552 5\.3\.4 `)
	// The session is still usable and nothing was stored.
	s.send("MAIL FROM:<x@remote.test>", `^250 `)
	s.send("RCPT TO:<alice@example.test>", `^250 `)
	s.send("DATA", `^354 `)
	s.write("Subject: small\r\n\r\nok\r\n.\r\n")
	s.expect(`^250 `)
	msgs := e.waitMessages("alice@example.test", "INBOX", 1)
	if !bytes.Contains(e.body(msgs[0]), []byte("Subject: small")) {
		t.Fatal("the stored message is not the small one")
	}
}

func TestMXBareLFCannotSmuggle(t *testing.T) {
	e := startEnv(t, nil)
	s := dialSMTP(t, e.addr("mx"))
	s.send("EHLO client.test", `^250 `)
	s.send("MAIL FROM:<x@remote.test>", `^250 `)
	s.send("RCPT TO:<alice@example.test>", `^250 `)
	s.send("DATA", `^354 `)
	// A bare-LF "end of data" followed by a smuggled transaction.
	s.write("Subject: one\r\n\r\nfirst\n.\nMAIL FROM:<evil@remote.test>\nRCPT TO:<bob@example.test>\nDATA\nSubject: smuggled\n\nevil\r\n.\r\n")
	s.expect(`^250 `)
	s.send("QUIT", `^221 `)
	msgs := e.waitMessages("alice@example.test", "INBOX", 1)
	b := e.body(msgs[0])
	if bytes.Contains(b, []byte("\n")) && bytes.Count(b, []byte("\n")) != bytes.Count(b, []byte("\r\n")) {
		t.Errorf("stored message has bare LF:\n%q", b)
	}
	mb, err := e.store().Mailbox(t.Context(), "bob@example.test", "INBOX")
	if err == nil {
		if msgs, _ := e.store().Messages(t.Context(), "bob@example.test", mb.ID); len(msgs) != 0 {
			t.Fatal("smuggled message was delivered to bob")
		}
	}
}

func TestMXSurvivesGarbage(t *testing.T) {
	e := startEnv(t, nil)
	s := dialSMTP(t, e.addr("mx"))
	s.send("EHLO client.test", `^250 `)
	s.send("FROB", `^5\d\d `)
	s.send("MAIL FROM:<<<>>>", `^5\d\d `)
	s.send("RCPT TO:<alice@example.test>", `^5\d\d `)
	s.send("DATA", `^5\d\d `)
	// A 10 MB command line: an error, not a crash or a hang.
	s.c.SetWriteDeadline(time.Now().Add(20 * time.Second))
	go func() { io.WriteString(s.c, strings.Repeat("A", 10<<20)+"\r\n") }()
	s.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	line, _ := s.br.ReadString('\n')
	if !strings.HasPrefix(line, "5") {
		t.Logf("reply to a 10 MB line: %q (connection may close)", line)
	}
	// The server still serves new sessions.
	s2 := dialSMTP(t, e.addr("mx"))
	s2.send("EHLO client.test", `^250 `)
	s2.send("QUIT", `^221 `)
}

func TestMXAdvertisesExtensions(t *testing.T) {
	e := startEnv(t, nil)
	c, err := smtp.Dial(e.addr("mx"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{"PIPELINING", "8BITMIME", "SMTPUTF8", "STARTTLS", "SIZE"} {
		if ok, _ := c.Extension(ext); !ok {
			t.Errorf("EHLO lacks %s", ext)
		}
	}
	if ok, _ := c.Extension("AUTH"); ok {
		t.Error("MX must not offer AUTH")
	}
}

// TestMXAcceptsLongLines: lines beyond RFC 5321's 1000 octets occur in real
// mail (HTML, unwrapped base64); they are accepted and stored unchanged.
func TestMXAcceptsLongLines(t *testing.T) {
	e := startEnv(t, nil)
	body := "Subject: long\r\n\r\n" + strings.Repeat("y", 20000) + "\r\n"
	sendMail(t, e.addr("mx"), "x@remote.test", []string{"alice@example.test"}, body)
	if got := e.body(e.waitMessages("alice@example.test", "INBOX", 1)[0]); !strings.HasSuffix(string(got), body) {
		t.Fatal("long line not stored unchanged")
	}
}

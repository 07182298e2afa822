package server

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/rookery-mail/rookery/internal/authlimit/authlimittest"
	"github.com/rookery-mail/rookery/internal/queue"
)

var insecureTLS = &tls.Config{InsecureSkipVerify: true} // the test certificate is self-signed

// submitClient dials 587, upgrades with STARTTLS and authenticates.
func submitClient(t *testing.T, e *testEnv, user, pass string) (*smtp.Client, error) {
	t.Helper()
	c, err := smtp.DialStartTLS(e.addr("submission"), insecureTLS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, c.Auth(sasl.NewPlainClient("", user, pass))
}

func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func TestSubmissionNoAuthWithoutTLS(t *testing.T) {
	e := startEnv(t, nil)
	c, err := smtp.Dial(e.addr("submission"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("AUTH"); ok {
		t.Fatal("AUTH offered on a cleartext connection")
	}
	err = c.Auth(sasl.NewPlainClient("", "alice@example.test", testPassword))
	if err == nil {
		t.Fatal("AUTH PLAIN accepted without TLS")
	}
	if err := c.Mail("alice@example.test", nil); smtpCode(err) != 530 {
		t.Fatalf("MAIL without AUTH: %v, want 530", err)
	}
}

func TestSubmissionSendsAsOwnAddressesOnly(t *testing.T) {
	e := startEnv(t, nil)
	if err := e.srv.Directory().AddAlias(t.Context(), "sales@example.test", []string{"alice@example.test"}); err != nil {
		t.Fatal(err)
	}
	c, err := submitClient(t, e, "alice@example.test", testPassword)
	if err != nil {
		t.Fatalf("AUTH: %v", err)
	}
	for _, from := range []string{"bob@example.test", "ceo@elsewhere.test", ""} {
		if err := c.Mail(from, nil); smtpCode(err) != 550 && smtpCode(err) != 553 {
			t.Fatalf("MAIL FROM:<%s>: %v, want 550 5.7.1", from, err)
		}
	}
	// The alias targets alice, so she may send as it. Date and
	// Message-ID are added.
	msg := "From: sales@example.test\r\nTo: bob@example.test\r\nSubject: offer\r\n\r\nbuy now\r\n"
	if err := c.SendMail("sales@example.test", []string{"bob@example.test"}, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	got := e.body(e.waitMessages("bob@example.test", "INBOX", 1)[0])
	for _, want := range []string{"\r\nDate: ", "\r\nMessage-ID: <", "with ESMTPSA id", "\r\n\r\nbuy now\r\n"} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("delivered message lacks %q:\n%s", want, got)
		}
	}
	// A From header that is not hers is refused even with a good envelope.
	forged := "From: bob@example.test\r\nSubject: hi\r\n\r\nx\r\n"
	err = c.SendMail("alice@example.test", []string{"bob@example.test"}, strings.NewReader(forged))
	if smtpCode(err) != 550 {
		t.Fatalf("forged From header: %v, want 550", err)
	}
}

func TestSubmissionQueuesRemoteRecipients(t *testing.T) {
	e := startEnv(t, nil)
	c, err := submitClient(t, e, "alice@example.test", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	msg := "From: alice@example.test\r\nTo: friend@far.test\r\nSubject: hello\r\n\r\nhi\r\n"
	if err := c.SendMail("alice@example.test", []string{"friend@far.test", "nobody@example.test"}, strings.NewReader(msg)); err == nil {
		t.Fatal("unknown local recipient accepted")
	}
	if err := c.SendMail("alice@example.test", []string{"friend@far.test"}, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	all, err := e.srv.queue.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || !all[0].Recipients[0].Remote || all[0].Recipients[0].Status != queue.Pending {
		t.Fatalf("queue: %+v", all)
	}
}

func TestSubmissionImplicitTLSAndLogin(t *testing.T) {
	e := startEnv(t, nil)
	c, err := smtp.DialTLS(e.addr("submissions"), insecureTLS)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(sasl.NewLoginClient("bob@example.test", testPassword)); err != nil {
		t.Fatalf("AUTH LOGIN on 465: %v", err)
	}
	if err := c.Auth(sasl.NewPlainClient("", "bob@example.test", "wrong")); smtpCode(err) != 535 && smtpCode(err) != 503 {
		t.Fatalf("second AUTH: %v", err)
	}
}

func TestSubmissionWrongPasswordThrottled(t *testing.T) {
	clk := authlimittest.New()
	e := startEnvWith(t, nil, withAuthClock(clk))
	// Five checks at once, four more after 1, 2, 4 and 8 s.
	for i := range 9 {
		if _, err := submitClient(t, e, "carol@example.test", "wrong"); smtpCode(err) != 535 {
			t.Fatalf("attempt %d: %v, want 535", i, err)
		}
	}
	// The next turn is too far away: the right password is answered like
	// a wrong one, after 15 s.
	if _, err := submitClient(t, e, "carol@example.test", testPassword); smtpCode(err) != 535 {
		t.Fatalf("after 9 failures the right password: %v, want 535 (denied)", err)
	}
	if got := clk.Slept(); got != 30*time.Second {
		t.Fatalf("held %v in all, want 1+2+4+8 s and 15 s for the denial", got)
	}
}

// TestPythonSubmission: smtplib with STARTTLS and AUTH, an implementation
// independent of go-smtp.
func TestPythonSubmission(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is required in CI")
		}
		t.Skip("python3 not installed")
	}
	e := startEnv(t, nil)
	script, _ := filepath.Abs("testdata/submit.py")
	out, err := exec.Command(py, script, e.addr("submission"), "alice@example.test", testPassword, "bob@example.test").CombinedOutput()
	t.Logf("python:\n%s", out)
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("python submission failed: %v", err)
	}
	e.waitMessages("bob@example.test", "INBOX", 1)
}

func TestLMTPPerRecipientReplies(t *testing.T) {
	e := startEnv(t, nil)
	conn, err := net.Dial("tcp", e.addr("lmtp"))
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.Hello("front.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("x@remote.test", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("alice@example.test", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("nobody@example.test", nil); smtpCode(err) != 550 {
		t.Fatalf("unknown recipient: %v, want 550", err)
	}
	if err := c.Rcpt("bob@example.test", nil); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("Subject: via lmtp\r\n\r\nhello\r\n"))
	replies, err := w.CloseWithLMTPResponse()
	if err != nil {
		t.Fatal(err)
	}
	if len(replies) != 2 || replies["alice@example.test"] == nil || replies["bob@example.test"] == nil {
		t.Fatalf("LMTP replies %v, want one per accepted RCPT", replies)
	}
	// Delivered before the reply: no waiting needed.
	for _, u := range []string{"alice", "bob"} {
		st := e.store()
		mb, err := st.Mailbox(t.Context(), u+"@example.test", "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		if msgs, _ := st.Messages(t.Context(), u+"@example.test", mb.ID); len(msgs) != 1 {
			t.Fatalf("%s has %d messages right after the LMTP reply", u, len(msgs))
		}
	}
}

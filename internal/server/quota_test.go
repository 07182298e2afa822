package server

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// fillQuota gives user a storage limit smaller than any message, so the
// next delivery to user is over quota.
func (e *testEnv) fillQuota(user string) {
	e.t.Helper()
	ctx := e.t.Context()
	if err := e.store().EnsureAccount(ctx, user); err != nil {
		e.t.Fatal(err)
	}
	if err := e.store().SetQuota(ctx, user, 10, 0); err != nil {
		e.t.Fatal(err)
	}
}

// TestMXOverQuotaBounces: the queue delivers to a full mailbox once and
// fails permanently (quota_full_tempfail=no, as Dovecot's default); the
// sender gets a DSN with 5.2.2 and the other recipient gets the mail.
func TestMXOverQuotaBounces(t *testing.T) {
	e := startEnv(t, nil)
	e.fillQuota("alice@example.test")
	body := "From: carol@example.test\r\nTo: alice@example.test, bob@example.test\r\nSubject: big news\r\n\r\nHello.\r\n"
	sendMail(t, e.addr("mx"), "carol@example.test", []string{"alice@example.test", "bob@example.test"}, body)

	e.waitMessages("bob@example.test", "INBOX", 1)
	dsn := string(e.body(e.waitMessages("carol@example.test", "INBOX", 1)[0]))
	for _, want := range []string{
		"Final-Recipient: rfc822; alice@example.test",
		"Action: failed",
		"Status: 5.2.2",
		"Diagnostic-Code: smtp; 552 5.2.2 Mailbox full",
		"Subject: big news",
	} {
		if !strings.Contains(dsn, want) {
			t.Errorf("DSN lacks %q:\n%s", want, dsn)
		}
	}
	if strings.Count(dsn, "Final-Recipient:") != 1 {
		t.Errorf("DSN reports more than alice:\n%s", dsn)
	}
	q, err := e.store().Quota(t.Context(), "alice@example.test")
	if err != nil || q.MessagesUsed != 0 {
		t.Errorf("alice's usage = %+v, %v; want nothing stored", q, err)
	}
}

// TestLMTPOverQuota: LMTP answers 552 5.2.2 for the full recipient only.
func TestLMTPOverQuota(t *testing.T) {
	e := startEnv(t, nil)
	e.fillQuota("alice@example.test")
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
	for _, rcpt := range []string{"alice@example.test", "bob@example.test"} {
		if err := c.Rcpt(rcpt, nil); err != nil {
			t.Fatal(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("Subject: via lmtp\r\n\r\nhello\r\n"))
	replies, err := w.CloseWithLMTPResponse()
	var perRcpt smtp.LMTPDataError
	if !errors.As(err, &perRcpt) {
		t.Fatalf("LMTP DATA: %v, want a per-recipient error", err)
	}
	full := perRcpt["alice@example.test"]
	if len(perRcpt) != 1 || full == nil || full.Code != 552 || full.EnhancedCode != (smtp.EnhancedCode{5, 2, 2}) {
		t.Errorf("LMTP errors %v, want 552 5.2.2 for alice only", perRcpt)
	}
	if replies["bob@example.test"] == nil {
		t.Errorf("bob: replies %v, want delivered", replies)
	}
	e.waitMessages("bob@example.test", "INBOX", 1)
}

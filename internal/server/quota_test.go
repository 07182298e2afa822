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

// TestMXOverQuotaBounces: a full mailbox that RCPT cannot refuse (a member
// of an alias whose other member has room) fails at delivery, once and
// permanently (quota_full_tempfail=no, as Dovecot's default); the sender
// gets a DSN with 5.2.2 and the other member gets the mail.
func TestMXOverQuotaBounces(t *testing.T) {
	e := startEnv(t, nil)
	e.fillQuota("alice@example.test")
	if err := e.srv.Directory().AddAlias(t.Context(), "team@example.test", []string{"alice@example.test", "bob@example.test"}); err != nil {
		t.Fatal(err)
	}
	body := "From: carol@example.test\r\nTo: team@example.test\r\nSubject: big news\r\n\r\nHello.\r\n"
	sendMail(t, e.addr("mx"), "carol@example.test", []string{"team@example.test"}, body)

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

// TestMXQuotaAtRCPT: a recipient whose mailbox is full is refused at RCPT
// with 452 4.2.2 (temporary: the owner may make room), and one whose
// mailbox cannot take the declared SIZE with 552 5.2.2, so that nothing is
// accepted only to bounce to a possibly forged sender (backscatter).
func TestMXQuotaAtRCPT(t *testing.T) {
	e := startEnv(t, nil)
	e.fillQuota("alice@example.test")
	ctx := t.Context()
	if err := e.store().EnsureAccount(ctx, "bob@example.test"); err != nil {
		t.Fatal(err)
	}
	if err := e.store().SetQuota(ctx, "bob@example.test", 4000, 0); err != nil {
		t.Fatal(err)
	}
	s := dialSMTP(t, e.addr("mx"))
	s.send("EHLO client.test", `^250 `)
	s.send("MAIL FROM:<x@remote.test>", `^250 `)
	s.send("RCPT TO:<alice@example.test>", `^452 4\.2\.2 `)
	s.send("RCPT TO:<bob@example.test>", `^250 `) // no SIZE declared: delivery decides
	s.send("RSET", `^250 `)
	s.send("MAIL FROM:<x@remote.test> SIZE=5000", `^250 `)
	s.send("RCPT TO:<bob@example.test>", `^552 5\.2\.2 `)
	s.send("RCPT TO:<carol@example.test>", `^250 `) // no limit
	s.send("RSET", `^250 `)
	s.send("MAIL FROM:<x@remote.test> SIZE=100", `^250 `)
	s.send("RCPT TO:<bob@example.test>", `^250 `)
	s.send("DATA", `^354 `)
	s.write("Subject: small\r\n\r\nfits\r\n.\r\n")
	s.expect(`^250 `)
	s.send("QUIT", `^221 `)
	e.waitMessages("bob@example.test", "INBOX", 1)
	// Nothing was accepted for alice, so nothing bounces to x@remote.test.
	all, err := e.srv.queue.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		for _, rc := range m.Recipients {
			if rc.Address != "bob@example.test" {
				t.Errorf("queued recipient %s (from <%s>), want only bob", rc.Address, m.From)
			}
		}
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

package server

import (
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// TestAddressSyntaxLimits: RFC 5321 §4.5.3.1 size limits, quoted local
// parts (not supported, said clearly) and RFC 6531 address encoding, on
// MAIL FROM and RCPT TO of the MX.
func TestAddressSyntaxLimits(t *testing.T) {
	e := startEnv(t, nil)
	s := dialSMTP(t, e.addr("mx"))
	long := strings.Repeat("a", 65)
	longDomain := strings.Repeat(strings.Repeat("d", 60)+".", 5) + "test" // 309 octets
	s.send("EHLO client.test", `^250 `)
	s.send("MAIL FROM:<"+long+"@remote.test>", `^501 5\.1\.7 Local part too long`)
	s.send("MAIL FROM:<x@"+longDomain+">", `^501 5\.1\.7 Domain too long`)
	s.send("MAIL FROM:<"+strings.Repeat("a", 60)+"@"+strings.Repeat("b", 63)+"."+strings.Repeat("c", 63)+"."+strings.Repeat("d", 63)+".test>", `^501 5\.1\.7 Path too long`)
	s.send(`MAIL FROM:<"john doe"@remote.test>`, `^553 5\.1\.7 Quoted local parts`)
	s.send("MAIL FROM:<jörg@remote.test>", `^553 5\.6\.7 Non-ASCII address needs the SMTPUTF8`)
	s.send("MAIL FROM:<j\xffrg@remote.test> SMTPUTF8", `^553 5\.1\.7 Address is not valid UTF-8`)
	s.send("MAIL FROM:<x@remote.test>", `^250 `)
	s.send("RCPT TO:<"+long+"@example.test>", `^501 5\.1\.3 Local part too long`)
	s.send(`RCPT TO:<"alice"@example.test>`, `^250 `) // the same address as alice (RFC 5321 §4.1.2)
	s.send(`RCPT TO:<"a b"@example.test>`, `^553 5\.1\.3 Quoted local parts`)
	s.send(`RCPT TO:<"bob@far.test"@example.test>`, `^553 5\.1\.3 Quoted local parts`)
	s.send("RCPT TO:<bøb@example.test>", `^553 5\.6\.7 `)
	s.send("RSET", `^250 `)
	s.send("MAIL FROM:<jörg@remote.test> SMTPUTF8", `^250 `)
	s.send("RCPT TO:<b\xc3@example.test>", `^553 5\.1\.3 Address is not valid UTF-8`)
	s.send("RCPT TO:<bøb@example.test>", `^550 5\.1\.1 `) // well-formed, no such user
	s.send("RCPT TO:<bob@example.test>", `^250 `)
	s.send("QUIT", `^221 `)
}

// TestSubmissionAddressSyntax: submission applies the same checks.
func TestSubmissionAddressSyntax(t *testing.T) {
	e := startEnv(t, nil)
	c, err := submitClient(t, e, "alice@example.test", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("alice@example.test", nil); err != nil {
		t.Fatal(err)
	}
	for rcpt, code := range map[string]int{
		strings.Repeat("x", 65) + "@far.test": 501,
		`"john doe"@far.test`:                 553,
		"jörg@far.test":                       553,
	} {
		if err := c.Rcpt(rcpt, nil); smtpCode(err) != code {
			t.Errorf("RCPT TO:<%s>: %v, want %d", rcpt, err, code)
		}
	}
}

// TestRequireTLSPlaintextRefused: REQUIRETLS (RFC 8689) asks for TLS on
// every hop; over plaintext it is refused with 530 5.7.10, over STARTTLS
// it is accepted for local and relayed recipients alike, and the queue
// keeps the mark so outbound relays only over verified TLS.
func TestRequireTLSPlaintextRefused(t *testing.T) {
	e := startEnv(t, nil)
	if err := e.srv.Directory().AddAlias(t.Context(), "fwd@example.test", []string{"friend@far.test"}); err != nil {
		t.Fatal(err)
	}
	s := dialSMTP(t, e.addr("mx"))
	s.send("EHLO client.test", `^250 `)
	s.send("MAIL FROM:<x@remote.test> REQUIRETLS", `^530 5\.7\.10 `)
	s.send("MAIL FROM:<x@remote.test>", `^250 `)
	s.send("QUIT", `^221 `)

	c, err := smtp.DialStartTLS(e.addr("mx"), insecureTLS)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, _ := c.Extension("REQUIRETLS"); !ok {
		t.Fatal("REQUIRETLS not offered after STARTTLS")
	}
	if err := c.Mail("x@remote.test", &smtp.MailOptions{RequireTLS: true}); err != nil {
		t.Fatalf("MAIL FROM REQUIRETLS over TLS: %v", err)
	}
	for _, rcpt := range []string{"fwd@example.test", "alice@example.test"} {
		if err := c.Rcpt(rcpt, nil); err != nil {
			t.Errorf("RCPT %s with REQUIRETLS: %v", rcpt, err)
		}
	}

	// Submission: a remote recipient is queued with the mark.
	sub, err := submitClient(t, e, "alice@example.test", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Mail("alice@example.test", &smtp.MailOptions{RequireTLS: true}); err != nil {
		t.Fatal(err)
	}
	if err := sub.Rcpt("friend@far.test", nil); err != nil {
		t.Fatalf("submission RCPT of a remote recipient with REQUIRETLS: %v", err)
	}
	w, err := sub.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("From: alice@example.test\r\nTo: friend@far.test\r\nSubject: secret\r\n\r\nhi\r\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	all, err := e.srv.queue.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || !all[0].RequireTLS || !all[0].Recipients[0].Remote {
		t.Fatalf("queue: %+v, want one remote message marked RequireTLS", all)
	}
}

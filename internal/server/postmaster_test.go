package server

import (
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/rookery-mail/rookery/internal/config"
)

// TestMXPostmaster: RFC 5321 §4.5.1 requires <Postmaster> without a domain
// and postmaster@ of every local domain to be accepted; abuse@ (RFC 2142)
// too. All reach the configured postmaster account.
func TestMXPostmaster(t *testing.T) {
	e := startEnv(t, func(c *config.Config) { c.Postmaster = "carol@example.test" })
	c, err := smtp.Dial(e.addr("mx"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("reporter@remote.test", nil); err != nil {
		t.Fatal(err)
	}
	for _, rcpt := range []string{"Postmaster", "postmaster@example.test", "abuse@EXAMPLE.test"} {
		if err := c.Rcpt(rcpt, nil); err != nil {
			t.Fatalf("RCPT TO:<%s>: %v", rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("Subject: your server\r\n\r\nhello postmaster\r\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	// One copy for the one account the three addresses reach.
	msg := string(e.body(e.waitMessages("carol@example.test", "INBOX", 1)[0]))
	if !strings.Contains(msg, "hello postmaster") {
		t.Errorf("carol's message:\n%s", msg)
	}
}

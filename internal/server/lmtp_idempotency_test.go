package server

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/rookery-mail/rookery/internal/config"
)

// trustLoopback makes the test client an idempotency peer.
func trustLoopback(c *config.Config) {
	c.LMTP.IdempotencyPeers = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
}

// lmtpSend runs one LMTP transaction to alice and bob with MAIL FROM's
// ENVID set to envid ("" for none) and wants 250 for both.
func lmtpSend(t *testing.T, e *testEnv, envid string) {
	t.Helper()
	c := lmtpDial(t, e)
	defer c.Close()
	lmtpTransaction(t, c, envid)
}

// lmtpDial connects and greets.
func lmtpDial(t *testing.T, e *testEnv) *smtp.Client {
	t.Helper()
	conn, err := net.Dial("tcp", e.addr("lmtp"))
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClientLMTP(conn)
	if err := c.Hello("peer.test"); err != nil {
		t.Fatal(err)
	}
	return c
}

// lmtpTransaction is one transaction on c, as lmtpSend.
func lmtpTransaction(t *testing.T, c *smtp.Client, envid string) {
	t.Helper()
	var opts *smtp.MailOptions
	if envid != "" {
		opts = &smtp.MailOptions{EnvelopeID: envid}
	}
	if err := c.Mail("x@remote.test", opts); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"alice@example.test", "bob@example.test"} {
		if err := c.Rcpt(to, nil); err != nil {
			t.Fatal(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("Subject: keyed\r\n\r\nhello\r\n"))
	replies, err := w.CloseWithLMTPResponse()
	if err != nil {
		t.Fatalf("LMTP DATA: %v, want 250 for every recipient", err)
	}
	if len(replies) != 2 {
		t.Fatalf("LMTP replies %v, want one per RCPT", replies)
	}
}

// inboxCount is how many messages user's INBOX holds now.
func (e *testEnv) inboxCount(user string) int {
	e.t.Helper()
	ctx := e.t.Context()
	mb, err := e.store().Mailbox(ctx, user, "INBOX")
	if err != nil {
		e.t.Fatal(err)
	}
	msgs, err := e.store().Messages(ctx, user, mb.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(msgs)
}

func wantInboxes(t *testing.T, e *testEnv, n int) {
	t.Helper()
	for _, u := range []string{"alice@example.test", "bob@example.test"} {
		if got := e.inboxCount(u); got != n {
			t.Errorf("%s has %d messages, want %d", u, got, n)
		}
	}
}

// TestLMTPReplayStoresNothingNew: a peer that lost the reply sends the same
// transaction again with the same ENVID; every recipient is told 250 again
// and no mailbox gains a second copy.
func TestLMTPReplayStoresNothingNew(t *testing.T) {
	e := startEnv(t, trustLoopback)
	lmtpSend(t, e, "q-4711")
	lmtpSend(t, e, "q-4711")
	wantInboxes(t, e, 1)
}

// TestLMTPDifferentKeysStoreTwice: distinct keys are distinct messages.
func TestLMTPDifferentKeysStoreTwice(t *testing.T) {
	e := startEnv(t, trustLoopback)
	lmtpSend(t, e, "q-1")
	lmtpSend(t, e, "q-2")
	wantInboxes(t, e, 2)
}

// TestLMTPWithoutKeyStoresEachTransaction: without ENVID every transaction
// is a new message, as before.
func TestLMTPWithoutKeyStoresEachTransaction(t *testing.T) {
	e := startEnv(t, trustLoopback)
	lmtpSend(t, e, "")
	lmtpSend(t, e, "")
	wantInboxes(t, e, 2)
}

// TestLMTPUntrustedEnvelopeIDIgnored: ENVID from a client that is not an
// idempotency peer is the original sender's, not unique, and keys nothing.
func TestLMTPUntrustedEnvelopeIDIgnored(t *testing.T) {
	e := startEnv(t, func(c *config.Config) {
		c.LMTP.IdempotencyPeers = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	})
	lmtpSend(t, e, "same")
	lmtpSend(t, e, "same")
	wantInboxes(t, e, 2)
}

// TestLMTPKeyIsPerTransaction: a key does not outlive its transaction; the
// next one on the same connection without ENVID is a new message.
func TestLMTPKeyIsPerTransaction(t *testing.T) {
	e := startEnv(t, trustLoopback)
	c := lmtpDial(t, e)
	defer c.Close()
	lmtpTransaction(t, c, "q-9")
	lmtpTransaction(t, c, "")
	lmtpTransaction(t, c, "q-9")
	wantInboxes(t, e, 2)
}

// TestLMTPLongEnvelopeIDRefused: a peer's ENVID over RFC 3461's 100
// characters is a 501 at MAIL, not a silently truncated key.
func TestLMTPLongEnvelopeIDRefused(t *testing.T) {
	e := startEnv(t, trustLoopback)
	c := lmtpDial(t, e)
	defer c.Close()
	err := c.Mail("x@remote.test", &smtp.MailOptions{EnvelopeID: strings.Repeat("k", 101)})
	if smtpCode(err) != 501 {
		t.Fatalf("MAIL with a 101-character ENVID: %v, want 501", err)
	}
}

// TestLMTPNoDSNWithoutPeers: with no idempotency peers (the default) LMTP
// offers no DSN parameters, as before.
func TestLMTPNoDSNWithoutPeers(t *testing.T) {
	e := startEnv(t, nil)
	c := lmtpDial(t, e)
	defer c.Close()
	if ok, _ := c.Extension("DSN"); ok {
		t.Fatal("LHLO offers DSN without idempotency peers")
	}
	c2 := lmtpDial(t, startEnv(t, trustLoopback))
	defer c2.Close()
	if ok, _ := c2.Extension("DSN"); !ok {
		t.Fatal("LHLO does not offer DSN to send ENVID with")
	}
}

package interop

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	rdkim "github.com/rookery-mail/rookery/internal/dkim"
	"github.com/rookery-mail/rookery/internal/dnstest"
	"github.com/rookery-mail/rookery/internal/smtp/outbound"
)

// twoSystems is a.test on 127.0.0.2 and b.test on 127.0.0.3, both
// listening for SMTP on the same port and finding each other through a DNS
// server on loopback; down.test's MX (127.0.0.4) has nothing listening.
type twoSystems struct {
	a, b *node
	dns  *dnstest.Server
}

func startTwoSystems(t *testing.T) *twoSystems {
	t.Helper()
	port := loopbackPort(t, "127.0.0.2", "127.0.0.3", "127.0.0.4")
	dns := dnstest.Start(t, dnstest.Records{
		MX: map[string][]dnstest.MX{
			"a.test":    {{Pref: 10, Host: "mx.a.test"}},
			"b.test":    {{Pref: 10, Host: "mx.b.test"}},
			"down.test": {{Pref: 10, Host: "mx.down.test"}},
		},
		A: map[string][]string{"mx.a.test": {"127.0.0.2"}, "mx.b.test": {"127.0.0.3"}, "mx.down.test": {"127.0.0.4"}},
	})
	extra := fmt.Sprintf("[outbound]\nresolver = %q\nport = %d\n[queue]\nretry = [\"200ms\"]\nmax_age = \"3s\"\n", dns.Addr, port)
	a := startNode(t, nodeConfig{hostname: "mx.a.test", domain: "a.test", user: "alice", mx: fmt.Sprintf("127.0.0.2:%d", port), extra: extra})
	b := startNode(t, nodeConfig{hostname: "mx.b.test", domain: "b.test", user: "bob", mx: fmt.Sprintf("127.0.0.3:%d", port), extra: extra})
	// a.test publishes DKIM keys, as `rookery domain add` + `domain dns` do.
	keys, err := rdkim.GenerateKeys("a.test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if err := a.srv.Directory().AddDKIMKey(context.Background(), k); err != nil {
			t.Fatal(err)
		}
		name, value, err := rdkim.DNSRecord(k)
		if err != nil {
			t.Fatal(err)
		}
		dns.SetTXT(name, value)
	}
	return &twoSystems{a: a, b: b, dns: dns}
}

// submit sends as alice through a.test's submission port (STARTTLS + AUTH).
func (s *twoSystems) submit(t *testing.T, to, msg string) {
	t.Helper()
	c, err := smtp.DialStartTLS(s.a.srv.Addr("submission").String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", s.a.user, nodePassword)); err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail(s.a.user, []string{to}, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
}

func TestSubmitRelayDeliverWithDKIM(t *testing.T) {
	s := startTwoSystems(t)
	msg := "From: Alice <alice@a.test>\r\nTo: bob@b.test\r\nSubject: across systems\r\n\r\nHello Bob, from a.test.\r\n"
	s.submit(t, "bob@b.test", msg)
	got := s.b.messages(t, 1)[0]
	if !bytes.Contains(got, []byte("Hello Bob, from a.test.")) || !bytes.Contains(got, []byte("Delivered-To: bob@b.test")) {
		t.Fatalf("message at b.test:\n%s", got)
	}
	// The signature verifies on arrival against a.test's published keys.
	res := outbound.NewResolver(s.dns.Addr)
	verifications, err := dkim.VerifyWithOptions(bytes.NewReader(got), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) { return res.LookupTXT(context.Background(), domain) },
	})
	if err != nil {
		t.Fatal(err)
	}
	algos := map[string]bool{}
	for _, v := range verifications {
		if v.Err != nil {
			t.Errorf("DKIM signature of %s does not verify: %v", v.Domain, v.Err)
		}
		if v.Domain == "a.test" {
			algos[v.Domain] = true
		}
	}
	if len(verifications) != 2 || len(algos) != 1 {
		t.Fatalf("want two verified a.test signatures (rsa + ed25519), got %+v", verifications)
	}
}

func TestRemoteRejectionBouncesAtOnce(t *testing.T) {
	s := startTwoSystems(t)
	s.submit(t, "nobody@b.test", "From: alice@a.test\r\nTo: nobody@b.test\r\nSubject: to nobody\r\n\r\nhello?\r\n")
	dsn := s.a.messages(t, 1)[0]
	for _, want := range []string{"multipart/report", "report-type=delivery-status", "Action: failed", "Status: 5.1.1", "nobody@b.test", "Subject: to nobody"} {
		if !bytes.Contains(dsn, []byte(want)) {
			t.Errorf("DSN lacks %q:\n%s", want, dsn)
		}
	}
}

func TestUnreachableHostRetriesThenBounces(t *testing.T) {
	s := startTwoSystems(t)
	start := time.Now()
	s.submit(t, "someone@down.test", "From: alice@a.test\r\nTo: someone@down.test\r\nSubject: into the void\r\n\r\nanyone?\r\n")
	dsn := s.a.messages(t, 1)[0]
	if time.Since(start) < 3*time.Second {
		t.Fatalf("bounced after %v, before max_age (3s): no retries happened", time.Since(start))
	}
	for _, want := range []string{"Action: failed", "Status: 4.4.7", "someone@down.test"} {
		if !bytes.Contains(dsn, []byte(want)) {
			t.Errorf("DSN lacks %q:\n%s", want, dsn)
		}
	}
}

// TestBounceToAliasSender: mail sent from an alias that bounces comes back
// to the account behind the alias.
func TestBounceToAliasSender(t *testing.T) {
	s := startTwoSystems(t)
	if err := s.a.srv.Directory().AddAlias(context.Background(), "sales@a.test", []string{"alice@a.test"}); err != nil {
		t.Fatal(err)
	}
	c, err := smtp.DialStartTLS(s.a.srv.Addr("submission").String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", s.a.user, nodePassword)); err != nil {
		t.Fatal(err)
	}
	msg := "From: sales@a.test\r\nTo: nobody@b.test\r\nSubject: offer\r\n\r\nbuy\r\n"
	if err := c.SendMail("sales@a.test", []string{"nobody@b.test"}, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	dsn := s.a.messages(t, 1)[0]
	if !bytes.Contains(dsn, []byte("Delivered-To: alice@a.test")) || !bytes.Contains(dsn, []byte("Status: 5.1.1")) {
		t.Fatalf("bounce to the alias did not reach alice:\n%s", dsn)
	}
}

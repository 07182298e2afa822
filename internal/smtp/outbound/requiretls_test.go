package outbound

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/rookery-mail/rookery/internal/dnstest"
	"github.com/rookery-mail/rookery/internal/queue"
)

// trusting makes the client trust m's self-signed certificate, issued for
// mx.example.test.
func trusting(t *testing.T, m *mta) func(*Options) {
	t.Helper()
	roots := x509.NewCertPool()
	leaf, err := x509.ParseCertificate(m.srv.TLSConfig.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots.AddCert(leaf)
	return func(o *Options) { o.TLS = &tls.Config{RootCAs: roots} }
}

func requireTLSMsg(id string, rcpts ...string) *queue.Message {
	m := msg(id, rcpts...)
	m.RequireTLS = true
	return m
}

// RFC 8689 §4.2.1: over STARTTLS with a certificate valid for the MX name
// and a server offering REQUIRETLS, the message goes with MAIL FROM ...
// REQUIRETLS, so the next hop keeps enforcing it.
func TestRequireTLSRelayedOverVerifiedTLS(t *testing.T) {
	m, dns, port := oneMX(t, mtaConfig{tls: true, requireTLS: true})
	c := newClient(t, dns, port, trusting(t, m))
	res := deliver(t, c, requireTLSMsg("q1", "a@example.test"))
	want(t, res["q1 a@example.test"], queue.Delivered, "")
	got := m.received()
	if len(got) != 1 || !got[0].tls || !got[0].opts.RequireTLS {
		t.Fatalf("want one message over TLS with REQUIRETLS: %+v", got)
	}
}

// A REQUIRETLS message is never sent in plaintext nor over TLS whose
// certificate does not verify for the MX name: it stays queued with a
// 4.7.10 reason (RFC 8689 §4.2.1), while an ordinary message on the same
// session is delivered.
func TestRequireTLSNotSentInPlaintext(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg   mtaConfig
		trust bool
	}{
		"no STARTTLS":    {mtaConfig{requireTLS: true}, false},
		"unverified TLS": {mtaConfig{tls: true, requireTLS: true}, false},
	} {
		t.Run(name, func(t *testing.T) {
			m, dns, port := oneMX(t, tc.cfg)
			c := newClient(t, dns, port)
			res := deliver(t, c, requireTLSMsg("q1", "a@example.test"), msg("q2", "b@example.test"))
			want(t, res["q1 a@example.test"], queue.Pending, "4.7.10")
			want(t, res["q2 b@example.test"], queue.Delivered, "")
			if got := m.received(); len(got) != 1 || got[0].rcpts[0] != "b@example.test" {
				t.Fatalf("only the ordinary message may arrive: %+v", got)
			}
		})
	}
}

// RFC 8689 §4.2.1: the server must advertise REQUIRETLS, or the
// requirement would end at this hop.
func TestRequireTLSNeedsAdvertisedExtension(t *testing.T) {
	m, dns, port := oneMX(t, mtaConfig{tls: true})
	c := newClient(t, dns, port, trusting(t, m))
	res := deliver(t, c, requireTLSMsg("q1", "a@example.test"))
	want(t, res["q1 a@example.test"], queue.Pending, "4.7.30")
	if got := m.received(); len(got) != 0 {
		t.Fatalf("delivered without REQUIRETLS: %+v", got)
	}
}

// RFC 8689 §4.2.1: when the preferred MX host cannot take a REQUIRETLS
// message, the next one that can gets it; ordinary mail still goes to the
// preferred host.
func TestRequireTLSTriesOtherMX(t *testing.T) {
	plain, port := startMTA(t, "127.0.0.1", 0, mtaConfig{})
	secure, _ := startMTA(t, "127.0.0.2", port, mtaConfig{tls: true, requireTLS: true})
	dns := dnstest.Start(t, dnstest.Records{
		MX: map[string][]dnstest.MX{"example.test": {{Pref: 10, Host: "plain.example.test"}, {Pref: 20, Host: "mx.example.test"}}},
		A:  map[string][]string{"plain.example.test": {"127.0.0.1"}, "mx.example.test": {"127.0.0.2"}},
	})
	c := newClient(t, dns, port, trusting(t, secure))
	res := deliver(t, c, requireTLSMsg("q1", "a@example.test"), msg("q2", "b@example.test"))
	want(t, res["q1 a@example.test"], queue.Delivered, "")
	want(t, res["q2 b@example.test"], queue.Delivered, "")
	if got := secure.received(); len(got) != 1 || got[0].rcpts[0] != "a@example.test" || !got[0].opts.RequireTLS {
		t.Fatalf("secure host received %+v", got)
	}
	if got := plain.received(); len(got) != 1 || got[0].rcpts[0] != "b@example.test" {
		t.Fatalf("plain host received %+v", got)
	}
}

package outbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rookery-mail/rookery/internal/dnstest"
	"github.com/rookery-mail/rookery/internal/queue"
)

const body = "From: a@sender.test\r\nSubject: hi\r\n\r\nhello\r\n"

func newClient(t *testing.T, dns *dnstest.Server, port int, mod ...func(*Options)) *Client {
	t.Helper()
	o := Options{
		Hostname:       "out.sender.test",
		Resolver:       NewResolver(dns.Addr),
		Port:           port,
		DialTimeout:    5 * time.Second,
		CommandTimeout: 10 * time.Second,
		Logger:         slog.New(slog.NewTextHandler(t.Output(), nil)),
	}
	for _, f := range mod {
		f(&o)
	}
	c := New(o)
	t.Cleanup(c.Close)
	return c
}

func msg(id string, rcpts ...string) *queue.Message {
	m := &queue.Message{ID: id, From: "a@sender.test", Body: []byte(body), Size: int64(len(body))}
	for _, r := range rcpts {
		m.Recipients = append(m.Recipients, queue.Recipient{Address: r, Remote: true, Status: queue.Pending})
	}
	return m
}

func deliver(t *testing.T, c *Client, msgs ...*queue.Message) map[string]queue.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out := map[string]queue.Result{}
	for _, r := range c.Deliver(ctx, msgs) {
		out[r.MessageID+" "+r.Recipient] = r
	}
	n := 0
	for _, m := range msgs {
		n += len(m.Recipients)
	}
	if len(out) != n {
		t.Fatalf("%d results for %d recipients: %v", len(out), n, out)
	}
	return out
}

func want(t *testing.T, r queue.Result, status queue.Status, errPart string) {
	t.Helper()
	if r.Status != status || !strings.Contains(r.Error, errPart) {
		t.Fatalf("%s: got %s %q, want %s containing %q", r.Recipient, r.Status, r.Error, status, errPart)
	}
}

// oneMX starts an MTA on 127.0.0.1 and DNS saying it is example.test's MX.
func oneMX(t *testing.T, cfg mtaConfig) (*mta, *dnstest.Server, int) {
	t.Helper()
	m, port := startMTA(t, "127.0.0.1", 0, cfg)
	dns := dnstest.Start(t, dnstest.Records{
		MX: map[string][]dnstest.MX{"example.test": {{Pref: 10, Host: "mx.example.test"}}},
		A:  map[string][]string{"mx.example.test": {"127.0.0.1"}},
	})
	return m, dns, port
}

// RFC 5321 §5.1: hosts in preference order; an unreachable one and one
// with a 4xx greeting are skipped.
func TestMXPreference(t *testing.T) {
	good, port := startMTA(t, "127.0.0.3", 0, mtaConfig{})
	busy := startRefuser(t, "127.0.0.4", port)
	worse, _ := startMTA(t, "127.0.0.5", port, mtaConfig{})
	dns := dnstest.Start(t, dnstest.Records{
		MX: map[string][]dnstest.MX{"example.test": {
			{Pref: 30, Host: "mx3.example.test"}, {Pref: 5, Host: "down.example.test"},
			{Pref: 20, Host: "mx2.example.test"}, {Pref: 10, Host: "busy.example.test"}}},
		A: map[string][]string{"down.example.test": {"127.0.0.2"}, "busy.example.test": {"127.0.0.4"},
			"mx2.example.test": {"127.0.0.3"}, "mx3.example.test": {"127.0.0.5"}},
	})
	c := newClient(t, dns, port)
	res := deliver(t, c, msg("q1", "bob@example.test"))
	want(t, res["q1 bob@example.test"], queue.Delivered, "")
	if n := len(good.received()); n != 1 {
		t.Fatalf("mx2 got %d messages", n)
	}
	if n := busy.Load(); n != 1 {
		t.Fatalf("busy host got %d connections", n)
	}
	if n := worse.conns.Load(); n != 0 {
		t.Fatalf("mx3 got %d connections", n)
	}
}

func TestAllHostsDown(t *testing.T) {
	dns := dnstest.Start(t, dnstest.Records{
		MX: map[string][]dnstest.MX{"example.test": {{Pref: 10, Host: "down.example.test"}}},
		A:  map[string][]string{"down.example.test": {"127.0.0.2"}},
	})
	_, port := startMTA(t, "127.0.0.1", 0, mtaConfig{}) // a port nobody serves on 127.0.0.2
	c := newClient(t, dns, port)
	res := deliver(t, c, msg("q1", "bob@example.test"))
	want(t, res["q1 bob@example.test"], queue.Pending, "127.0.0.2")
}

func TestDNSOutcomes(t *testing.T) {
	m, port := startMTA(t, "127.0.0.1", 0, mtaConfig{})
	dns := dnstest.Start(t, dnstest.Records{
		MX: map[string][]dnstest.MX{"null.test": {{Pref: 0, Host: "."}}},
		A:  map[string][]string{"amx.test": {"127.0.0.1"}},
	})
	dns.ServFail("broken.test", true)
	c := newClient(t, dns, port)
	res := deliver(t, c, msg("q1", "a@null.test", "b@amx.test", "c@nowhere.test", "d@broken.test"))
	want(t, res["q1 a@null.test"], queue.Failed, "556 5.1.10")   // RFC 7505
	want(t, res["q1 b@amx.test"], queue.Delivered, "")           // RFC 5321 §5.1 implicit MX
	want(t, res["q1 c@nowhere.test"], queue.Failed, "550 5.1.2") // NXDOMAIN
	want(t, res["q1 d@broken.test"], queue.Pending, "SERVFAIL")  // temporary
	if got := m.received(); len(got) != 1 || !slices.Equal(got[0].rcpts, []string{"b@amx.test"}) {
		t.Fatalf("received %v", got)
	}
	// The same name recovers once DNS does.
	dns.ServFail("broken.test", false)
	dns.SetA("broken.test", "127.0.0.1")
	res = deliver(t, c, msg("q2", "d@broken.test"))
	want(t, res["q2 d@broken.test"], queue.Delivered, "")
}

func TestMXHostServFail(t *testing.T) {
	_, dns, port := oneMX(t, mtaConfig{})
	dns.ServFail("mx.example.test", true)
	c := newClient(t, dns, port)
	res := deliver(t, c, msg("q1", "bob@example.test"))
	want(t, res["q1 bob@example.test"], queue.Pending, "4.4.1")
}

func TestRcptReplies(t *testing.T) {
	m, dns, port := oneMX(t, mtaConfig{})
	m.setRcptErr("full@example.test", &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "mailbox full"})
	m.setRcptErr("gone@example.test", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"})
	c := newClient(t, dns, port)
	res := deliver(t, c, msg("q1", "bob@example.test", "full@example.test", "gone@example.test"))
	want(t, res["q1 bob@example.test"], queue.Delivered, "")
	want(t, res["q1 full@example.test"], queue.Pending, "mx.example.test[127.0.0.1]: 452 4.2.2 mailbox full")
	want(t, res["q1 gone@example.test"], queue.Failed, "mx.example.test[127.0.0.1]: 550 5.1.1 no such user")
	if got := m.received(); len(got) != 1 || !slices.Equal(got[0].rcpts, []string{"bob@example.test"}) {
		t.Fatalf("received %v", got)
	}
}

func TestDataReplies(t *testing.T) {
	for _, tc := range []struct {
		err    *smtp.SMTPError
		status queue.Status
		text   string
	}{
		{&smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "spam"}, queue.Failed, "554 5.7.1 spam"},
		{&smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: "too big"}, queue.Failed, "552 5.3.4 too big"},
		{&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}, queue.Pending, "451 4.3.0 try later"},
	} {
		m, dns, port := oneMX(t, mtaConfig{})
		m.dataErr = tc.err
		c := newClient(t, dns, port)
		res := deliver(t, c, msg("q1", "a@example.test", "b@example.test"))
		want(t, res["q1 a@example.test"], tc.status, tc.text)
		want(t, res["q1 b@example.test"], tc.status, tc.text)
	}
}

func TestSizeLimit(t *testing.T) {
	_, dns, port := oneMX(t, mtaConfig{maxSize: 10})
	c := newClient(t, dns, port)
	res := deliver(t, c, msg("q1", "a@example.test"))
	want(t, res["q1 a@example.test"], queue.Failed, "552 5.3.4")
}

// RFC 3207 opportunistic STARTTLS: a self-signed certificate still gets TLS.
func TestSTARTTLS(t *testing.T) {
	m, dns, port := oneMX(t, mtaConfig{tls: true})
	c := newClient(t, dns, port)
	res := deliver(t, c, msg("q1", "a@example.test"))
	want(t, res["q1 a@example.test"], queue.Delivered, "")
	if got := m.received(); len(got) != 1 || !got[0].tls {
		t.Fatalf("not over TLS: %+v", got)
	}
}

// Postfix level "may": a failed handshake is retried in plaintext.
func TestSTARTTLSHandshakeFails(t *testing.T) {
	m, dns, port := oneMX(t, mtaConfig{tls: true, tlsMax: tls.VersionTLS12})
	c := newClient(t, dns, port, func(o *Options) { o.TLS = &tls.Config{MinVersion: tls.VersionTLS13} })
	res := deliver(t, c, msg("q1", "a@example.test"))
	want(t, res["q1 a@example.test"], queue.Delivered, "")
	if got := m.received(); len(got) != 1 || got[0].tls || m.conns.Load() != 2 {
		t.Fatalf("conns %d, received %+v", m.conns.Load(), got)
	}
}

// An MX host whose name does not resolve is skipped; with no other host the
// delivery is retried, as the DNS data may be fixed.
func TestDanglingMX(t *testing.T) {
	_, dns, port := oneMX(t, mtaConfig{})
	dns.SetA("mx.example.test")
	res := deliver(t, newClient(t, dns, port), msg("q1", "a@example.test"))
	want(t, res["q1 a@example.test"], queue.Pending, "4.4.1")
}

func TestSTARTTLSVerified(t *testing.T) {
	m, dns, port := oneMX(t, mtaConfig{tls: true})
	roots := x509.NewCertPool()
	leaf, _ := x509.ParseCertificate(m.srv.TLSConfig.Certificates[0].Certificate[0])
	roots.AddCert(leaf)
	c := newClient(t, dns, port, func(o *Options) { o.TLS = &tls.Config{RootCAs: roots} })
	cn, err := c.dial(t.Context(), "mx.example.test", []byte{127, 0, 0, 1}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer cn.close(true)
	if cn.tls == "" || !cn.verified {
		t.Fatalf("tls=%q verified=%v", cn.tls, cn.verified)
	}
	cn2, err := c.dial(t.Context(), "other.example.test", []byte{127, 0, 0, 1}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer cn2.close(true)
	if cn2.tls == "" || cn2.verified {
		t.Fatalf("wrong name: tls=%q verified=%v", cn2.tls, cn2.verified)
	}
}

// Several messages to one domain share a connection, across Deliver calls
// too while the idle session is cached.
func TestConnectionReuse(t *testing.T) {
	m, dns, port := oneMX(t, mtaConfig{tls: true})
	reg := prometheus.NewRegistry()
	c := newClient(t, dns, port, func(o *Options) { o.Registerer = reg })
	res := deliver(t, c, msg("q1", "a@example.test"), msg("q2", "b@example.test", "c@example.test"), msg("q3", "d@example.test"))
	for k, r := range res {
		want(t, r, queue.Delivered, k[:0])
	}
	res = deliver(t, c, msg("q4", "e@example.test"))
	want(t, res["q4 e@example.test"], queue.Delivered, "")
	if n := m.conns.Load(); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
	if got := m.received(); len(got) != 4 || len(got[1].rcpts) != 2 {
		t.Fatalf("received %+v", got)
	}
	if v := gauge(t, reg, "rookery_outbound_connections_open", ""); v != 1 {
		t.Fatalf("connections_open = %v while cached", v)
	}
	if v := gauge(t, reg, "rookery_outbound_deliveries_total", "delivered"); v != 5 {
		t.Fatalf("delivered = %v", v)
	}
	c.Close()
	if v := gauge(t, reg, "rookery_outbound_connections_open", ""); v != 0 {
		t.Fatalf("connections_open = %v after Close", v)
	}
}

// RFC 6531 §3.4: a message that needs SMTPUTF8 bounces at a server
// without it, and goes through at one with it.
func TestSMTPUTF8(t *testing.T) {
	m := msg("q1", "a@example.test")
	m.SMTPUTF8 = true
	_, dns, port := oneMX(t, mtaConfig{})
	res := deliver(t, newClient(t, dns, port), m)
	want(t, res["q1 a@example.test"], queue.Failed, "5.6.7")

	srv, dns2, port2 := oneMXAt(t, "127.0.0.2", mtaConfig{utf8: true})
	res = deliver(t, newClient(t, dns2, port2), m)
	want(t, res["q1 a@example.test"], queue.Delivered, "")
	if got := srv.received(); len(got) != 1 || !got[0].opts.UTF8 {
		t.Fatalf("received %+v", got)
	}
}

func oneMXAt(t *testing.T, ip string, cfg mtaConfig) (*mta, *dnstest.Server, int) {
	t.Helper()
	m, port := startMTA(t, ip, 0, cfg)
	dns := dnstest.Start(t, dnstest.Records{
		MX: map[string][]dnstest.MX{"example.test": {{Pref: 10, Host: "mx.example.test"}}},
		A:  map[string][]string{"mx.example.test": {ip}},
	})
	return m, dns, port
}

// RFC 5321 §4.5.2: the body arrives byte for byte, dots and 8-bit included.
func TestBodyIntact(t *testing.T) {
	m, dns, port := oneMX(t, mtaConfig{})
	b := []byte("Subject: dots\r\n\r\n.\r\n..two\r\n.leading\r\nnaïve 8-bit \xff\r\n\r\n.\r\nend\r\n")
	q := msg("q1", "a@example.test")
	q.Body = b
	res := deliver(t, newClient(t, dns, port), q)
	want(t, res["q1 a@example.test"], queue.Delivered, "")
	got := m.received()
	if len(got) != 1 || !bytes.Equal(got[0].body, b) {
		t.Fatalf("body changed:\n%q\n%q", b, got[0].body)
	}
	if got[0].opts.Size != int64(len(b)) {
		t.Fatalf("SIZE=%d, want %d", got[0].opts.Size, len(b))
	}
}

func TestCancelled(t *testing.T) {
	_, dns, port := oneMX(t, mtaConfig{})
	c := newClient(t, dns, port)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, r := range c.Deliver(ctx, []*queue.Message{msg("q1", "a@example.test")}) {
		want(t, r, queue.Pending, "")
	}
}

// gauge reads a metric's value from reg; label is the one label's value.
func gauge(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label != "" && (len(m.GetLabel()) != 1 || m.GetLabel()[0].GetValue() != label) {
				continue
			}
			return m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	return 0
}

// RFC 5321 §3.8: a 421 ends the session; the next message reconnects.
func TestReconnectAfter421(t *testing.T) {
	m, dns, port := oneMX(t, mtaConfig{})
	m.setRcptErr("drop@example.test", &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "shutting down"})
	c := newClient(t, dns, port)
	res := deliver(t, c, msg("q1", "a@example.test", "drop@example.test"), msg("q2", "b@example.test"))
	want(t, res["q1 a@example.test"], queue.Pending, "421 4.3.2")
	want(t, res["q1 drop@example.test"], queue.Pending, "421 4.3.2")
	want(t, res["q2 b@example.test"], queue.Delivered, "")
	if n := m.conns.Load(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
}

// An idle cached session is closed after IdleTimeout.
func TestIdleExpiry(t *testing.T) {
	_, dns, port := oneMX(t, mtaConfig{})
	reg := prometheus.NewRegistry()
	c := newClient(t, dns, port, func(o *Options) { o.Registerer = reg; o.IdleTimeout = 20 * time.Millisecond })
	deliver(t, c, msg("q1", "a@example.test"))
	deadline := time.Now().Add(10 * time.Second)
	for gauge(t, reg, "rookery_outbound_connections_open", "") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("idle connection not closed")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A transaction left open (every RCPT refused) is reset before the next
// message on the same connection.
func TestResetAfterAbortedTransaction(t *testing.T) {
	m, dns, port := oneMX(t, mtaConfig{})
	m.setRcptErr("gone@example.test", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"})
	c := newClient(t, dns, port)
	res := deliver(t, c, msg("q1", "gone@example.test"), msg("q2", "bob@example.test"), msg("q3", "ann@example.test"))
	want(t, res["q1 gone@example.test"], queue.Failed, "550 5.1.1")
	want(t, res["q2 bob@example.test"], queue.Delivered, "")
	want(t, res["q3 ann@example.test"], queue.Delivered, "")
	got := m.received()
	if m.conns.Load() != 1 || len(got) != 2 || !slices.Equal(got[0].rcpts, []string{"bob@example.test"}) {
		t.Fatalf("conns %d, received %+v", m.conns.Load(), got)
	}
}

package server

import (
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/dnstest"
)

// remoteMTA is another system's MX on 127.0.0.1: it records what it is
// sent.
type remoteMTA struct {
	mu   sync.Mutex
	msgs []relayed
}

type relayed struct {
	from string
	to   []string
	data string
}

func (m *remoteMTA) NewSession(*smtp.Conn) (smtp.Session, error) { return &remoteSession{m: m}, nil }

type remoteSession struct {
	m   *remoteMTA
	cur relayed
}

func (s *remoteSession) Reset()        { s.cur = relayed{} }
func (s *remoteSession) Logout() error { return nil }
func (s *remoteSession) Mail(from string, _ *smtp.MailOptions) error {
	s.cur.from = from
	return nil
}
func (s *remoteSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.to = append(s.cur.to, to)
	return nil
}
func (s *remoteSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.cur.data = string(b)
	s.m.mu.Lock()
	s.m.msgs = append(s.m.msgs, s.cur)
	s.m.mu.Unlock()
	return err
}

// startRemoteMTA serves domain's MX on 127.0.0.1 and returns the config
// edit that makes the node's outbound role find it.
func startRemoteMTA(t *testing.T, domain string) (*remoteMTA, func(*config.Config)) {
	t.Helper()
	m := &remoteMTA{}
	srv := smtp.NewServer(m)
	srv.Domain = "mx." + domain
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	dns := dnstest.Start(t, dnstest.Records{
		MX: map[string][]dnstest.MX{domain: {{Pref: 10, Host: "mx." + domain}}},
		A:  map[string][]string{"mx." + domain: {"127.0.0.1"}},
	})
	port := l.Addr().(*net.TCPAddr).Port
	return m, func(c *config.Config) {
		c.Outbound.Resolver = dns.Addr
		c.Outbound.Port = port
	}
}

// wait returns the relayed messages once there are n.
func (m *remoteMTA) wait(t *testing.T, n int) []relayed {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m.mu.Lock()
		got := append([]relayed(nil), m.msgs...)
		m.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("remote MTA got %d messages after 10s, want %d", len(got), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMXForwardsExternalAliasTargets: an alias target of another system is
// relayed through the queue and outbound, with the original envelope
// sender; the local target gets its copy as before.
func TestMXForwardsExternalAliasTargets(t *testing.T) {
	remote, edit := startRemoteMTA(t, "far.test")
	e := startEnv(t, edit)
	if err := e.srv.Directory().AddAlias(t.Context(), "team@example.test", []string{"alice@example.test", "Friend@far.test"}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Directory().AddAlias(t.Context(), "fwd@example.test", []string{"friend@far.test"}); err != nil {
		t.Fatal(err)
	}
	body := "From: sender@remote.test\r\nSubject: forwarded\r\n\r\nhello team\r\n"
	// friend@far.test is reached twice: one copy.
	sendMail(t, e.addr("mx"), "sender@remote.test", []string{"team@example.test", "fwd@example.test"}, body)

	e.waitMessages("alice@example.test", "INBOX", 1)
	got := remote.wait(t, 1)
	if len(got) != 1 || got[0].from != "sender@remote.test" || strings.Join(got[0].to, ",") != "friend@far.test" {
		t.Fatalf("relayed %+v, want one message from sender@remote.test to friend@far.test", got)
	}
	if !strings.HasSuffix(got[0].data, body) {
		t.Errorf("relayed body:\n%s", got[0].data)
	}
}

// TestLMTPRefusesForwardingAlias: LMTP delivers into mailboxes only, so an
// alias that forwards outside is refused with a reason, not half-delivered.
func TestLMTPRefusesForwardingAlias(t *testing.T) {
	e := startEnv(t, nil)
	if err := e.srv.Directory().AddAlias(t.Context(), "fwd@example.test", []string{"bob@example.test", "friend@far.test"}); err != nil {
		t.Fatal(err)
	}
	c := lmtpDial(t, e)
	defer c.Close()
	if err := c.Mail("x@remote.test", nil); err != nil {
		t.Fatal(err)
	}
	err := c.Rcpt("fwd@example.test", nil)
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 550 || se.EnhancedCode != (smtp.EnhancedCode{5, 3, 3}) || !strings.Contains(se.Message, "forwards") {
		t.Fatalf("RCPT of a forwarding alias over LMTP: %v, want 550 5.3.3 naming the forward", err)
	}
}

package outbound

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// mta is a fake remote MTA: a real go-smtp server that records what it
// receives and answers as told.
type mta struct {
	srv   *smtp.Server
	conns atomic.Int32

	mu   sync.Mutex
	msgs []received
	// rcptErr answers RCPT for an address; dataErr answers DATA.
	rcptErr map[string]*smtp.SMTPError
	dataErr *smtp.SMTPError
}

type received struct {
	from  string
	rcpts []string
	body  []byte
	tls   bool
	opts  smtp.MailOptions
}

type mtaConfig struct {
	tls     bool
	tlsMax  uint16 // highest TLS version the server accepts
	utf8    bool
	maxSize int64
	// requireTLS advertises REQUIRETLS (go-smtp does so only after STARTTLS).
	requireTLS bool
}

// startMTA serves on ip:port (port 0 picks one) until the test ends.
func startMTA(t *testing.T, ip string, port int, cfg mtaConfig) (*mta, int) {
	t.Helper()
	m := &mta{rcptErr: map[string]*smtp.SMTPError{}}
	m.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{m: m, c: c}, nil
	}))
	m.srv.Domain = "mx." + ip
	m.srv.EnableSMTPUTF8 = cfg.utf8
	m.srv.MaxMessageBytes = cfg.maxSize
	m.srv.EnableREQUIRETLS = cfg.requireTLS
	if cfg.tls {
		m.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}, MaxVersion: cfg.tlsMax}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	go m.srv.Serve(&countingListener{Listener: l, n: &m.conns})
	t.Cleanup(func() { m.srv.Close() })
	return m, l.Addr().(*net.TCPAddr).Port
}

func (m *mta) received() []received {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]received(nil), m.msgs...)
}

func (m *mta) setRcptErr(addr string, err *smtp.SMTPError) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rcptErr[addr] = err
}

type countingListener struct {
	net.Listener
	n *atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

type session struct {
	m   *mta
	c   *smtp.Conn
	cur received
	// open is set between MAIL and the end of the transaction, so a client
	// that forgets RSET after an aborted transaction is caught (RFC 5321
	// §4.1.4: MAIL inside a transaction is a sequence error).
	open bool
}

func (s *session) Reset()        { s.cur, s.open = received{}, false }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if s.open {
		return &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "nested MAIL command"}
	}
	s.open = true
	s.cur = received{from: from}
	if opts != nil {
		s.cur.opts = *opts
	}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.m.mu.Lock()
	err := s.m.rcptErr[to]
	s.m.mu.Unlock()
	if err != nil {
		return err
	}
	s.cur.rcpts = append(s.cur.rcpts, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	body, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if s.m.dataErr != nil {
		return s.m.dataErr
	}
	s.cur.body = body
	_, s.cur.tls = s.c.TLSConnectionState()
	s.m.msgs = append(s.m.msgs, s.cur)
	return nil
}

// startRefuser serves a 4xx greeting and hangs up, like a busy MTA. It
// returns the connection count.
func startRefuser(t *testing.T, ip string, port int) *atomic.Int32 {
	var n atomic.Int32
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Write([]byte("421 4.3.2 too busy\r\n"))
			c.Close()
		}
	}()
	return &n
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mx.example.test"},
		DNSNames:     []string{"mx.example.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

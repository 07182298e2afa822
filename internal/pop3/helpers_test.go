package pop3

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rookery-mail/rookery/internal/blob/fsblob"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/mailstore/sqlitestore"
)

// testBackend accepts fixed users; it is the unit seam for the directory.
type testBackend struct {
	users map[string]string
	store mailstore.Store
}

func (b *testBackend) Login(ctx context.Context, username, password string, remote net.Addr) (Login, error) {
	if pw, ok := b.users[strings.ToLower(username)]; !ok || pw != password {
		return Login{}, ErrAuthFailed
	}
	user := strings.ToLower(username)
	return Login{User: user, Store: b.store}, b.store.EnsureAccount(ctx, user)
}

type testEnv struct {
	addr  string
	srv   *Server
	store mailstore.Store
	reg   *prometheus.Registry
}

// startServer runs the real server on 127.0.0.1:0 over a temp-dir
// sqlitestore; users alice/alicepw and bob/bobpw. The server stops at
// test cleanup. POP3_TRACE=1 logs the protocol to stderr.
func startServer(t testing.TB, tweak ...func(*Options)) *testEnv {
	t.Helper()
	return startServerOn(t, nil, tweak...)
}

// startServerOn is startServer with the listener wrapped (TLS, a fake
// remote address) when wrap is not nil.
func startServerOn(t testing.TB, wrap func(net.Listener) net.Listener, tweak ...func(*Options)) *testEnv {
	t.Helper()
	dir := t.TempDir()
	blobs, err := fsblob.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("POP3_TRACE") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	store, err := sqlitestore.Open(context.Background(), sqlitestore.Options{
		Name: "test", Path: filepath.Join(dir, "mail.db"), Blobs: blobs, Hub: mailstore.NewHub(), Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	opts := Options{
		Hostname:   "pop3.test",
		Backend:    &testBackend{users: map[string]string{"alice": "alicepw", "bob": "bobpw"}, store: store},
		Logger:     logger,
		Registerer: reg,
	}
	for _, f := range tweak {
		f(&opts)
	}
	srv := NewServer(opts)
	srv.authDelay = func(context.Context, int) {}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if wrap != nil {
		l = wrap(l)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-served
		store.Close()
	})
	return &testEnv{addr: addr, srv: srv, store: store, reg: reg}
}

// appendMessage stores a message in user's INBOX directly in the store.
func (e *testEnv) appendMessage(t testing.TB, user, body string) uint32 {
	t.Helper()
	ctx := context.Background()
	if err := e.store.EnsureAccount(ctx, user); err != nil {
		t.Fatal(err)
	}
	mb, err := e.store.Mailbox(ctx, user, mailstore.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	uid, err := e.store.Append(ctx, user, mb.ID, mailstore.NewMessage{Body: strings.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	return uid
}

// inbox returns user's INBOX and its messages, straight from the store.
func (e *testEnv) inbox(t testing.TB, user string) (mailstore.MailboxInfo, []mailstore.Message) {
	t.Helper()
	ctx := context.Background()
	mb, err := e.store.Mailbox(ctx, user, mailstore.Inbox)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := e.store.Messages(ctx, user, mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	return mb, msgs
}

// tconn is a raw protocol client for transcript tests.
type tconn struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *tconn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	tc := &tconn{t: t, c: c, br: bufio.NewReader(c)}
	tc.expect(`\+OK pop3\.test Rookery POP3 ready\.`)
	return tc
}

func (c *tconn) send(s string) {
	c.t.Helper()
	c.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c.c, s); err != nil {
		c.t.Fatalf("write %q: %v", s, err)
	}
}

func (c *tconn) readLine() string {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := c.br.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (got %q)", err, line)
	}
	if !strings.HasSuffix(line, "\r\n") {
		c.t.Fatalf("line without CRLF: %q", line)
	}
	return strings.TrimSuffix(line, "\r\n")
}

// expect reads one line per pattern; each pattern must match the whole line.
func (c *tconn) expect(patterns ...string) {
	c.t.Helper()
	for _, p := range patterns {
		line := c.readLine()
		if !regexp.MustCompile(`^(?:` + p + `)$`).MatchString(line) {
			c.t.Fatalf("got  %q\nwant %q", line, p)
		}
	}
}

// cmd sends a command line and expects the given lines back.
func (c *tconn) cmd(line string, patterns ...string) {
	c.t.Helper()
	c.send(line + "\r\n")
	c.expect(patterns...)
}

// multi reads a multi-line response body up to the "." line, un-stuffed,
// each line with its CRLF: the bytes the client stores.
func (c *tconn) multi() string {
	c.t.Helper()
	var b strings.Builder
	for {
		l := c.readLine()
		if l == "." {
			return b.String()
		}
		b.WriteString(strings.TrimPrefix(l, ".") + "\r\n")
	}
}

// expectClosed waits for the server to close the connection.
func (c *tconn) expectClosed() {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := c.br.ReadString('\n'); err != io.EOF {
		c.t.Fatalf("want EOF, got %q, %v", line, err)
	}
}

func (c *tconn) login(user string) {
	c.t.Helper()
	c.cmd("USER "+user, `\+OK .*`)
	c.cmd("PASS "+user+"pw", `\+OK Logged in\.`)
}

const testMsg = "From: Alice <alice@example.org>\r\n" +
	"To: Bob <bob@example.org>\r\n" +
	"Subject: Hello there\r\n" +
	"\r\n" +
	"Hi Bob,\r\n" +
	".a line starting with a dot\r\n" +
	"..two dots\r\n" +
	".\r\n" +
	"last line\r\n"

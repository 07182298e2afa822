package imap

import (
	"bufio"
	"context"
	"fmt"
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
	"github.com/rookery-mail/rookery/internal/imap/imapmsg"
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
	dir   string // data directory: mail.db and blobs/
}

// startServer runs the real server on 127.0.0.1:0 over a temp-dir
// sqlitestore; users alice/alicepw and bob/bobpw. The server stops at
// test cleanup.
func startServer(t testing.TB, tweak ...func(*Options)) *testEnv {
	t.Helper()
	return startServerStore(t, nil, tweak...)
}

// startServerStore is startServer with the store's options tweaked too.
func startServerStore(t testing.TB, storeTweak func(*sqlitestore.Options), tweak ...func(*Options)) *testEnv {
	t.Helper()
	return startServerOn(t, storeTweak, nil, tweak...)
}

// startServerOn is startServerStore with the listener wrapped by wrap
// (a PROXY protocol listener) when it is not nil.
func startServerOn(t testing.TB, storeTweak func(*sqlitestore.Options), wrap func(net.Listener) net.Listener, tweak ...func(*Options)) *testEnv {
	t.Helper()
	dir := t.TempDir()
	blobs, err := fsblob.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("IMAP_TRACE") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	storeOpts := sqlitestore.Options{
		Name: "test", Path: filepath.Join(dir, "mail.db"), Blobs: blobs, Hub: mailstore.NewHub(), Logger: logger,
		TextExtractor: imapmsg.SearchText, TextFold: imapmsg.Fold, SentDate: imapmsg.SentDate,
	}
	if storeTweak != nil {
		storeTweak(&storeOpts)
	}
	store, err := sqlitestore.Open(context.Background(), storeOpts)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	opts := Options{
		Hostname:   "imap.test",
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
	return &testEnv{addr: l.Addr().String(), srv: srv, store: store, reg: reg, dir: dir}
}

// appendMessage stores a message for user in mailbox directly in the store.
func (e *testEnv) appendMessage(t testing.TB, user, mailbox, body string, flags ...string) uint32 {
	t.Helper()
	ctx := context.Background()
	if err := e.store.EnsureAccount(ctx, user); err != nil {
		t.Fatal(err)
	}
	mb, err := e.store.Mailbox(ctx, user, mailbox)
	if err != nil {
		t.Fatal(err)
	}
	uid, err := e.store.Append(ctx, user, mb.ID, mailstore.NewMessage{Body: strings.NewReader(body), Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	return uid
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
	tc.expect(`\* OK \[CAPABILITY IMAP4rev1 .*\] imap\.test Rookery IMAP ready`)
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
	return strings.TrimRight(line, "\r\n")
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

// readUntilTagged returns all lines up to and including the tagged reply.
func (c *tconn) readUntilTagged(tag string) []string {
	c.t.Helper()
	var lines []string
	for {
		l := c.readLine()
		lines = append(lines, l)
		if strings.HasPrefix(l, tag+" ") {
			return lines
		}
	}
}

func (c *tconn) login(user string) {
	c.t.Helper()
	c.cmd(fmt.Sprintf("L1 LOGIN %s %spw", user, user), `L1 OK \[CAPABILITY .*\] Logged in`)
}

const testMsg = "From: Alice <alice@example.org>\r\n" +
	"To: Bob <bob@example.org>\r\n" +
	"Subject: Hello there\r\n" +
	"Date: Mon, 02 Jan 2023 15:04:05 +0000\r\n" +
	"Message-ID: <1@example.org>\r\n" +
	"\r\n" +
	"Hi Bob,\r\nthis is a test.\r\n"

package mx

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/queue"
	"github.com/rookery-mail/rookery/internal/router"
)

// fakeResolver and fakeQueue are unit seams for failure paths the real
// engines cannot be made to produce on demand; the end-to-end tests in
// internal/server use the real ones.
type fakeResolver map[string]error

func (f fakeResolver) Resolve(_ context.Context, addr string) (directory.Resolution, error) {
	if err, ok := f[addr]; ok {
		return directory.Resolution{}, err
	}
	return directory.Resolution{Accounts: []directory.Account{{Address: addr, Mailstore: "default"}}}, nil
}

type fakeQueue struct {
	queue.Store
	err  error
	msgs []*queue.Message
}

func (f *fakeQueue) Enqueue(_ context.Context, m *queue.Message) error {
	if f.err != nil {
		return f.err
	}
	f.msgs = append(f.msgs, m)
	return nil
}

func start(t *testing.T, res Resolver, q queue.Store) string {
	t.Helper()
	s := New(Options{Hostname: "mx.test", Resolver: res, Queue: q, MaxMessageSize: 1 << 20, MaxRecipients: 5, Logger: slog.New(slog.DiscardHandler)})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return l.Addr().String()
}

// transcript sends each client line and checks the reply's prefix.
func transcript(t *testing.T, addr string, steps [][2]string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	read := func() string {
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if len(line) < 4 || line[3] != '-' {
				return strings.TrimRight(line, "\r\n")
			}
		}
	}
	if got := read(); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("greeting %q", got)
	}
	for _, st := range steps {
		fmt.Fprintf(c, "%s\r\n", st[0])
		if got := read(); !strings.HasPrefix(got, st[1]) {
			t.Fatalf("C: %s\nS: %s\nwant prefix %q", st[0], got, st[1])
		}
	}
}

func TestDirectoryFailureIs451NotBounce(t *testing.T) {
	res := fakeResolver{
		"down@example.test":   errors.New("directory: connection refused"),
		"nobody@example.test": router.ErrUnknownUser,
		"x@elsewhere.test":    router.ErrNotLocal,
		"bad@@example.test":   router.ErrInvalidAddress,
	}
	addr := start(t, res, &fakeQueue{})
	transcript(t, addr, [][2]string{
		{"EHLO c.test", "250 "},
		{"RCPT TO:<a@example.test>", "5"}, // go-smtp says 502
		{"MAIL FROM:<s@remote.test>", "250 "},
		{"RCPT TO:<down@example.test>", "451 4.3.0"},
		{"RCPT TO:<nobody@example.test>", "550 5.1.1"},
		{"RCPT TO:<x@elsewhere.test>", "554 5.7.1"},
		{"DATA", "5"},
		{"QUIT", "221 "},
	})
}

func TestQueueFailureIs451(t *testing.T) {
	q := &fakeQueue{err: errors.New("disk full")}
	addr := start(t, fakeResolver{}, q)
	transcript(t, addr, [][2]string{
		{"EHLO c.test", "250 "},
		{"MAIL FROM:<s@remote.test>", "250 "},
		{"RCPT TO:<a@example.test>", "250 "},
		{"DATA", "354 "},
		{"Subject: x\r\n\r\nbody\r\n.", "451 4.3.0"},
		{"QUIT", "221 "},
	})
}

func TestMaxRecipients(t *testing.T) {
	q := &fakeQueue{}
	addr := start(t, fakeResolver{}, q)
	steps := [][2]string{{"EHLO c.test", "250 "}, {"MAIL FROM:<>", "250 "}}
	for i := 0; i < 5; i++ {
		steps = append(steps, [2]string{fmt.Sprintf("RCPT TO:<u%d@example.test>", i), "250 "})
	}
	steps = append(steps, [2]string{"RCPT TO:<u9@example.test>", "452 "}, [2]string{"QUIT", "221 "})
	transcript(t, addr, steps)
}

// fakeQuota gives each address a room in bytes; an address missing from
// the map has a failing quota lookup.
type fakeQuota map[string]int64

func (f fakeQuota) Room(_ context.Context, a directory.Account) (int64, int64, error) {
	b, ok := f[a.Address]
	if !ok {
		return 0, 0, errors.New("store down")
	}
	return b, -1, nil
}

// TestQuotaAtRCPT: a full mailbox is 452 4.2.2, one too small for the
// declared SIZE 552 5.2.2; a quota that cannot be read refuses nothing.
func TestQuotaAtRCPT(t *testing.T) {
	s := New(Options{Hostname: "mx.test", Resolver: fakeResolver{}, Queue: &fakeQueue{}, Logger: slog.New(slog.DiscardHandler),
		Quota: fakeQuota{"full@example.test": 10, "small@example.test": 1000, "free@example.test": -1}})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	transcript(t, l.Addr().String(), [][2]string{
		{"EHLO c.test", "250 "},
		{"MAIL FROM:<s@remote.test> SIZE=2000", "250 "},
		{"RCPT TO:<full@example.test>", "452 4.2.2"},
		{"RCPT TO:<small@example.test>", "552 5.2.2"},
		{"RCPT TO:<free@example.test>", "250 "},
		{"RCPT TO:<unknown-quota@example.test>", "250 "},
		{"RSET", "250 "},
		{"MAIL FROM:<s@remote.test>", "250 "},
		{"RCPT TO:<small@example.test>", "250 "},
		{"QUIT", "221 "},
	})
}

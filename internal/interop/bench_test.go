package interop

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/dnstest"
)

// countingSink is a remote MTA that accepts everything and counts
// recipients of completed transactions.
type countingSink struct {
	mu    sync.Mutex
	rcpts int
	done  chan struct{}
	want  int
}

func (s *countingSink) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &countingSession{s: s}, nil
}

type countingSession struct {
	s *countingSink
	n int
}

func (c *countingSession) Reset()                               { c.n = 0 }
func (c *countingSession) Logout() error                        { return nil }
func (c *countingSession) Mail(string, *smtp.MailOptions) error { return nil }
func (c *countingSession) Rcpt(string, *smtp.RcptOptions) error { c.n++; return nil }
func (c *countingSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	c.s.mu.Lock()
	c.s.rcpts += c.n
	if c.s.rcpts >= c.s.want && c.s.done != nil {
		close(c.s.done)
		c.s.done = nil
	}
	c.s.mu.Unlock()
	return nil
}

func submitter(tb testing.TB, n *node) *smtp.Client {
	c, err := smtp.DialStartTLS(n.srv.Addr("submission").String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.Auth(sasl.NewPlainClient("", n.user, nodePassword)); err != nil {
		tb.Fatal(err)
	}
	return c
}

// BenchmarkOutboundFanout: 10 KB messages to 100 recipients across 10
// domains, submitted over 587 and delivered by the outbound role to a local
// sink; the figure is messages/second until the sink has every recipient.
func BenchmarkOutboundFanout(b *testing.B) {
	sink := &countingSink{done: make(chan struct{}), want: 100 * b.N}
	srv := smtp.NewServer(sink)
	srv.Domain = "sink.test"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	recs := dnstest.Records{MX: map[string][]dnstest.MX{}, A: map[string][]string{"mx.sink.test": {"127.0.0.1"}}}
	var rcpts []string
	for d := 0; d < 10; d++ {
		dom := fmt.Sprintf("d%d.test", d)
		recs.MX[dom] = []dnstest.MX{{Pref: 10, Host: "mx.sink.test"}}
		for u := 0; u < 10; u++ {
			rcpts = append(rcpts, fmt.Sprintf("u%d@%s", u, dom))
		}
	}
	dns := dnstest.Start(b, recs)
	n := startNodeB(b, nodeConfig{hostname: "mx.a.test", domain: "a.test", user: "alice",
		extra: fmt.Sprintf("[outbound]\nresolver = %q\nport = %d\n", dns.Addr, l.Addr().(*net.TCPAddr).Port)})
	msg := "From: alice@a.test\r\nSubject: fanout\r\n\r\n" + strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\r\n", 160)
	c := submitter(b, n)
	defer c.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.SendMail(n.user, rcpts, strings.NewReader(msg)); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-sink.done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("sink got %d of %d recipients", sink.rcpts, sink.want)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(100*b.N)/b.Elapsed().Seconds(), "rcpts/s")
}

// BenchmarkSubmissionToMailboxLatency: time from the 250 after DATA on 587
// to the message being in the local recipient's mailbox; median and p99.
func BenchmarkSubmissionToMailboxLatency(b *testing.B) {
	n := startNodeB(b, nodeConfig{hostname: "mx.a.test", domain: "a.test", user: "alice"})
	st := n.srv.Stores()[config.DefaultMailstore]
	ctx := context.Background()
	c := submitter(b, n)
	defer c.Close()
	// First delivery creates the mailboxes.
	if err := c.SendMail(n.user, []string{n.user}, strings.NewReader("From: alice@a.test\r\n\r\nwarm up\r\n")); err != nil {
		b.Fatal(err)
	}
	n.messages(b, 1)
	mb, err := st.Mailbox(ctx, n.user, "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	watch, cancel := st.Watch(n.user, mb.ID)
	defer cancel()
	var lat []time.Duration
	msg := "From: alice@a.test\r\nSubject: latency\r\n\r\n" + strings.Repeat("x", 10000) + "\r\n"
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.SendMail(n.user, []string{n.user}, strings.NewReader(msg)); err != nil {
			b.Fatal(err)
		}
		accepted := time.Now()
		for {
			select {
			case <-watch:
			case <-time.After(10 * time.Second):
				b.Fatal("not delivered within 10s")
			}
			st2, _ := st.Status(ctx, n.user, mb.ID)
			if int(st2.Messages) >= i+2 {
				break
			}
		}
		lat = append(lat, time.Since(accepted))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

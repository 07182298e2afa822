package server

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// engineSessions is the number of parallel SMTP clients, as in
// BenchmarkSMTPAccept.
const engineSessions = 20

// engineBody is a 10 KB message.
var engineBody = "Subject: bench\r\n\r\n" +
	strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\r\n", 160)

// BenchmarkEngines compares the embedded and the scaled engine sets
// (issue #9) back to back in one run: SMTP accept, MX to mailbox
// (throughput under load and latency of a lone message), and
// IMAP FETCH/SEARCH on a 10,000-message INBOX. Read the figures as
// scaled/embedded ratios on the same machine; docs/BENCHMARKS.md has
// recorded runs.
func BenchmarkEngines(b *testing.B) {
	b.Run("SMTPAccept", func(b *testing.B) { forEngineSet(b, benchSMTPAccept) })
	b.Run("MXToMailbox", func(b *testing.B) { forEngineSet(b, benchMXToMailbox) })
	b.Run("MXLatency", func(b *testing.B) { forEngineSet(b, benchMXLatency) })
	b.Run("IMAP10k", func(b *testing.B) { forEngineSet(b, benchIMAP10k) })
}

// benchSMTPAccept: one 10 KB message per iteration over engineSessions
// parallel sessions, each answered 250 only after the queue commit; the
// queue delivers meanwhile, as in production.
func benchSMTPAccept(b *testing.B, e *testEnv) {
	start, accepted := smtpLoad(b, e.addr("mx"), "alice@example.test")
	reportRate(b, len(accepted), accepted[len(accepted)-1].Sub(start))
}

// benchMXToMailbox: messages sent as in benchSMTPAccept, timed from the
// first connection until the last one is in the recipient's INBOX
// (sampled every 5 ms). The load outruns delivery, so this is delivery
// throughput; benchMXLatency is the latency of a lone message.
func benchMXToMailbox(b *testing.B, e *testEnv) {
	const user = "bob@example.test"
	count := inboxCounter(b, e, user)
	start, accepted := smtpLoad(b, e.addr("mx"), user)
	last := waitInbox(b, count, len(accepted), 5*time.Millisecond)
	reportRate(b, len(accepted), last.Sub(start))
}

// benchMXLatency: one message at a time, from connecting to the MX until
// it is in the recipient's INBOX (sampled every millisecond), on an
// otherwise idle node.
func benchMXLatency(b *testing.B, e *testEnv) {
	const user = "bob@example.test"
	count := inboxCounter(b, e, user)
	var tempfails atomic.Int64
	for n := 1; b.Loop(); n++ {
		if err := sendRetrying(e.addr("mx"), user, &tempfails); err != nil {
			b.Fatal(err)
		}
		waitInbox(b, count, n, time.Millisecond)
	}
	b.ReportMetric(float64(tempfails.Load()), "tempfails")
}

// inboxCounter returns a function counting the messages in user's INBOX.
func inboxCounter(b *testing.B, e *testEnv, user string) func(context.Context) (uint32, error) {
	ctx := context.Background()
	st := e.storeOf(user)
	if err := st.EnsureAccount(ctx, user); err != nil {
		b.Fatal(err)
	}
	mb, err := st.Mailbox(ctx, user, "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	return func(ctx context.Context) (uint32, error) {
		s, err := st.Status(ctx, user, mb.ID)
		return s.Messages, err
	}
}

// waitInbox polls count every interval until it reaches n and returns
// when it saw it; more than n, or not n within ten minutes, is fatal.
func waitInbox(b *testing.B, count func(context.Context) (uint32, error), n int, interval time.Duration) time.Time {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for {
		got, err := count(ctx)
		now := time.Now()
		switch {
		case err != nil:
			b.Fatalf("waiting for %d messages in the INBOX: %v", n, err)
		case int(got) > n:
			b.Fatalf("%d messages in the INBOX, want %d", got, n)
		case int(got) == n:
			return now
		}
		select {
		case <-ctx.Done():
			b.Fatalf("%d messages in the INBOX, want %d: %v", got, n, ctx.Err())
		case <-time.After(interval):
		}
	}
}

// smtpLoad sends one engineBody to rcpt per b.Loop iteration over
// engineSessions parallel sessions (one connection per message, as
// smtp-source does) and returns when all are answered: when it started
// and the time of each 250, ascending. It reports the 4xx replies that
// were retried as "tempfails".
func smtpLoad(b *testing.B, addr, rcpt string) (start time.Time, accepted []time.Time) {
	var tempfails atomic.Int64
	work := make(chan struct{})
	errs := make(chan error, engineSessions)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range engineSessions {
		wg.Go(func() {
			for range work {
				if err := sendRetrying(addr, rcpt, &tempfails); err != nil {
					errs <- err
					for range work { // drain so the benchmark loop ends
					}
					return
				}
				now := time.Now()
				mu.Lock()
				accepted = append(accepted, now)
				mu.Unlock()
			}
		})
	}
	start = time.Now()
	for b.Loop() {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	if len(accepted) == 0 {
		b.Fatal(errors.New("no message accepted"))
	}
	b.ReportMetric(float64(tempfails.Load()), "tempfails")
	slices.SortFunc(accepted, time.Time.Compare)
	return start, accepted
}

// sendRetrying is sendOne retried after a 4xx reply, as a sending MTA
// would (after 100 ms rather than minutes, at most 10 times); tempfails
// counts the 4xx replies.
func sendRetrying(addr, rcpt string, tempfails *atomic.Int64) error {
	for try := 0; ; try++ {
		err := sendOne(addr, rcpt)
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code/100 != 4 || try == 10 {
			return err
		}
		tempfails.Add(1)
		time.Sleep(100 * time.Millisecond)
	}
}

// sendOne sends engineBody to rcpt on a connection of its own.
func sendOne(addr, rcpt string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	if err := c.SendMail("bench@remote.test", []string{rcpt}, strings.NewReader(engineBody)); err != nil {
		c.Close()
		return err
	}
	return c.Quit()
}

// reportRate reports n messages in elapsed as msgs/s, and replaces ns/op
// (which b.Loop measures only up to the last hand-off to a session) with
// elapsed per message.
func reportRate(b *testing.B, n int, elapsed time.Duration) {
	b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(n), "ns/op")
}

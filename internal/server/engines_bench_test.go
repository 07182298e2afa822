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
// (issue #9) back to back in one run: SMTP accept, MX to mailbox, and
// IMAP FETCH/SEARCH on a 10,000-message INBOX. Read the figures as
// scaled/embedded ratios on the same machine; docs/BENCHMARKS.md has
// recorded runs.
func BenchmarkEngines(b *testing.B) {
	b.Run("SMTPAccept", func(b *testing.B) { forEngineSet(b, benchSMTPAccept) })
	b.Run("MXToMailbox", func(b *testing.B) { forEngineSet(b, benchMXToMailbox) })
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
// first connection until the last one is in the recipient's INBOX. The
// latency percentiles pair the k-th message accepted with the k-th one
// visible in the store (sampled every 5 ms), so they assume delivery in
// about accept order.
func benchMXToMailbox(b *testing.B, e *testEnv) {
	const user = "bob@example.test"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	st := e.storeOf(user)
	if err := st.EnsureAccount(ctx, user); err != nil {
		b.Fatal(err)
	}
	mb, err := st.Mailbox(ctx, user, "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	var want atomic.Int64
	want.Store(-1) // unknown until every message is accepted
	var visible []time.Time
	sampled := make(chan error, 1)
	go func() {
		for {
			s, err := st.Status(ctx, user, mb.ID)
			now := time.Now()
			if err != nil {
				sampled <- err
				return
			}
			for len(visible) < int(s.Messages) {
				visible = append(visible, now)
			}
			if n := want.Load(); n >= 0 && len(visible) >= int(n) {
				sampled <- nil
				return
			}
			select {
			case <-ctx.Done():
				sampled <- ctx.Err()
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	start, accepted := smtpLoad(b, e.addr("mx"), user)
	want.Store(int64(len(accepted)))
	if err := <-sampled; err != nil {
		b.Fatalf("waiting for %d messages in %s's INBOX: %v", len(accepted), user, err)
	}
	if len(visible) != len(accepted) {
		b.Fatalf("%d messages in the INBOX, %d accepted", len(visible), len(accepted))
	}
	reportRate(b, len(accepted), visible[len(visible)-1].Sub(start))
	lat := make([]time.Duration, len(accepted))
	for k := range accepted {
		lat[k] = max(0, visible[k].Sub(accepted[k]))
	}
	slices.Sort(lat)
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

// smtpLoad sends one engineBody to rcpt per b.Loop iteration over
// engineSessions parallel sessions (one connection per message, as
// smtp-source does) and returns when all are answered: when it started
// and the time of each 250, ascending.
func smtpLoad(b *testing.B, addr, rcpt string) (start time.Time, accepted []time.Time) {
	work := make(chan struct{})
	errs := make(chan error, engineSessions)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range engineSessions {
		wg.Go(func() {
			for range work {
				c, err := smtp.Dial(addr)
				if err == nil {
					err = c.SendMail("bench@remote.test", []string{rcpt}, strings.NewReader(engineBody))
					c.Quit()
				}
				if err != nil {
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
	slices.SortFunc(accepted, time.Time.Compare)
	return start, accepted
}

// reportRate reports n messages in elapsed as msgs/s, and replaces ns/op
// (which b.Loop measures only up to the last hand-off to a session) with
// elapsed per message.
func reportRate(b *testing.B, n int, elapsed time.Duration) {
	b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(n), "ns/op")
}

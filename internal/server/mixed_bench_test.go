package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

const (
	mixedClients  = 8
	mixedPrefill  = 1000
	mixedBodySize = 4 << 10
)

// mixedOps names the IMAP commands of one round, in order.
var mixedOps = []string{"select", "fetch-headers", "fetch-body", "store-seen", "append", "store-deleted", "expunge"}

// BenchmarkIMAPMixedWorkload runs mixedClients concurrent go-imap clients,
// one account and INBOX of mixedPrefill 4 KiB messages each. One round
// (one b.Loop iteration) is: SELECT, FETCH 20 headers, FETCH 1 full body,
// STORE +FLAGS \Seen on 5, APPEND 1, STORE +FLAGS \Deleted on 1, EXPUNGE;
// the mailbox keeps its size. It reports IMAP commands/s over all clients
// and the p50/p99 latency of each command.
func BenchmarkIMAPMixedWorkload(b *testing.B) {
	e := startEnv(b, nil)
	ctx := context.Background()
	users := make([]string, mixedClients)
	for i := range users {
		users[i] = fmt.Sprintf("mixed%d@example.test", i)
		if _, err := e.srv.Directory().AddAccount(ctx, users[i], testPassword, ""); err != nil {
			b.Fatal(err)
		}
		prefillInbox(b, e.store(), users[i])
	}

	work := make(chan struct{})
	lat := make([]map[string][]time.Duration, mixedClients)
	errs := make(chan error, mixedClients)
	var wg sync.WaitGroup
	for i, user := range users {
		c, err := imapclient.DialInsecure(e.addr("imap"), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		if err := c.Login(user, testPassword).Wait(); err != nil {
			b.Fatalf("login %s: %v", user, err)
		}
		lat[i] = map[string][]time.Duration{}
		rng := rand.New(rand.NewPCG(uint64(i), 1))
		wg.Go(func() {
			for range work {
				if err := mixedRound(c, rng, lat[i]); err != nil {
					errs <- fmt.Errorf("%s: %w", user, err)
					for range work { // drain so the benchmark loop ends
					}
					return
				}
			}
		})
	}

	start := time.Now()
	rounds := 0
	for b.Loop() {
		work <- struct{}{}
		rounds++
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	b.ReportMetric(float64(rounds*len(mixedOps))/elapsed.Seconds(), "cmds/s")
	b.ReportMetric(float64(rounds)/elapsed.Seconds(), "rounds/s")
	for _, op := range mixedOps {
		var all []time.Duration
		for _, l := range lat {
			all = append(all, l[op]...)
		}
		slices.Sort(all)
		ms := func(q float64) float64 { return float64(all[int(q*float64(len(all)-1))]) / float64(time.Millisecond) }
		b.ReportMetric(ms(0.50), op+"-p50-ms")
		b.ReportMetric(ms(0.99), op+"-p99-ms")
	}
}

// mixedRound runs one round of the mixed workload on c, recording each
// command's latency in lat.
func mixedRound(c *imapclient.Client, rng *rand.Rand, lat map[string][]time.Duration) error {
	timed := func(op string, f func() error) error {
		start := time.Now()
		if err := f(); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		lat[op] = append(lat[op], time.Since(start))
		return nil
	}
	var n uint32
	if err := timed("select", func() error {
		sel, err := c.Select("INBOX", nil).Wait()
		if sel != nil {
			n = sel.NumMessages
		}
		return err
	}); err != nil {
		return err
	}
	if n < 20 {
		return fmt.Errorf("INBOX has %d messages", n)
	}
	first := 1 + rng.Uint32N(n-19)
	steps := []struct {
		op string
		f  func() error
	}{
		{"fetch-headers", func() error {
			header := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
			var set imap.SeqSet
			set.AddRange(first, first+19)
			msgs, err := c.Fetch(set, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{header}}).Collect()
			if err == nil && len(msgs) != 20 {
				err = fmt.Errorf("%d messages, want 20", len(msgs))
			}
			return err
		}},
		{"fetch-body", func() error {
			msgs, err := c.Fetch(imap.SeqSetNum(1+rng.Uint32N(n)), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
			if err == nil && (len(msgs) != 1 || len(msgs[0].BodySection) != 1 || len(msgs[0].BodySection[0].Bytes) < mixedBodySize) {
				err = fmt.Errorf("no full body in %+v", msgs)
			}
			return err
		}},
		{"store-seen", func() error {
			var set imap.SeqSet
			for range 5 {
				set.AddNum(1 + rng.Uint32N(n))
			}
			return c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close()
		}},
		{"append", func() error {
			msg := mixedMessage(rng.Uint64())
			cmd := c.Append("INBOX", int64(len(msg)), nil)
			if _, err := cmd.Write([]byte(msg)); err != nil {
				return err
			}
			if err := cmd.Close(); err != nil {
				return err
			}
			_, err := cmd.Wait()
			return err
		}},
		{"store-deleted", func() error {
			return c.Store(imap.SeqSetNum(1+rng.Uint32N(n)), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close()
		}},
		{"expunge", func() error { return c.Expunge().Close() }},
	}
	for _, s := range steps {
		if err := timed(s.op, s.f); err != nil {
			return err
		}
	}
	return nil
}

// prefillInbox delivers mixedPrefill messages to user's INBOX in batches,
// as the LMTP path does.
func prefillInbox(b *testing.B, st mailstore.Store, user string) {
	b.Helper()
	ctx := context.Background()
	if err := st.EnsureAccount(ctx, user); err != nil {
		b.Fatal(err)
	}
	const batch = 100
	for i := 0; i < mixedPrefill; i += batch {
		ds := make([]mailstore.Delivery, batch)
		for j := range ds {
			ds[j] = mailstore.Delivery{User: user, Message: mailstore.NewMessage{Body: strings.NewReader(mixedMessage(uint64(i + j)))}}
		}
		res, err := st.Deliver(ctx, ds)
		if err != nil {
			b.Fatalf("prefill %s: %v", user, err)
		}
		for _, r := range res {
			if r.Err != nil {
				b.Fatalf("prefill %s: %v", user, r.Err)
			}
		}
	}
}

// mixedMessage is a plain-text message of about mixedBodySize bytes.
func mixedMessage(id uint64) string {
	line := "The quick brown fox jumps over the lazy dog, again and again.\r\n"
	return fmt.Sprintf("From: Sender <sender@remote.test>\r\nTo: <rcpt@example.test>\r\nSubject: mixed workload %d\r\n"+
		"Message-ID: <%d@remote.test>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\n%s", id, id,
		strings.Repeat(line, mixedBodySize/len(line)+1))
}

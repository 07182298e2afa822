package cluster

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkCluster measures, on one started cluster, what issue #10 asks
// as ratios: an IMAP FETCH through a front end against the same at the
// back end (ns/op and p50/p99 per FETCH), and SMTP through one MX node
// against both (ns/op per message, 8 concurrent senders). Failover time is
// logged by TestCluster/KillServingNode. Run it alone:
//
//	go test -run '^$' -bench Cluster -benchtime 2000x ./tests/cluster
func BenchmarkCluster(b *testing.B) {
	c := startCluster(b)
	c.settle(b)
	u := c.users[0]
	mxs := c.withRole("mx")
	for i := range 50 {
		if err := send(mxs[i%len(mxs)].addrs["mx"], "bench@elsewhere.test", u.addr, fmt.Sprintf("bench-seed-%d", i)); err != nil {
			b.Fatal(err)
		}
	}
	back, _ := c.serving(b, u.store, 2*leaseTTL)
	fe := c.frontEnds()[0]
	waitTokens(b, at(back.addrs["imap"]), u, 30*time.Second, "bench-seed-49")
	b.Run("IMAPFetchDirect", func(b *testing.B) { benchFetch(b, back.addrs["imap"], u) })
	b.Run("IMAPFetchProxied", func(b *testing.B) { benchFetch(b, fe.addrs["imap"], u) })
	b.Run("SMTPOneMX", func(b *testing.B) { benchSMTP(b, c, mxs[:1]) })
	b.Run("SMTPTwoMX", func(b *testing.B) { benchSMTP(b, c, mxs) })
}

// benchFetch: one session fetches whole messages in turn; an op is one
// FETCH round trip.
func benchFetch(b *testing.B, addr string, u account) {
	s, _, err := dialIMAP(addr)
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	s.conn.SetDeadline(time.Now().Add(10 * time.Minute))
	s.login(b, u)
	sel, err := s.cmd("SELECT INBOX")
	m := existsRE.FindStringSubmatch(sel)
	if err != nil || m == nil {
		b.Fatalf("SELECT: %v %q", err, sel)
	}
	var n int
	fmt.Sscan(m[1], &n)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		out, err := s.cmd(fmt.Sprintf("FETCH %d (FLAGS BODY.PEEK[])", i%n+1))
		lat = append(lat, time.Since(start))
		if err != nil || !strings.Contains(out, "T OK") {
			b.Fatalf("FETCH: %v %q", err, out)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// benchSMTP: 8 senders share b.N messages, spread over the MX nodes given
// and over the users (so over the stores and their serving nodes). An op
// is one message from SMTP to its mailbox: the clock stops when the queue
// is empty again; accept-msg/s is the SMTP side alone.
func benchSMTP(b *testing.B, c *cluster, mxs []*proc) {
	c.drained(b, 2*time.Minute)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Int64
	b.ResetTimer()
	start := time.Now()
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				u := c.users[int(i)%len(c.users)]
				if err := send(mxs[int(i)%len(mxs)].addrs["mx"], "bench@elsewhere.test", u.addr, fmt.Sprintf("bench-%d-%d-%d", len(mxs), w, i)); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	accepted := time.Since(start)
	c.drained(b, 5*time.Minute)
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d messages refused", f, b.N)
	}
	b.ReportMetric(float64(b.N)/accepted.Seconds(), "accept-msg/s")
}

// drained waits until the shared queue holds no message.
func (c *cluster) drained(t testing.TB, within time.Duration) {
	t.Helper()
	eventually(t, within, "the queue did not drain", func() bool {
		return strings.Contains(c.admin(t, "cluster", "status"), "queue messages=0 ")
	})
}

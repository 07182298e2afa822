package pgstore

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// benchMessages is the mailbox size of the benchmarks (issue #9 asks for
// FETCH/SEARCH on 10,000 messages).
const benchMessages = 10000

// benchStore fills alice's INBOX with benchMessages distinct messages, in
// Deliver batches, and returns the store and the mailbox.
func benchStore(b *testing.B) (*Store, int64) {
	b.Helper()
	s := newEnv(b).open(b, newSchema(), 0)
	ctx := b.Context()
	if err := s.EnsureAccount(ctx, "alice"); err != nil {
		b.Fatal(err)
	}
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"}
	for i := 0; i < benchMessages; i += 500 {
		var ds []mailstore.Delivery
		for j := i; j < min(i+500, benchMessages); j++ {
			body := fmt.Sprintf("From: a@example.org\r\nSubject: report %d\r\n\r\nThe %s %s went to the %s market, number %d.\r\n",
				j, words[j%8], words[j/8%8], words[j/64%8], j)
			ds = append(ds, mailstore.Delivery{User: "alice", Message: mailstore.NewMessage{Body: strings.NewReader(body)}})
		}
		if _, err := s.Deliver(ctx, ds); err != nil {
			b.Fatal(err)
		}
	}
	inbox, err := s.Mailbox(ctx, "alice", "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	return s, inbox.ID
}

// BenchmarkSearchText: a rare needle (one message) and a common one (an
// eighth of the mailbox), from the trigram index.
func BenchmarkSearchText(b *testing.B) {
	s, id := benchStore(b)
	for _, needle := range []string{"number 4321.", "golf went"} {
		b.Run(strings.ReplaceAll(needle, " ", "_"), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.SearchText(b.Context(), "alice", id, mailstore.TextBody, needle); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("Messages", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Messages(b.Context(), "alice", id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Changes", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Changes(b.Context(), "alice", id, 1<<40); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDeliver measures parallel single-recipient deliveries of 10 KB
// messages, each with its own body and delivery id: sqlitestore's
// BenchmarkDeliver, for a ratio in the same run.
func BenchmarkDeliver(b *testing.B) {
	s := newEnv(b).open(b, newSchema(), 0)
	benchDeliver(b, s, 1)
}

// BenchmarkDeliverFence compares deliveries with and without a Fence, to
// one user (the mailbox lock serializes them, so lease-row FOR SHARE
// holders pile up waiting) and to 16 (transactions run side by side).
// Every transaction of the fenced store takes FOR SHARE on the one lease
// row, which design §7.7 fears turns into multixact churn. Meanwhile the
// holder renews its lease every 100 ms, as the cluster package will; a
// renewal UPDATE waits for every write holding FOR SHARE, so its worst
// latency (renew-max-ms) must stay far below the lease TTL.
func BenchmarkDeliverFence(b *testing.B) {
	for _, users := range []int{1, 16} {
		for _, fenced := range []bool{false, true} {
			b.Run(fmt.Sprintf("users=%d/fenced=%v", users, fenced), func(b *testing.B) {
				env := newEnv(b)
				admin := adminConn(b, env.dsn)
				if _, err := admin.Exec(b.Context(), leaseDDL); err != nil {
					b.Fatal(err)
				}
				if _, err := admin.Exec(b.Context(), `INSERT INTO cluster.leases VALUES ('test', 'node1', 1, now() + interval '1 hour')`); err != nil {
					b.Fatal(err)
				}
				s := env.openWith(b, newSchema(), func(o *Options) {
					if fenced {
						o.Fence = &Fence{Table: "cluster.leases", Token: func() (string, int64, bool) { return "node1", 1, true }}
					}
				})
				mx := nextMultiXact(b, admin)
				stop := renewEvery(b, admin, 100*time.Millisecond)
				benchDeliver(b, s, users)
				stop()
				b.ReportMetric(float64(nextMultiXact(b, admin)-mx)/float64(b.N), "multixacts/op")
			})
		}
	}
}

// nextMultiXact is the cluster's next multixact id, read after a
// checkpoint: the count of multixacts a benchmark created, which the CPU
// load of a shared machine does not blur as it does timings.
func nextMultiXact(b *testing.B, admin *pgx.Conn) int64 {
	var next int64
	if _, err := admin.Exec(b.Context(), `CHECKPOINT`); err != nil {
		b.Fatal(err)
	}
	if err := admin.QueryRow(b.Context(), `SELECT next_multixact_id::text::bigint FROM pg_control_checkpoint()`).Scan(&next); err != nil {
		b.Fatal(err)
	}
	return next
}

// renewEvery renews the lease of store "test" every d until stopped,
// and reports the slowest renewal.
func renewEvery(b *testing.B, admin *pgx.Conn, d time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan time.Duration)
	go func() {
		var worst time.Duration
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				finished <- worst
				return
			case <-t.C:
			}
			start := time.Now()
			if _, err := admin.Exec(context.Background(), `UPDATE cluster.leases SET expires_at = now() + interval '1 hour'
				WHERE store = 'test' AND holder = 'node1'`); err != nil {
				b.Error(err)
			}
			worst = max(worst, time.Since(start))
		}
	}()
	return func() {
		close(done)
		b.ReportMetric(float64((<-finished).Microseconds())/1000, "renew-max-ms")
	}
}

func benchDeliver(b *testing.B, s *Store, users int) {
	ctx := b.Context()
	for u := range users {
		if err := s.EnsureAccount(ctx, fmt.Sprint("user", u)); err != nil {
			b.Fatal(err)
		}
	}
	body := bytes.Repeat([]byte("0123456789abcdef\r\n"), 10*1024/18)
	var n atomic.Int64
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			msg := append(fmt.Appendf(nil, "Message-ID: <%d@bench>\r\n", i), body...)
			res, err := s.Deliver(ctx, []mailstore.Delivery{{User: fmt.Sprint("user", i%int64(users)), Message: mailstore.NewMessage{
				Body: bytes.NewReader(msg), DeliveryID: fmt.Sprint(i)}}})
			if err != nil {
				b.Error(err)
				return
			}
			if res[0].Err != nil {
				b.Error(res[0].Err)
				return
			}
		}
	})
}

package sqlitequeue

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/queue"
)

func open(t testing.TB) (*Queue, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "queue.db")
	q, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return q, path
}

// due peeks at what is due at now (a claim ending at once).
func due(t *testing.T, q *Queue, now time.Time) []*queue.Message {
	t.Helper()
	d, err := q.Due(context.Background(), queue.ClaimRequest{Now: now, Limit: 10, Local: true, Remote: true})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func msg(body string, rcpts ...string) *queue.Message {
	m := &queue.Message{From: "s@remote.test", Received: time.Now(), Body: []byte(body)}
	for _, r := range rcpts {
		m.Recipients = append(m.Recipients, queue.Recipient{Address: r, Orig: r})
	}
	return m
}

func TestEnqueueDueCompleteLifecycle(t *testing.T) {
	ctx := context.Background()
	q, path := open(t)
	m := msg("hello\r\n", "a@x.test", "b@x.test")
	if err := q.Enqueue(ctx, m); err != nil {
		t.Fatal(err)
	}
	// Durable: a second handle (as after a restart) sees it.
	q.Close()
	q, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if d := due(t, q, time.Now()); len(d) != 1 || len(d[0].Recipients) != 2 || d[0].Body != nil {
		t.Fatalf("Due = %+v", d)
	}
	if b, _ := q.Body(ctx, m.ID); !bytes.Equal(b, []byte("hello\r\n")) {
		t.Fatalf("body %q", b)
	}
	retry := time.Now().Add(time.Hour)
	err = q.Complete(ctx, []queue.Result{
		{MessageID: m.ID, Recipient: "a@x.test", Status: queue.Delivered},
		{MessageID: m.ID, Recipient: "b@x.test", Status: queue.Pending, Error: "store down", NextAttempt: retry},
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := due(t, q, time.Now()); len(d) != 0 {
		t.Fatalf("a deferred recipient is not due yet, got %+v", d)
	}
	d := due(t, q, retry.Add(time.Second))
	if len(d) != 1 || len(d[0].Recipients) != 1 || d[0].Recipients[0].Address != "b@x.test" || d[0].Recipients[0].Attempts != 1 {
		t.Fatalf("after the retry time only b is due, with one attempt: %+v", d)
	}
	if err := q.Complete(ctx, []queue.Result{{MessageID: m.ID, Recipient: "b@x.test", Status: queue.Delivered}}); err != nil {
		t.Fatal(err)
	}
	if all, _ := q.List(ctx); len(all) != 0 {
		t.Fatalf("a fully delivered message leaves the queue, got %+v", all)
	}
	if _, err := q.Body(ctx, m.ID); err == nil {
		t.Fatal("body of a removed message")
	}
}

func TestFailedRecipientStaysListed(t *testing.T) {
	ctx := context.Background()
	q, _ := open(t)
	defer q.Close()
	m := msg("x\r\n", "gone@x.test")
	q.Enqueue(ctx, m)
	q.Complete(ctx, []queue.Result{{MessageID: m.ID, Recipient: "gone@x.test", Status: queue.Failed, Error: "5.1.1"}})
	all, _ := q.List(ctx)
	if len(all) != 1 || all[0].Recipients[0].Status != queue.Failed {
		t.Fatalf("failed recipients stay for the administrator: %+v", all)
	}
	if d := due(t, q, time.Now().Add(time.Hour)); len(d) != 0 {
		t.Fatal("failed recipients are not retried")
	}
}

// TestGroupCommit: many concurrent Enqueues all succeed, each exactly once.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	q, _ := open(t)
	defer q.Close()
	var wg sync.WaitGroup
	var ids sync.Map
	for w := 0; w < 20; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				m := msg(fmt.Sprintf("w%d-%d", w, i), "a@x.test")
				if err := q.Enqueue(ctx, m); err != nil {
					t.Error(err)
					return
				}
				if _, dup := ids.LoadOrStore(m.ID, true); dup {
					t.Errorf("duplicate id %s", m.ID)
				}
			}
		}()
	}
	wg.Wait()
	all, err := q.List(ctx)
	if err != nil || len(all) != 500 {
		t.Fatalf("List: %d messages, %v; want 500", len(all), err)
	}
}

func TestEnqueueWithoutRecipientsFails(t *testing.T) {
	q, _ := open(t)
	defer q.Close()
	if err := q.Enqueue(context.Background(), msg("x")); err == nil {
		t.Fatal("a message without recipients must be refused")
	}
}

// BenchmarkEnqueue: durable enqueues of 10 KB from 20 goroutines; compare
// with the disk's fsync rate (server.BenchmarkFsync).
func BenchmarkEnqueue(b *testing.B) {
	q, _ := open(b)
	defer q.Close()
	body := make([]byte, 10240)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for w := 0; w < 20; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				m := &queue.Message{From: "a@b", Recipients: []queue.Recipient{{Address: "x@y"}}, Received: time.Now(), Body: body}
				if err := q.Enqueue(context.Background(), m); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

package pgqueue

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/blob/s3blob"
	"github.com/rookery-mail/rookery/internal/queue"
	"github.com/rookery-mail/rookery/internal/queue/sqlitequeue"
	"github.com/rookery-mail/rookery/internal/testsvc"
)

// BenchmarkEnqueue compares durable enqueues of 10 KB from 16 goroutines
// on the embedded engine and on this one (bodies in a directory, then on
// S3), in one run so the ratio is of one machine at one time.
func BenchmarkEnqueue(b *testing.B) {
	engines := []struct {
		name string
		open func(b *testing.B) queue.Store
	}{
		{"sqlite", func(b *testing.B) queue.Store {
			q, err := sqlitequeue.Open(context.Background(), filepath.Join(b.TempDir(), "queue.db"))
			if err != nil {
				b.Fatal(err)
			}
			return q
		}},
		{"pg+mem", func(b *testing.B) queue.Store {
			q, err := Open(context.Background(), Options{DSN: testsvc.Postgres(b), Bodies: &memKeyed{}})
			if err != nil {
				b.Fatal(err)
			}
			return q
		}},
		{"pg+dir", func(b *testing.B) queue.Store {
			q, err := Open(context.Background(), Options{DSN: testsvc.Postgres(b), Bodies: &dirKeyed{dir: b.TempDir()}})
			if err != nil {
				b.Fatal(err)
			}
			return q
		}},
		{"pg+s3", func(b *testing.B) queue.Store {
			endpoint, bucket, ak, sk := testsvc.S3(b)
			bodies, err := s3blob.Open(context.Background(), s3blob.Config{Endpoint: endpoint, Region: "us-east-1",
				AccessKey: ak, SecretKey: sk, Bucket: bucket, Prefix: "queue"})
			if err != nil {
				b.Fatal(err)
			}
			q, err := Open(context.Background(), Options{DSN: testsvc.Postgres(b), Bodies: bodies})
			if err != nil {
				b.Fatal(err)
			}
			return q
		}},
	}
	body := make([]byte, 10240)
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			q := e.open(b)
			defer q.Close()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range 16 {
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
		})
	}
}

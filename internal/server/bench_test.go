package server

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-smtp"
)

// BenchmarkSMTPAccept measures durable accepts: 10 KB messages over 20
// parallel sessions (one connection per message, as smtp-source does),
// each answered 250 only after the queue commit. Report msgs/s.
func BenchmarkSMTPAccept(b *testing.B) {
	e := startEnv(b, nil)
	body := "Subject: bench\r\n\r\n" + strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\r\n", 160)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for w := 0; w < 20; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				c, err := smtp.Dial(e.addr("mx"))
				if err == nil {
					err = c.SendMail("bench@remote.test", []string{"alice@example.test"}, strings.NewReader(body))
					c.Quit()
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkFsync is the physical reference: create, write 4 KiB and fsync
// one file per operation, as a server without group commit would per message.
func BenchmarkFsync(b *testing.B) {
	dir := b.TempDir()
	buf := make([]byte, 4096)
	for i := 0; b.Loop(); i++ {
		f, err := os.Create(filepath.Join(dir, fmt.Sprint(i)))
		if err != nil {
			b.Fatal(err)
		}
		f.Write(buf)
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fsyncs/s")
}

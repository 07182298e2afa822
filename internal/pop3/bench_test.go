package pop3

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkRETRParallel: 10 sessions of one user RETR messages of a
// 50-message maildrop of ~15 KB messages, in parallel; it reports
// messages per second over all sessions.
func BenchmarkRETRParallel(b *testing.B) {
	const sessions, messages = 10, 50
	e := startServer(b)
	body := benchMessage(15 << 10)
	for range messages {
		e.appendMessage(b, "alice", body)
	}
	conns := make([]*bufio.ReadWriter, sessions)
	for i := range conns {
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		rw := bufio.NewReadWriter(bufio.NewReaderSize(c, 64<<10), bufio.NewWriter(c))
		readReply(b, rw)
		fmt.Fprintf(rw, "USER alice\r\nPASS alicepw\r\n")
		rw.Flush()
		readReply(b, rw)
		readReply(b, rw)
		conns[i] = rw
	}
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i, rw := range conns {
		n := b.N / sessions
		if i < b.N%sessions {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range n {
				fmt.Fprintf(rw, "RETR %d\r\n", (i+j)%messages+1)
				rw.Flush()
				readReply(b, rw)
				for {
					line, err := rw.ReadSlice('\n')
					if err != nil {
						b.Error(err)
						return
					}
					if string(line) == ".\r\n" {
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

func readReply(b *testing.B, r *bufio.ReadWriter) {
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "+OK") {
		b.Errorf("reply %q, %v", line, err)
	}
}

// benchMessage is a plausible text message of about size bytes.
func benchMessage(size int) string {
	var sb strings.Builder
	sb.WriteString("From: a@example.org\r\nTo: b@example.org\r\nSubject: bench\r\n\r\n")
	for sb.Len() < size {
		sb.WriteString("The quick brown fox jumps over the lazy dog, again and again and again.\r\n")
	}
	return sb.String()
}

package imap

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// BenchmarkFetchFullBodies: "UID FETCH 1:* BODY.PEEK[]" of a 10,000-message
// mailbox over one connection. Setup delivers the messages through the
// store directly, in batches.
func BenchmarkFetchFullBodies(b *testing.B) {
	const n = 10000
	env := startServer(b)
	ctx := context.Background()
	if err := env.store.EnsureAccount(ctx, "alice"); err != nil {
		b.Fatal(err)
	}
	var total int64
	for i := 0; i < n; i += 500 {
		var batch []mailstore.Delivery
		for j := i; j < i+500 && j < n; j++ {
			body := fmt.Sprintf("From: a@example.org\r\nTo: alice@example.org\r\nSubject: message %d\r\n"+
				"Message-ID: <%d@example.org>\r\n\r\n%s\r\n", j, j, strings.Repeat("body text of a small message. ", 20))
			total += int64(len(body))
			batch = append(batch, mailstore.Delivery{User: "alice", Message: mailstore.NewMessage{
				Body: strings.NewReader(body), DeliveryID: strconv.Itoa(j)}})
		}
		res, err := env.store.Deliver(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
	c := dialRaw(b, env.addr)
	c.login("alice")
	c.send("s SELECT INBOX\r\n")
	c.readUntilTagged("s")
	b.SetBytes(total)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.send("f UID FETCH 1:* BODY.PEEK[]\r\n")
		got := 0
		for {
			line := c.readLine()
			if strings.HasPrefix(line, "f ") {
				if !strings.HasPrefix(line, "f OK") {
					b.Fatal(line)
				}
				break
			}
			if open := strings.LastIndexByte(line, '{'); open >= 0 && strings.HasSuffix(line, "}") {
				size, err := strconv.Atoi(line[open+1 : len(line)-1])
				if err != nil {
					b.Fatal(line)
				}
				if _, err := io.CopyN(io.Discard, c.br, int64(size)); err != nil {
					b.Fatal(err)
				}
				got++
			}
		}
		if got != n {
			b.Fatalf("fetched %d messages, want %d", got, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
}

package sqlitestore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// BenchmarkDeliver measures parallel single-recipient deliveries of 10 KB
// messages, each with its own body (no blob dedupe) and delivery id.
func BenchmarkDeliver(b *testing.B) {
	ctx := context.Background()
	s, _ := testStore(b, b.TempDir())
	if err := s.EnsureAccount(ctx, "alice"); err != nil {
		b.Fatal(err)
	}
	body := bytes.Repeat([]byte("0123456789abcdef\r\n"), 10*1024/18)
	var n atomic.Int64
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			msg := append(fmt.Appendf(nil, "Message-ID: <%d@bench>\r\n", i), body...)
			res, err := s.Deliver(ctx, []mailstore.Delivery{{User: "alice", Message: mailstore.NewMessage{
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

// BenchmarkMessages lists a 10,000-message mailbox (what an IMAP SELECT
// or a full FETCH FLAGS needs).
func BenchmarkMessages(b *testing.B) {
	ctx := context.Background()
	s, _ := testStore(b, b.TempDir())
	if err := s.EnsureAccount(ctx, "alice"); err != nil {
		b.Fatal(err)
	}
	inbox, err := s.Mailbox(ctx, "alice", "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	// Seed the metadata directly: one blob, 10,000 rows, one transaction.
	p := mailstore.PutBodies(ctx, s.blobs, []io.Reader{bytes.NewReader([]byte("Subject: x\r\n\r\nx\r\n"))})[0]
	if p.Err != nil {
		b.Fatal(p.Err)
	}
	err = s.write(ctx, "seed", func(w *writeTx) error {
		for i := range 10000 {
			flags := []string{`\Seen`}
			if i%7 == 0 {
				flags = append(flags, "$Important")
			}
			if _, err := w.insertMessage(ctx, "alice", inbox.ID, newRow{flags: flags, size: p.Size, blobID: p.ID}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		msgs, err := s.Messages(ctx, "alice", inbox.ID)
		if err != nil {
			b.Fatal(err)
		}
		if len(msgs) != 10000 {
			b.Fatalf("%d messages", len(msgs))
		}
	}
}

// BenchmarkChanges asks for the few changes in a 10,000-message mailbox,
// the common case of an IDLE wake-up or a QRESYNC select.
func BenchmarkChanges(b *testing.B) {
	ctx := context.Background()
	s, _ := testStore(b, b.TempDir())
	if err := s.EnsureAccount(ctx, "alice"); err != nil {
		b.Fatal(err)
	}
	inbox, _ := s.Mailbox(ctx, "alice", "INBOX")
	err := s.write(ctx, "seed", func(w *writeTx) error {
		for range 10000 {
			if _, err := w.insertMessage(ctx, "alice", inbox.ID, newRow{blobID: "x"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.SetFlags(ctx, "alice", inbox.ID, []uint32{5, 500, 5000}, mailstore.FlagsAdd, []string{`\Seen`}); err != nil {
		b.Fatal(err)
	}
	since := uint64(2) // after the seed transaction
	for b.Loop() {
		ch, err := s.Changes(ctx, "alice", inbox.ID, since)
		if err != nil {
			b.Fatal(err)
		}
		if len(ch.Updated) != 3 {
			b.Fatalf("%d updated", len(ch.Updated))
		}
	}
}

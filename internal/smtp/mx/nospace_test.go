package mx

import (
	"fmt"
	"testing"

	"github.com/rookery-mail/rookery/internal/queue"
)

// TestQueueDiskFullIs451MailSystemFull: when the queue cannot take the
// message because the disk is full, DATA gets 451 with RFC 3463's X.3.1
// "mail system full", still a temporary failure the client retries.
func TestQueueDiskFullIs451MailSystemFull(t *testing.T) {
	q := &fakeQueue{err: fmt.Errorf("enqueue: commit: %w", queue.ErrNoSpace)}
	addr := start(t, fakeResolver{}, q)
	transcript(t, addr, [][2]string{
		{"EHLO c.test", "250 "},
		{"MAIL FROM:<s@remote.test>", "250 "},
		{"RCPT TO:<a@example.test>", "250 "},
		{"DATA", "354 "},
		{"Subject: x\r\n\r\nbody\r\n.", "451 4.3.1"},
		{"QUIT", "221 "},
	})
}

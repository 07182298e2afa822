package imap

import (
	"context"
	"fmt"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// lostLeaseStore refuses every STORE as a pgstore does once this node has
// lost the store's lease.
type lostLeaseStore struct{ mailstore.Store }

func (lostLeaseStore) SetFlagsIf(context.Context, string, int64, mailstore.ConditionalFlags) ([]mailstore.Message, []uint32, error) {
	return nil, nil, fmt.Errorf("set flags: %w", mailstore.ErrNotServed)
}

// TestTranscriptNotServed: a write refused by fencing is NO [UNAVAILABLE],
// not an internal error: the client retries after reconnecting.
func TestTranscriptNotServed(t *testing.T) {
	env := startServer(t, func(o *Options) {
		tb := o.Backend.(*testBackend)
		tb.store = lostLeaseStore{tb.store}
	})
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.cmd("a1 APPEND INBOX "+lit(testMsg), `a1 OK .*`)
	c.send("a2 SELECT INBOX\r\n")
	c.readUntilTagged("a2")
	c.cmd(`a3 STORE 1 +FLAGS (\Seen)`, `a3 NO \[UNAVAILABLE\] Mailbox not served here any more, reconnect`)
}

package pop3

import (
	"context"
	"fmt"
	"testing"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// fullStore is a store on a full disk: flag changes fail with ErrNoSpace.
type fullStore struct{ mailstore.Store }

func (fullStore) SetFlags(context.Context, string, int64, []uint32, mailstore.FlagOp, []string) ([]mailstore.Message, error) {
	return nil, fmt.Errorf("set flags: %w", mailstore.ErrNoSpace)
}

// TestQuitDiskFullIsSysTemp: when the UPDATE state cannot write because
// the disk is full, QUIT answers -ERR [SYS/TEMP] (RFC 3206: a temporary
// condition) and the messages stay.
func TestQuitDiskFullIsSysTemp(t *testing.T) {
	env := startServer(t, func(o *Options) {
		b := o.Backend.(*testBackend)
		o.Backend = &testBackend{users: b.users, store: fullStore{b.store}}
	})
	env.appendMessage(t, "alice", "Subject: x\r\n\r\nx\r\n")
	c := dialRaw(t, env.addr)
	c.login("alice")
	c.cmd("DELE 1", `\+OK .*`)
	c.cmd("QUIT", `-ERR \[SYS/TEMP\] .*`)
	if _, msgs := env.inbox(t, "alice"); len(msgs) != 1 {
		t.Fatalf("%d messages left, want 1", len(msgs))
	}
}

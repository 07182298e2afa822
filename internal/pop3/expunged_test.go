package pop3

import (
	"context"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/mailstore"
)

// TestExpungedByOtherSession: a message expunged elsewhere (IMAP) after
// the POP3 snapshot still has its number; RETR either serves it (the
// blob outlives the expunge until garbage collection) or answers -ERR,
// and the session goes on; QUIT after DELE of it succeeds.
func TestExpungedByOtherSession(t *testing.T) {
	e := startServer(t)
	uid := e.appendMessage(t, "alice", testMsg)
	e.appendMessage(t, "alice", "Subject: other\r\n\r\nx\r\n") // not sharing the first one's blob
	c := dialRaw(t, e.addr)
	c.login("alice")
	ctx := context.Background()
	mb, _ := e.inbox(t, "alice")
	if _, err := e.store.SetFlags(ctx, "alice", mb.ID, []uint32{uid}, mailstore.FlagsAdd, []string{`\Deleted`}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Expunge(ctx, "alice", mb.ID, nil); err != nil {
		t.Fatal(err)
	}
	c.send("RETR 1\r\n")
	if l := c.readLine(); l[0] == '+' {
		c.multi()
	} else {
		t.Logf("RETR of an expunged message: %s", l)
	}
	c.cmd("STAT", `\+OK 2 \d+`)
	c.cmd("DELE 1", `\+OK .*`)
	c.cmd("DELE 2", `\+OK .*`)
	c.cmd("QUIT", `\+OK Logging out, messages deleted\.`)
	if _, msgs := e.inbox(t, "alice"); len(msgs) != 0 {
		t.Fatalf("%d messages left", len(msgs))
	}
}

// TestExpungedAndCollected: once garbage collection has removed the body
// of a message expunged elsewhere, RETR of it answers a plain -ERR (not a
// temporary failure) and the session goes on.
func TestExpungedAndCollected(t *testing.T) {
	e := startServer(t)
	uid := e.appendMessage(t, "alice", testMsg)
	c := dialRaw(t, e.addr)
	c.login("alice")
	ctx := context.Background()
	mb, _ := e.inbox(t, "alice")
	if _, err := e.store.SetFlags(ctx, "alice", mb.ID, []uint32{uid}, mailstore.FlagsAdd, []string{`\Deleted`}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Expunge(ctx, "alice", mb.ID, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := e.store.CollectGarbage(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("CollectGarbage = %d, %v; want 1 body deleted", n, err)
	}
	c.cmd("RETR 1", `-ERR Message was expunged by another session\.`)
	c.cmd("STAT", `\+OK 1 \d+`)
	c.cmd("QUIT", `\+OK .*`)
}

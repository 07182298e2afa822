package router_test

import (
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/blob/fsblob"
	"github.com/rookery-mail/rookery/internal/directory/sqlitedir"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/mailstore/sqlitestore"
	"github.com/rookery-mail/rookery/internal/queue"
	"github.com/rookery-mail/rookery/internal/router"
	"github.com/rookery-mail/rookery/internal/smtp/lmtp"
)

// TestRelayIsIdempotentWithLocalDelivery: the serving node's LMTP listener
// derives the same delivery ids from a relayed queue id as an in-process
// delivery of that queued message, so a message stored in-process by a node
// that then lost the store, and relayed again by the runner that took over
// its claim, is stored once; so is a relay repeated after a lost reply.
func TestRelayIsIdempotentWithLocalDelivery(t *testing.T) {
	ctx := context.Background()
	dir, err := sqlitedir.Open(ctx, filepath.Join(t.TempDir(), "dir.db"), sqlitedir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	if err := dir.AddDomain(ctx, "local.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := dir.AddAccount(ctx, "alice@local.test", "pw-alice-1234", "s1"); err != nil {
		t.Fatal(err)
	}
	blobs, err := fsblob.Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlitestore.Open(ctx, sqlitestore.Options{Name: "s1", Path: filepath.Join(t.TempDir(), "s1.db"), Blobs: blobs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })

	// The serving node: an LMTP listener over its in-process deliverer.
	serving := &router.LocalDeliverer{Router: router.New(dir, map[string]mailstore.Store{"s1": store})}
	srv := lmtp.New(lmtp.Options{Hostname: "ms1.local.test", Resolver: serving.Router, Deliverer: serving,
		IdempotencyPeers: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })

	// A node without the store relays to it.
	relaying := &router.LocalDeliverer{Router: router.New(dir, nil), Relay: &router.Relay{
		Locate: func(context.Context, string, bool) (string, error) { return l.Addr().String(), nil }, Hostname: "mx1.local.test"}}

	m := &queue.Message{ID: queue.NewID(time.Now()), From: "bob@remote.test", Body: []byte("Subject: once\r\n\r\nonly once\r\n"),
		Recipients: []queue.Recipient{{Address: "alice@local.test"}}}
	for i, d := range []queue.Deliverer{serving, relaying, relaying} {
		res := d.Deliver(ctx, []*queue.Message{m})
		if len(res) != 1 || res[0].Status != queue.Delivered {
			t.Fatalf("delivery %d: %+v", i, res)
		}
	}
	mb, err := store.Mailbox(ctx, "alice@local.test", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Status(ctx, "alice@local.test", mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != 1 {
		t.Fatalf("INBOX has %d messages after one in-process delivery and two relays of one queued message, want 1", st.Messages)
	}
	// A different queued message is not mistaken for it.
	m2 := *m
	m2.ID = queue.NewID(time.Now())
	if res := relaying.Deliver(ctx, []*queue.Message{&m2}); res[0].Status != queue.Delivered {
		t.Fatalf("second message: %+v", res)
	}
	if st, _ = store.Status(ctx, "alice@local.test", mb.ID); st.Messages != 2 {
		t.Fatalf("INBOX has %d messages after a second queued message, want 2", st.Messages)
	}
}

package router

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/rookery-mail/rookery/internal/directory/sqlitedir"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/queue"
)

// fullStore is a mailstore on a full disk.
type fullStore struct{ mailstore.Store }

func (fullStore) EnsureAccount(context.Context, string) error { return nil }

func (fullStore) Deliver(_ context.Context, ds []mailstore.Delivery) ([]mailstore.DeliveryResult, error) {
	res := make([]mailstore.DeliveryResult, len(ds))
	for i := range res {
		res[i].Err = fmt.Errorf("store body: %w", mailstore.ErrNoSpace)
	}
	return res, nil
}

// TestLocalDeliveryDiskFullIsNoSpace: a delivery that fails because the
// mailstore's disk is full is retried (Pending) and marked NoSpace, so the
// queue retries it once space returns.
func TestLocalDeliveryDiskFullIsNoSpace(t *testing.T) {
	ctx := context.Background()
	dir, err := sqlitedir.Open(ctx, filepath.Join(t.TempDir(), "dir.db"), sqlitedir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	if err := dir.AddDomain(ctx, "local.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := dir.AddAccount(ctx, "alice@local.test", "pw-alice-1234", ""); err != nil {
		t.Fatal(err)
	}
	d := &LocalDeliverer{Router: New(dir, map[string]mailstore.Store{"default": fullStore{}})}
	res := d.Deliver(ctx, []*queue.Message{{ID: "m1", Body: []byte("Subject: x\r\n\r\nx\r\n"),
		Recipients: []queue.Recipient{{Address: "alice@local.test"}}}})
	if len(res) != 1 || res[0].Status != queue.Pending || !res[0].NoSpace {
		t.Fatalf("got %+v, want one Pending NoSpace result", res)
	}
}

package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rookery-mail/rookery/internal/config"
	"github.com/rookery-mail/rookery/internal/mailstore"
	"github.com/rookery-mail/rookery/internal/testsvc"
)

// TestStoreFence: StoreOptions.Fence reaches a postgres store, asked with
// the store's name, and a lost lease refuses its writes; a sqlite store
// ignores it.
func TestStoreFence(t *testing.T) {
	dsn := testsvc.Postgres(t)
	ctx := t.Context()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `CREATE SCHEMA cluster;
		CREATE TABLE cluster.leases (store text PRIMARY KEY, holder text, epoch bigint NOT NULL DEFAULT 0,
			expires_at timestamptz NOT NULL DEFAULT 'epoch');
		INSERT INTO cluster.leases VALUES ('pg1', 'n1', 4, now() + interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "rookery.toml")
	body := fmt.Sprintf(`hostname = "e.example.test"
data_dir = "."
[postgres]
dsn = %q
[[mailstores]]
name = "pg1"
engine = "postgres"
blobs = "fs:blobs/pg1"
[[mailstores]]
name = "lite"
`, dsn)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	var held atomic.Bool
	held.Store(true)
	var mu sync.Mutex
	asked := map[string]bool{}
	opts := StoreOptions{FenceTable: "cluster.leases", Fence: func(store string) (string, int64, bool) {
		mu.Lock()
		asked[store] = true
		mu.Unlock()
		return "n1", 4, held.Load()
	}}
	stores, err := Stores(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stores {
		defer s.Close()
	}
	if err := stores["pg1"].EnsureAccount(ctx, "alice"); err != nil {
		t.Fatalf("with the lease: %v", err)
	}
	held.Store(false)
	if err := stores["pg1"].EnsureAccount(ctx, "bob"); !errors.Is(err, mailstore.ErrNotServed) {
		t.Errorf("without the lease: %v, want ErrNotServed", err)
	}
	if err := stores["lite"].EnsureAccount(ctx, "bob"); err != nil {
		t.Errorf("sqlite store: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !asked["pg1"] || asked["lite"] {
		t.Errorf("Fence asked about %v, want only pg1", asked)
	}
}

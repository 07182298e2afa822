package sqlitedir_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/directory/dirtest"
	"github.com/rookery-mail/rookery/internal/directory/sqlitedir"
)

func open(t *testing.T, path string, opts sqlitedir.Options) *sqlitedir.DB {
	t.Helper()
	db, err := sqlitedir.Open(t.Context(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func TestConformance(t *testing.T) {
	dirtest.Run(t, func(t *testing.T) directory.Directory {
		return open(t, filepath.Join(t.TempDir(), "directory.db"), sqlitedir.Options{})
	})
}

// The admin CLI and the server open the same file; each must see the
// other's committed changes without a restart.
func TestTwoHandles(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "directory.db")
	server := open(t, path, sqlitedir.Options{})
	cli := open(t, path, sqlitedir.Options{})

	if err := cli.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	if ok, err := server.IsLocalDomain(ctx, "example.test"); err != nil || !ok {
		t.Fatalf("server IsLocalDomain = %v, %v", ok, err)
	}
	if _, err := cli.AddAccount(ctx, "alice@example.test", "pw1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := server.Authenticate(ctx, "alice@example.test", "pw1"); err != nil {
		t.Fatalf("server Authenticate: %v", err)
	}
	if err := cli.SetPassword(ctx, "alice@example.test", "pw2"); err != nil {
		t.Fatal(err)
	}
	if _, err := server.Authenticate(ctx, "alice@example.test", "pw1"); !errors.Is(err, directory.ErrAuthFailed) {
		t.Fatalf("server Authenticate old password: %v", err)
	}
	if err := server.AddAlias(ctx, "info@example.test", []string{"alice@example.test"}); err != nil {
		t.Fatal(err)
	}
	res, err := cli.Resolve(ctx, "info@example.test")
	if err != nil || len(res.Accounts) != 1 || res.Accounts[0].Address != "alice@example.test" {
		t.Fatalf("cli Resolve = %v, %v", res, err)
	}
}

// Concurrent writers from two handles must not fail with SQLITE_BUSY: the
// busy timeout and immediate transactions serialize them.
func TestConcurrentWriters(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "directory.db")
	a := open(t, path, sqlitedir.Options{})
	b := open(t, path, sqlitedir.Options{})
	if err := a.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	const n = 20
	errs := make(chan error, 2*n)
	for i := range n {
		for j, db := range []*sqlitedir.DB{a, b} {
			go func() {
				errs <- db.AddAlias(ctx, "list@example.test", []string{string(rune('a'+i)) + string(rune('0'+j)) + "@example.test"})
			}()
		}
	}
	for range 2 * n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	as, err := a.Aliases(ctx, "example.test")
	if err != nil || len(as) != 1 || len(as[0].Targets) != 2*n {
		t.Fatalf("Aliases = %v, %v; want one alias with %d targets", as, err, 2*n)
	}
}

func TestDefaultMailstore(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	for _, c := range []struct{ opt, want string }{{"", "default"}, {"store-a", "store-a"}} {
		db := open(t, filepath.Join(dir, c.want+".db"), sqlitedir.Options{DefaultMailstore: c.opt})
		if err := db.AddDomain(ctx, "example.test"); err != nil {
			t.Fatal(err)
		}
		a, err := db.AddAccount(ctx, "alice@example.test", "pw", "")
		if err != nil || a.Mailstore != c.want {
			t.Fatalf("AddAccount with default %q = %+v, %v; want mailstore %q", c.opt, a, err, c.want)
		}
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "directory.db")
	db, err := sqlitedir.Open(ctx, path, sqlitedir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open(t, path, sqlitedir.Options{})
	if ok, err := db.IsLocalDomain(ctx, "example.test"); err != nil || !ok {
		t.Fatalf("after reopen IsLocalDomain = %v, %v", ok, err)
	}
}

func TestOpenRejectsDSNPath(t *testing.T) {
	if _, err := sqlitedir.Open(t.Context(), filepath.Join(t.TempDir(), "x.db?mode=ro"), sqlitedir.Options{}); err == nil {
		t.Fatal("Open accepted a path with '?'")
	}
}

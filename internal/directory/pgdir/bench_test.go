package pgdir

import (
	"path/filepath"
	"testing"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/directory/sqlitedir"
	"github.com/rookery-mail/rookery/internal/testsvc"
)

// engines opens one populated directory per engine, for comparing them in
// one run: domain example.test, account alice (password "pw") and alias
// info -> alice.
func engines(b *testing.B) map[string]directory.Directory {
	ctx := b.Context()
	lite, err := sqlitedir.Open(ctx, filepath.Join(b.TempDir(), "directory.db"), sqlitedir.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { lite.Close() })
	out := map[string]directory.Directory{
		"sqlitedir": lite,
		"pgdir":     open(b, testsvc.Postgres(b), newSchema()),
	}
	for _, d := range out {
		if err := d.AddDomain(ctx, "example.test"); err != nil {
			b.Fatal(err)
		}
		if _, err := d.AddAccount(ctx, "alice@example.test", "pw", ""); err != nil {
			b.Fatal(err)
		}
		if err := d.AddAlias(ctx, "info@example.test", []string{"alice@example.test"}); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

func BenchmarkAuthenticate(b *testing.B) {
	dirs := engines(b)
	for _, name := range []string{"sqlitedir", "pgdir"} {
		d := dirs[name]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := d.Authenticate(b.Context(), "alice@example.test", "pw"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkResolve resolves an alias to an account: the lookups of one
// RCPT TO at the MX.
func BenchmarkResolve(b *testing.B) {
	dirs := engines(b)
	for _, name := range []string{"sqlitedir", "pgdir"} {
		d := dirs[name]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := d.Resolve(b.Context(), "info@example.test"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package pgdir_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/directory/dirtest"
	"github.com/rookery-mail/rookery/internal/directory/pgdir"
	"github.com/rookery-mail/rookery/internal/testsvc"
)

// schemaSeq names the schemas of one test binary.
var schemaSeq atomic.Int64

func newSchema() string { return fmt.Sprintf("dir%d", schemaSeq.Add(1)) }

func open(t testing.TB, dsn, schema string, opts pgdir.Options) *pgdir.Dir {
	t.Helper()
	opts.DSN, opts.Schema = dsn, schema
	d, err := pgdir.Open(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	return d
}

// TestConformance runs the suite with a fresh schema per subtest in one
// database: measured against a fresh database per subtest (testsvc keeps
// one made ahead), both spend their time in argon2id; the schema was no
// slower (16-18 s against 17-28 s on a loaded machine) and exercises
// Options.Schema.
func TestConformance(t *testing.T) {
	dsn := testsvc.Postgres(t)
	dirtest.Run(t, func(t *testing.T) directory.Directory {
		return open(t, dsn, newSchema(), pgdir.Options{})
	})
}

package pgdir

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/rookery-mail/rookery/internal/directory"
	"github.com/rookery-mail/rookery/internal/directory/dirtest"
	"github.com/rookery-mail/rookery/internal/testsvc"
)

// schemaSeq names the schemas of one test binary; each directory gets a
// fresh schema in its test's database, which is much faster than a
// database per directory (CREATE DATABASE copies a template with fsync).
var schemaSeq atomic.Int64

func newSchema() string { return fmt.Sprintf("d%d", schemaSeq.Add(1)) }

// open opens a handle on schema of the database at dsn, closed at t's
// cleanup.
func open(t testing.TB, dsn, schema string) *Dir {
	t.Helper()
	d, err := Open(t.Context(), Options{DSN: dsn, Schema: schema, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestConformance(t *testing.T) {
	dsn := testsvc.Postgres(t)
	dirtest.Run(t, func(t *testing.T) directory.Directory {
		return open(t, dsn, newSchema())
	})
}

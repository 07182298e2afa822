package testsvc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const pgHint = "To run PostgreSQL tests: apt-get install postgresql-15 (or set PG_BINDIR to a PostgreSQL 15 bin directory)."

var pg struct {
	once    sync.Once
	admin   string // DSN of the cluster's "postgres" database
	err     error
	started time.Duration
}

// Postgres returns the DSN of a new, empty database on the test binary's
// PostgreSQL cluster, starting the cluster on first use. The database is
// dropped when the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	pg.once.Do(startPostgres)
	if pg.err != nil {
		unavailable(t, "PostgreSQL", pg.err, pgHint)
	}
	name := uniqueName(t, "_", 63)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := adminExec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("testsvc: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE: a test that leaked a connection must not fail the next one.
		if err := adminExec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("testsvc: drop database %s: %v", name, err)
		}
	})
	return pgDSN(pg.admin, name)
}

func startPostgres() {
	start := time.Now()
	port, err := freePort()
	if err != nil {
		pg.err = err
		return
	}
	bin := os.Getenv("PG_BINDIR")
	if bin == "" {
		bin = "/usr/lib/postgresql/15/bin"
	}
	if _, err := os.Stat(filepath.Join(bin, "initdb")); err != nil {
		pg.err = fmt.Errorf("%w: %v", errMissing, err)
		return
	}
	dir, err := publicTempDir("rookery-pg-")
	if err != nil {
		pg.err = err
		return
	}
	if pg.err = runScript("pg-start.sh", []string{"PG_BINDIR=" + bin}, dir, fmt.Sprint(port)); pg.err != nil {
		return
	}
	pg.admin = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	pg.started = time.Since(start)
}

// pgDSN is the admin DSN pointed at database name.
func pgDSN(admin, name string) string {
	cfg, _ := pgx.ParseConfig(admin)
	return fmt.Sprintf("postgres://postgres@%s:%d/%s?sslmode=disable", cfg.Host, cfg.Port, name)
}

func adminExec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, pg.admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

package testsvc

import (
	"context"
	"fmt"
	"net/url"
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
	spares  chan spare // empty databases made ahead of need by makeSpares
}

// spare is an empty database made ahead of need, or why it could not be made.
type spare struct {
	name string
	err  error
}

// Postgres returns the DSN of a new, empty database on the test binary's
// PostgreSQL cluster, starting the cluster on first use. The database is
// dropped after the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	pg.once.Do(startPostgres)
	if pg.err != nil {
		unavailable(t, "PostgreSQL", pg.err, pgHint)
	}
	s := <-pg.spares
	if s.err != nil {
		t.Fatalf("testsvc: create database: %v", s.err)
	}
	// Renamed after the test, so a failing test's statements in the server log
	// and in pg_stat_activity say whose they are.
	name := uniqueName(t, "_", 63)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := adminExec(ctx, "ALTER DATABASE "+pgIdent(s.name)+" RENAME TO "+pgIdent(name)); err != nil {
		t.Fatalf("testsvc: rename database %s: %v", s.name, err)
	}
	t.Cleanup(func() {
		// In the background, and its error unreported: the whole cluster is
		// discarded when the binary exits, so the drop only bounds disk use.
		// FORCE: a test that leaked a connection must not keep its database.
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_ = adminExec(ctx, "DROP DATABASE "+pgIdent(name)+" WITH (FORCE)")
		}()
	})
	return pgDSN(pg.admin, name)
}

// makeSpares keeps empty databases ready: CREATE DATABASE copies a template
// with fsync on, which takes a second or more on a busy machine; made while
// the previous test runs, that second is mostly hidden.
func makeSpares() {
	for {
		name := fmt.Sprintf("spare_%d_%d", os.Getpid(), seq.Add(1))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := adminExec(ctx, "CREATE DATABASE "+pgIdent(name))
		cancel()
		pg.spares <- spare{name, err}
	}
}

func pgIdent(name string) string { return pgx.Identifier{name}.Sanitize() }

func startPostgres() {
	start := time.Now()
	pg.spares = make(chan spare, 1)
	if dsn := os.Getenv("ROOKERY_TEST_PG_DSN"); dsn != "" {
		pg.admin = dsn
		go makeSpares()
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
	port, err := startServer("pg-start.sh", "pg-stop.sh", "rookery-pg-", []string{"PG_BINDIR=" + bin})
	if err != nil {
		pg.err = err
		return
	}
	pg.admin = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	pg.started = time.Since(start)
	go makeSpares()
}

// pgDSN is the admin DSN pointed at database name.
func pgDSN(admin, name string) string {
	u, err := url.Parse(admin)
	if err != nil || u.Scheme == "" {
		panic("testsvc: the PostgreSQL DSN must be a URL (postgres://...): " + admin)
	}
	u.Path = "/" + name
	return u.String()
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

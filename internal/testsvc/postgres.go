package testsvc

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
	bin, err := pgBinDir()
	if err != nil {
		pg.err = err
		return
	}
	port, _, err := startServer("pg-start.sh", "pg-stop.sh", "rookery-pg-", []string{"PG_BINDIR=" + bin})
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

// pgBinDir is the PostgreSQL 15 bin directory ($PG_BINDIR or Debian's).
func pgBinDir() (string, error) {
	bin := os.Getenv("PG_BINDIR")
	if bin == "" {
		bin = "/usr/lib/postgresql/15/bin"
	}
	if _, err := os.Stat(filepath.Join(bin, "initdb")); err != nil {
		return "", fmt.Errorf("%w: %v", errMissing, err)
	}
	return bin, nil
}

// PGServer is a PostgreSQL cluster of one test's own, for tests that stop,
// kill or restart the database under load (the shared cluster of
// Postgres must stay up for the other tests).
type PGServer struct {
	DSN  string // superuser DSN of its "postgres" database
	dir  string
	port int
	env  []string
}

// OwnPostgres starts a private cluster, stopped when the test ends.
func OwnPostgres(t testing.TB) *PGServer {
	t.Helper()
	bin, err := pgBinDir()
	if err != nil {
		unavailable(t, "PostgreSQL", err, pgHint)
	}
	env := []string{"PG_BINDIR=" + bin}
	port, dir, err := startServer("pg-start.sh", "pg-stop.sh", "rookery-ownpg-", env)
	if err != nil {
		unavailable(t, "PostgreSQL", err, pgHint)
	}
	s := &PGServer{DSN: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port), dir: dir, port: port, env: env}
	t.Cleanup(func() {
		_ = runScript("pg-stop.sh", nil, dir)
		_ = os.RemoveAll(dir)
	})
	return s
}

// Stop shuts the cluster down (fast shutdown: sessions are disconnected).
func (s *PGServer) Stop(t testing.TB) {
	t.Helper()
	if err := runScript("pg-stop.sh", nil, s.dir); err != nil {
		t.Fatalf("testsvc: stop PostgreSQL: %v", err)
	}
}

// Kill ends the postmaster with SIGKILL: the next Start runs crash recovery.
func (s *PGServer) Kill(t testing.TB) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dir, "data", "postmaster.pid"))
	if err != nil {
		t.Fatalf("testsvc: kill PostgreSQL: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		t.Fatalf("testsvc: kill PostgreSQL: postmaster.pid: %v", err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("testsvc: kill PostgreSQL: %v", err)
	}
	for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
		time.Sleep(50 * time.Millisecond)
	}
}

// Start starts the stopped or killed cluster again on the same port.
func (s *PGServer) Start(t testing.TB) {
	t.Helper()
	if err := runScript("pg-start.sh", s.env, s.dir, strconv.Itoa(s.port)); err != nil {
		t.Fatalf("testsvc: restart PostgreSQL: %v", err)
	}
}

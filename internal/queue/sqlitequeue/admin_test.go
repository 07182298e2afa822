package sqlitequeue

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/queue"
	"github.com/rookery-mail/rookery/internal/queue/queuetest"
)

// TestConformance runs the queue.Store suite against this engine.
func TestConformance(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) func() queue.Store {
		path := filepath.Join(t.TempDir(), "queue.db")
		return func() queue.Store {
			q, err := Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			return q
		}
	})
}

// TestDeleteCascades: no recipient row outlives its message.
func TestDeleteCascades(t *testing.T) {
	ctx := context.Background()
	q, _ := open(t)
	defer q.Close()
	m := msg("x\r\n", "a@x.test", "b@x.test")
	q.Enqueue(ctx, m)
	if err := q.Delete(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	var n int
	q.db.QueryRow(`SELECT COUNT(*) FROM recipients`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d recipient rows left after Delete", n)
	}
}

// TestSecondProcess: the admin CLI opens the queue while the server has it
// open (here a second handle in one process); both must work (WAL,
// busy_timeout).
func TestSecondProcess(t *testing.T) {
	ctx := context.Background()
	server, path := open(t)
	defer server.Close()
	admin, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	done := make(chan error, 1)
	go func() {
		for i := 0; i < 50; i++ {
			if err := server.Enqueue(ctx, msg("x\r\n", "a@x.test")); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := 0; i < 50; i++ {
		all, err := admin.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) > 0 {
			if err := admin.Hold(ctx, all[0].ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st, err := admin.Stats(ctx); err != nil || st.Messages != 50 {
		t.Fatalf("Stats = %+v, %v", st, err)
	}
}

// TestOpenV1 opens databases written by earlier builds: user_version 1 with
// and without the remote column.
func TestOpenV1(t *testing.T) {
	for _, withRemote := range []bool{false, true} {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "queue.db")
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		remote := ""
		if withRemote {
			remote = "remote INTEGER NOT NULL DEFAULT 0,"
		}
		for _, stmt := range []string{
			`CREATE TABLE messages (id TEXT PRIMARY KEY, mail_from TEXT NOT NULL, received INTEGER NOT NULL, size INTEGER NOT NULL, smtputf8 INTEGER NOT NULL, body BLOB NOT NULL)`,
			`CREATE TABLE recipients (message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE, address TEXT NOT NULL, orig TEXT NOT NULL, ` + remote + `
				status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL, last_error TEXT NOT NULL DEFAULT '', PRIMARY KEY (message_id, address))`,
			`CREATE INDEX recipients_due ON recipients(status, next_attempt)`,
			`INSERT INTO messages VALUES ('old1', 's@remote.test', 1, 3, 0, X'780D0A')`,
			`INSERT INTO recipients(message_id, address, orig, status, attempts, next_attempt, last_error) VALUES ('old1', 'a@x.test', 'a@x.test', 'pending', 2, 5, 'store down')`,
			`PRAGMA user_version = 1`,
		} {
			if _, err := db.Exec(stmt); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
		q, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("remote=%v: Open v1: %v", withRemote, err)
		}
		due, err := q.Due(ctx, queue.ClaimRequest{Now: time.Now(), Limit: 10, Local: true, Remote: true})
		if err != nil || len(due) != 1 || due[0].ID != "old1" || due[0].Recipients[0].Attempts != 2 || due[0].Held || due[0].Warned {
			t.Fatalf("remote=%v: Due after migration = %+v, %v", withRemote, due, err)
		}
		if err := q.Hold(ctx, "old1"); err != nil {
			t.Fatal(err)
		}
		var v int
		q.db.QueryRow(`PRAGMA user_version`).Scan(&v)
		q.Close()
		if v != schemaVersion {
			t.Fatalf("user_version = %d, want %d", v, schemaVersion)
		}
		// Opening again is a no-op and keeps the data.
		q, err = Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if m, err := q.Get(ctx, "old1"); err != nil || !m.Held {
			t.Fatalf("reopened: %+v, %v", m, err)
		}
		q.Close()
	}
}

func TestOpenNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	db, _ := sql.Open("sqlite", "file:"+path)
	db.Exec(`PRAGMA user_version = 99`)
	db.Close()
	if q, err := Open(context.Background(), path); err == nil {
		q.Close()
		t.Fatal("a database from a newer version must not be opened")
	}
}

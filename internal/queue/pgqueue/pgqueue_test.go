package pgqueue

import (
	"context"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rookery-mail/rookery/internal/blob"
	"github.com/rookery-mail/rookery/internal/blob/s3blob"
	"github.com/rookery-mail/rookery/internal/queue"
	"github.com/rookery-mail/rookery/internal/queue/queuetest"
	"github.com/rookery-mail/rookery/internal/testsvc"
)

// dirKeyed is a blob.Keyed over a directory, with switches to make it fail.
type dirKeyed struct {
	dir                 string
	failPut, failDelete atomic.Bool
}

var errBroken = errors.New("body store broken")

func (d *dirKeyed) path(key string) string { return filepath.Join(d.dir, url.PathEscape(key)) }

func (d *dirKeyed) PutKey(_ context.Context, key string, r io.Reader) (int64, error) {
	if d.failPut.Load() {
		return 0, errBroken
	}
	f, err := os.CreateTemp(d.dir, ".put-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	n, err := io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	return n, os.Rename(f.Name(), d.path(key))
}

func (d *dirKeyed) OpenKey(_ context.Context, key string) (io.ReadCloser, error) {
	f, err := os.Open(d.path(key))
	if errors.Is(err, os.ErrNotExist) {
		return nil, blob.ErrNotFound
	}
	return f, err
}

func (d *dirKeyed) DeleteKey(_ context.Context, key string) error {
	if d.failDelete.Load() {
		return errBroken
	}
	if err := os.Remove(d.path(key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func (d *dirKeyed) has(key string) bool {
	_, err := os.Stat(d.path(key))
	return err == nil
}

// opener returns a function opening handles on one new queue (its own
// database) whose bodies are in bodies.
func opener(t *testing.T, bodies blob.Keyed) func() *Queue {
	dsn := testsvc.Postgres(t)
	return func() *Queue {
		q, err := Open(context.Background(), Options{DSN: dsn, Bodies: bodies})
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
}

func dirOpener(t *testing.T) (func() *Queue, *dirKeyed) {
	d := &dirKeyed{dir: t.TempDir()}
	return opener(t, d), d
}

func TestConformance(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) func() queue.Store {
		open, _ := dirOpener(t)
		return func() queue.Store { return open() }
	})
}

// TestConformanceS3 runs the suite with the bodies on a real S3 server.
func TestConformanceS3(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) func() queue.Store {
		endpoint, bucket, ak, sk := testsvc.S3(t)
		bodies, err := s3blob.Open(context.Background(), s3blob.Config{Endpoint: endpoint, Region: "us-east-1",
			AccessKey: ak, SecretKey: sk, Bucket: bucket, Prefix: "queue"})
		if err != nil {
			t.Fatal(err)
		}
		open := opener(t, bodies)
		return func() queue.Store { return open() }
	})
}

func message(rcpts ...string) *queue.Message {
	m := &queue.Message{From: "s@remote.test", Received: time.Now(), Body: []byte("Subject: x\r\n\r\nx\r\n")}
	for _, r := range rcpts {
		m.Recipients = append(m.Recipients, queue.Recipient{Address: r, Orig: r})
	}
	return m
}

// TestBodyStoreDownFailsEnqueue: without a durable body there is no row:
// Enqueue fails and nothing is queued.
func TestBodyStoreDownFailsEnqueue(t *testing.T) {
	ctx := context.Background()
	open, bodies := dirOpener(t)
	q := open()
	defer q.Close()
	bodies.failPut.Store(true)
	m := message("a@x.test")
	if err := q.Enqueue(ctx, m); !errors.Is(err, errBroken) {
		t.Fatalf("Enqueue with the body store down = %v, want its error", err)
	}
	if all, err := q.List(ctx); err != nil || len(all) != 0 {
		t.Fatalf("List = %d messages, %v; want none", len(all), err)
	}
	if _, err := q.Get(ctx, m.ID); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Get = %v, want ErrNotFound", err)
	}
	bodies.failPut.Store(false)
	if err := q.Enqueue(ctx, message("a@x.test")); err != nil {
		t.Fatalf("Enqueue once the store is back: %v", err)
	}
}

// TestBodyRemovedWithMessage: a body goes with its message, and one whose
// removal failed is removed by a later Sweep (Purge runs it).
func TestBodyRemovedWithMessage(t *testing.T) {
	ctx := context.Background()
	open, bodies := dirOpener(t)
	q := open()
	defer q.Close()
	delivered, deleted, stuck := message("a@x.test"), message("b@x.test"), message("c@x.test")
	for _, m := range []*queue.Message{delivered, deleted, stuck} {
		if err := q.Enqueue(ctx, m); err != nil {
			t.Fatal(err)
		}
		if !bodies.has(m.ID) {
			t.Fatalf("no body for %s after Enqueue", m.ID)
		}
	}
	if err := q.Complete(ctx, []queue.Result{{MessageID: delivered.ID, Recipient: "a@x.test", Status: queue.Delivered}}); err != nil {
		t.Fatal(err)
	}
	if err := q.Delete(ctx, deleted.ID); err != nil {
		t.Fatal(err)
	}
	if bodies.has(delivered.ID) || bodies.has(deleted.ID) {
		t.Fatal("body left after its message was delivered or deleted")
	}
	bodies.failDelete.Store(true)
	if err := q.Delete(ctx, stuck.ID); err != nil {
		t.Fatalf("Delete with the body store failing = %v; the row is gone, the body is garbage", err)
	}
	if !bodies.has(stuck.ID) {
		t.Fatal("test broken: the failing store removed the body")
	}
	if n, err := q.Sweep(ctx); n != 0 || err == nil {
		t.Fatalf("Sweep with the store failing = %d, %v; want 0 and an error", n, err)
	}
	bodies.failDelete.Store(false)
	if _, err := q.Purge(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if bodies.has(stuck.ID) {
		t.Fatal("Purge's sweep left the garbage body")
	}
	if n, err := q.Sweep(ctx); n != 0 || err != nil {
		t.Fatalf("second Sweep = %d, %v; want nothing left", n, err)
	}
}

// TestConcurrentOpen: nodes starting together migrate one schema once.
func TestConcurrentOpen(t *testing.T) {
	dsn := testsvc.Postgres(t)
	bodies := &dirKeyed{dir: t.TempDir()}
	type opened struct {
		q   *Queue
		err error
	}
	ch := make(chan opened, 4)
	for range 4 {
		go func() {
			q, err := Open(context.Background(), Options{DSN: dsn, Bodies: bodies})
			ch <- opened{q, err}
		}()
	}
	for range 4 {
		o := <-ch
		if o.err != nil {
			t.Errorf("concurrent Open: %v", o.err)
			continue
		}
		defer o.q.Close()
	}
	q, err := Open(context.Background(), Options{DSN: dsn, Bodies: bodies})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var n int
	if err := q.pool.QueryRow(context.Background(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(migrations) {
		t.Fatalf("schema_migrations has %d rows, %v; want %d", n, err, len(migrations))
	}
}

// TestGroupCommitAllOrNone: a group is one transaction although it is sent
// as one batch without BEGIN: when one message of it cannot be inserted
// (here its ID is taken), none of the group is committed.
func TestGroupCommitAllOrNone(t *testing.T) {
	ctx := context.Background()
	open, _ := dirOpener(t)
	q := open()
	defer q.Close()
	old := message("a@x.test")
	if err := q.Enqueue(ctx, old); err != nil {
		t.Fatal(err)
	}
	fresh, dup := message("b@x.test"), message("c@x.test")
	fresh.ID, dup.ID = "fresh", old.ID
	if err := q.insert(ctx, []*queue.Message{fresh, dup}); err == nil {
		t.Fatal("a group with a taken ID was committed")
	}
	if _, err := q.Get(ctx, "fresh"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Get of the group's other message = %v, want ErrNotFound (all or none)", err)
	}
	if st, err := q.Stats(ctx); err != nil || st.Messages != 1 || st.Recipients != 1 {
		t.Fatalf("Stats = %+v, %v; want only the first message", st, err)
	}
}

// TestDueSkipsLockedMessages: a message another node is claiming at this
// moment (its row locked) is passed over, not waited for: Due returns the
// next one at once, and the locked one once the lock is gone.
func TestDueSkipsLockedMessages(t *testing.T) {
	ctx := context.Background()
	open, _ := dirOpener(t)
	q := open()
	defer q.Close()
	first, second := message("a@x.test"), message("b@x.test")
	second.Received = first.Received.Add(time.Second)
	for _, m := range []*queue.Message{first, second} {
		if err := q.Enqueue(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := q.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT id FROM messages WHERE id = $1 FOR UPDATE`, first.ID); err != nil {
		t.Fatal(err)
	}
	req := queue.ClaimRequest{Owner: "n", Now: time.Now().Add(time.Minute), TTL: time.Hour, Limit: 10, Local: true, Remote: true}
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	due, err := q.Due(waitCtx, req)
	if err != nil || len(due) != 1 || due[0].ID != second.ID {
		t.Fatalf("Due beside a locked message = %+v, %v; want only the unlocked one, without waiting", due, err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	due, err = q.Due(ctx, req)
	if err != nil || len(due) != 1 || due[0].ID != first.ID {
		t.Fatalf("Due after the lock = %+v, %v; want the first message", due, err)
	}
}

// TestNewerSchemaRefused: a node older than the schema does not misread it.
func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	dsn := testsvc.Postgres(t)
	bodies := &dirKeyed{dir: t.TempDir()}
	q, err := Open(ctx, Options{DSN: dsn, Bodies: bodies, Schema: "q2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.pool.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	q.Close()
	if q, err := Open(ctx, Options{DSN: dsn, Bodies: bodies, Schema: "q2"}); err == nil {
		q.Close()
		t.Fatal("a schema from a newer version must not be opened")
	}
	// Another schema in the same database is another queue.
	if q, err := Open(ctx, Options{DSN: dsn, Bodies: bodies}); err != nil {
		t.Fatalf("Open of the default schema beside it: %v", err)
	} else {
		q.Close()
	}
}
